import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { exportPKCS8 } from 'jose';
import { loadConfig } from '../../src/config';
import { CORPORA } from '../helpers/corpora';
import { makeClient, writeClientsFile } from '../helpers/auth';
import { startTestGateway, type TestGateway } from '../helpers/gateway';

const run = promisify(execFile);
const BIN = join(__dirname, '..', '..', 'bin', 'fhir-gateway.js');
const cli = async (args: string[], env: Record<string, string> = {}) => {
  const r = await run(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, maxBuffer: 16 * 1024 * 1024 }).then((x) => ({ ...x, code: 0 }), (e) => e);
  return { code: r.code ?? 0, stderr: String(r.stderr ?? '') };
};

/** `fhir-gateway ingest` against a real gateway running AUTH=smart, tokens that last 4 s. */
describe('fhir-gateway ingest with an access token', () => {
  let gw: TestGateway;
  let keyFile: string;
  let issued = 0;
  const HL7 = join(CORPORA, 'fhir-converter', 'input', 'Hl7v2');

  beforeAll(async () => {
    const his = await makeClient('his-20001', '20001', 'system/*.cruds');
    const dir = mkdtempSync(join(tmpdir(), 'cli-token-'));
    keyFile = join(dir, 'his-20001.pem');
    writeFileSync(keyFile, await exportPKCS8(his.privateKey));
    const file = writeClientsFile([his], dir);
    gw = await startTestGateway('embedded', { mllpPort: -1, hl7: { facility: '20001' }, security: { ...loadConfig({}).security, mode: 'smart', clientsFile: file, tokenSeconds: 4 } });
    const tokens = gw.security.tokens!;
    const issue = tokens.issue.bind(tokens);
    tokens.issue = (...a) => {
      issued++;
      return issue(...a);
    };
  }, 120_000);
  afterAll(() => gw.stop());

  test('without credentials: stops at the first 401 and says what to give', async () => {
    const r = await cli(['ingest', join(HL7, 'ADT-A01-01.hl7'), '--url', gw.url]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/401, the gateway needs an access token: give --client-id and --key/);
  });

  test('with a client id and key (flags or environment): fetches a token, sends, fetches another as it expires', async () => {
    const one = await cli(['ingest', join(HL7, 'ADT-A01-01.hl7'), '--url', gw.url, '--client-id', 'his-20001', '--key', keyFile, '--kid', 'his-20001-k1']);
    expect([one.code, one.stderr]).toEqual([0, expect.stringMatching(/1 file\(s\) sent, 1 accepted/)]);
    // A dozen messages of the corpus, so the run outlasts a token or two.
    const some = mkdtempSync(join(tmpdir(), 'cli-token-hl7-'));
    for (const f of readdirSync(HL7).filter((f) => f.endsWith('.hl7')).slice(0, 12)) symlinkSync(join(HL7, f), join(some, f));
    issued = 0;
    const started = Date.now();
    const folder = await cli(['ingest', some, '--url', gw.url], { FHIR_GATEWAY_CLIENT_ID: 'his-20001', FHIR_GATEWAY_KEY_FILE: keyFile });
    const seconds = (Date.now() - started) / 1000;
    expect(folder.stderr).not.toMatch(/401/);
    expect(Number(/(\d+) accepted/.exec(folder.stderr)![1])).toBeGreaterThan(0);
    // One token per ~3 s of sending (4 s tokens, refetched in their last second), never one per file.
    expect(issued).toBeGreaterThanOrEqual(Math.max(1, Math.floor(seconds / 4)));
    expect(issued).toBeLessThanOrEqual(Math.ceil(seconds / 2) + 1);
  });

  test('a key the gateway does not know: the token endpoint\'s refusal, exit 1', async () => {
    const other = await makeClient('his-20001', '20001', 'system/*.cruds');
    const bad = join(mkdtempSync(join(tmpdir(), 'cli-token-')), 'other.pem');
    writeFileSync(bad, await exportPKCS8(other.privateKey));
    const r = await cli(['ingest', join(HL7, 'ADT-A01-01.hl7'), '--url', gw.url, '--client-id', 'his-20001', '--key', bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no access token: the token endpoint refused client his-20001: invalid_client/);
    expect(r.stderr).not.toMatch(/BEGIN|eyJ/);
  });
});
