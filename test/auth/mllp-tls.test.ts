import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { MllpClient } from '../../src/listeners/mllp-client';
import { loadConfig, type Config } from '../../src/config';
import { CORPORA } from '../helpers/corpora';
import { startTestGateway, type TestGateway } from '../helpers/gateway';
import { makeClient, tokenFor, writeClientsFile, type TestClient } from '../helpers/auth';

/** MLLP under AUTH=smart: certificates made here with the openssl command line (node:crypto cannot make X.509). */
const dir = mkdtempSync(join(tmpdir(), 'gw-mllp-tls-'));
const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });

function makeCa(name: string): void {
  ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-subj', `/CN=${name}`, '-days', '2');
}
function makeCert(name: string, ca: string, ext?: string): string {
  ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
  if (ext) writeFileSync(join(dir, `${name}.ext`), ext);
  ssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', ...(ext ? ['-extfile', `${name}.ext`] : []));
  return new X509Certificate(readFileSync(join(dir, `${name}.crt`))).fingerprint256;
}
const file = (n: string) => readFileSync(join(dir, n));

const message = (facility: string, id: string) =>
  readFileSync(join(CORPORA, 'fhir-converter', 'input', 'Hl7v2', 'ADT-A01-01.hl7'), 'latin1').replace(/^MSH\|\^~\\&\|ADTApp\|[^|]*\|/, `MSH|^~\\&|ADTApp|${facility}|`).replace('|MSG00001|', `|${id}|`);
const msa = (ack: Buffer) => /(^|\r)MSA\|([A-Z]{2})/.exec(ack.toString('latin1'))?.[2];
const smart = (clientsFile: string, extra: Partial<Config['security']> = {}): Partial<Config> => ({ mllpPort: 0, security: { ...loadConfig({}).security, mode: 'smart', clientsFile, ...extra } });

describe('MLLP under AUTH=smart', () => {
  let gw: TestGateway;
  let lab: TestClient;
  let admin: TestClient;
  let clientsFile: string;

  beforeAll(async () => {
    makeCa('ca');
    makeCa('rogue-ca');
    makeCert('server', 'ca', 'subjectAltName=IP:127.0.0.1\n');
    const good = makeCert('lab-20001', 'ca');
    makeCert('unregistered', 'ca');
    makeCert('rogue', 'rogue-ca');
    lab = await makeClient('lab-20001', '20001', 'system/*.cruds', { mllpCertSha256: good });
    admin = await makeClient('so-y-te', '00000', 'system/*.rs', { admin: true });
    clientsFile = writeClientsFile([lab, admin]);
    gw = await startTestGateway('embedded', smart(clientsFile, { mllpTls: { cert: join(dir, 'server.crt'), key: join(dir, 'server.key'), ca: join(dir, 'ca.crt') } }));
  }, 300_000);
  afterAll(() => gw?.stop());

  const connect = (cert?: string) => MllpClient.connectTls(gw.mllpPort!, { ca: file('ca.crt'), ...(cert ? { cert: file(`${cert}.crt`), key: file(`${cert}.key`) } : {}) });

  test('a registered client certificate: messages run as its facility, and are audited', async () => {
    const c = await connect('lab-20001');
    try {
      expect(msa(await c.send(message('20001', 'TLS1')))).toBe('AA');
      // The certificate says 20001: content naming another facility is refused.
      expect(msa(await c.send(message('79999', 'TLS2')))).toBe('AR');
    } finally {
      c.close();
    }
    // The AA is sent on receipt and the message is stored (and audited) by a background worker:
    // wait for both events rather than racing the worker.
    const t = await tokenFor(gw.url, admin);
    let events: any;
    for (const deadline = Date.now() + 15_000; ;) {
      await gw.security.audit!.flush();
      events = (await (await fetch(`${gw.url}/fhir/AuditEvent?agent=Device/lab-20001`, { headers: { authorization: `Bearer ${t}` } })).json()) as any;
      if ((events.entry?.length ?? 0) >= 2 || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(events.entry.length).toBeGreaterThanOrEqual(2);
    expect(events.entry[0].resource.type.code).toBe('110107');
  });

  const refused = async (cert?: string) => {
    try {
      const c = await connect(cert);
      try {
        await c.send(message('20001', `X${Math.random()}`));
      } finally {
        c.close();
      }
      return false;
    } catch {
      return true;
    }
  };

  test('no client certificate, one from another CA, or an unregistered one: no message is taken', async () => {
    expect(await refused()).toBe(true);
    expect(await refused('rogue')).toBe(true);
    expect(await refused('unregistered')).toBe(true);
  });

  test('a plain MLLP port with neither TLS nor source allow-list refuses to start; with mllpSources it admits by address', async () => {
    await expect(startTestGateway('embedded', smart(clientsFile))).rejects.toThrow(/MLLP/);
    const local = await makeClient('ris-20001', '20001', 'system/*.cruds', { mllpSources: ['127.0.0.1/32'] });
    const far = await makeClient('ris-79999', '79999', 'system/*.cruds', { mllpSources: ['10.20.0.0/16'] });
    const g = await startTestGateway('embedded', smart(writeClientsFile([local, far])));
    try {
      const c = await MllpClient.connect(g.mllpPort!);
      try {
        expect(msa(await c.send(message('20001', 'SRC1')))).toBe('AA');
        expect(msa(await c.send(message('79999', 'SRC2')))).toBe('AR');
      } finally {
        c.close();
      }
    } finally {
      await g.stop();
    }
    const only = await startTestGateway('embedded', smart(writeClientsFile([far])));
    try {
      // Not in any allow-list: closed before anything is read.
      const closed = await new Promise<boolean>((resolve) => {
        const s = netConnect({ port: only.mllpPort!, host: '127.0.0.1' }, () => s.write(`\x0b${message('79999', 'SRC3')}\x1c\r`));
        s.on('data', () => resolve(false));
        s.on('close', () => resolve(true));
        s.on('error', () => undefined);
      });
      expect(closed).toBe(true);
    } finally {
      await only.stop();
    }
  }, 240_000);
});
