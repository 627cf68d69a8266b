import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CORPORA } from '../helpers/corpora';
import { freePort } from '../helpers/redis';
import { assertion, ASSERTION_TYPE, makeClient, requestToken, tokenFor, writeClientsFile } from '../helpers/auth';

/**
 * The compiled gateway in its own process (npm test compiles first), its whole output kept:
 * start-up rules for exposure, and a scan of the log for tokens and patient data.
 */
const ENTRY = join(__dirname, '..', '..', 'dist', 'src', 'index.js');

async function launch(env: Record<string, string>): Promise<{ url: string; output: () => string; exited: Promise<number | null>; stop(): Promise<void> }> {
  const port = await freePort();
  const child = spawn(process.execPath, [ENTRY], {
    env: { ...process.env, NODE_OPTIONS: '', PORT: String(port), HOST: '127.0.0.1', MLLP_PORT: 'off', DATA_DIR: 'memory://', DATABASE_URL: '', REDIS_URL: '', LOG_LEVEL: 'debug', AUTH: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const host = env.HOST && env.HOST !== '0.0.0.0' ? env.HOST : '127.0.0.1';
  const url = `http://${host}:${port}`;
  for (let i = 0; i < 2400 && child.exitCode === null; i++) {
    if (await fetch(`${url}/readyz`).then((r) => r.ok, () => false)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    output: () => out,
    exited,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

describe('the gateway process', () => {
  test('on loopback with AUTH unset it runs open, and says so', async () => {
    const g = await launch({});
    try {
      expect((await fetch(`${g.url}/fhir/Patient`)).status).toBe(200);
    } finally {
      await g.stop();
    }
    expect(g.output()).toMatch(/AUTH is not set to smart: the API is open/);
  }, 600_000);

  test('a non-loopback HOST without AUTH=smart refuses to start, unless AUTH=off', async () => {
    const g = await launch({ HOST: '0.0.0.0' });
    expect(await g.exited).toBe(1);
    expect(g.output()).toMatch(/HOST=0\.0\.0\.0 is reachable from the network: set AUTH=smart/);
    const off = await launch({ HOST: '0.0.0.0', AUTH: 'off' });
    try {
      expect((await fetch(`${off.url}/healthz`)).status).toBe(200);
    } finally {
      await off.stop();
    }
  }, 600_000);

  test('no tokens, assertions or patient data in the log, whatever the routes do', async () => {
    const a = await makeClient('his-20001', '20001', 'system/*.cruds');
    const b = await makeClient('his-79999', '79999', 'system/*.cruds');
    const g = await launch({ AUTH: 'smart', AUTH_CLIENTS_FILE: writeClientsFile([a, b]) });
    const secrets: string[] = [];
    try {
      const asrt = await assertion(a, `${g.url}/auth/token`);
      const first = await requestToken(g.url, { grant_type: 'client_credentials', scope: 'system/*.cruds', client_assertion_type: ASSERTION_TYPE, client_assertion: asrt });
      expect(first.status).toBe(200);
      const replay = await requestToken(g.url, { grant_type: 'client_credentials', scope: 'system/*.cruds', client_assertion_type: ASSERTION_TYPE, client_assertion: asrt });
      expect(replay.status).toBe(401);
      const ta = first.body.access_token as string;
      const tb = await tokenFor(g.url, b);
      secrets.push(asrt, ta, tb, asrt.split('.')[2]!, ta.split('.')[2]!);
      const name = 'Lươngthịseedname';
      const cccd = '079188123456';
      const bhyt = 'DN4797912345678';
      secrets.push(name, cccd, bhyt);
      const h = (t: string, extra: Record<string, string> = {}) => ({ authorization: `Bearer ${t}`, 'content-type': 'application/fhir+json', ...extra });
      const p = { resourceType: 'Patient', name: [{ family: name }], identifier: [{ system: 'http://fhir.ehealth.gov.vn/core/sid/national_id', value: cccd }, { system: 'http://fhir.ehealth.gov.vn/core/sid/insurance_number', value: bhyt }] };
      const created = (await (await fetch(`${g.url}/fhir/Patient`, { method: 'POST', headers: h(ta), body: JSON.stringify(p) })).json()) as any;
      const calls: [string, string, string, string?, Record<string, string>?][] = [
        [ta, 'GET', `/fhir/Patient/${created.id}`],
        [ta, 'GET', `/fhir/Patient?identifier=${cccd}&name=${encodeURIComponent(name)}`],
        [ta, 'PUT', `/fhir/Patient/${created.id}`, JSON.stringify({ ...p, id: created.id, gender: 'female' })],
        [tb, 'PUT', `/fhir/Patient/${created.id}`, JSON.stringify({ ...p, id: created.id })],
        [ta, 'PATCH', `/fhir/Patient/${created.id}`, JSON.stringify([{ op: 'replace', path: '/name/0/family', value: `${name}x` }]), { 'content-type': 'application/json-patch+json' }],
        [ta, 'POST', '/fhir/Patient', `{"resourceType":"Patient","name":[{"family":"${name}"}],"birthDate":"not a date ${cccd}"}`],
        [ta, 'POST', '/fhir/Patient', `{ broken json ${name} ${cccd}`],
        [ta, 'POST', '/fhir', JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: [{ resource: p, request: { method: 'POST', url: 'Patient' } }] })],
        [ta, 'POST', '/fhir/Patient', JSON.stringify(p), { 'x-facility-code': '79999' }],
        [ta, 'GET', `/fhir/Patient/${created.id}/_history`],
        [ta, 'DELETE', `/fhir/Patient/${created.id}`],
        [tb, 'POST', '/ingest/vn-claim', readFileSync(join(CORPORA, 'vn', 'synthetic', 'giamdinhhs-outpatient-synthetic.xml'), 'utf8'), { 'content-type': 'application/xml' }],
        [ta, 'POST', '/ingest/vn-claim', readFileSync(join(CORPORA, 'vn', 'synthetic', 'giamdinhhs-outpatient-synthetic.xml'), 'utf8'), { 'content-type': 'application/xml' }],
        [ta, 'POST', '/ingest/hl7v2', `MSH|^~\\&|LAB|20001|GW|GW|20240101120000||ADT^A01|S1|P|2.5\rPID|1||${cccd}^^^BV||${name}^Văn||19800101|M\r`, { 'content-type': 'x-application/hl7-v2+er7' }],
        [ta, 'GET', '/ingest/messages'],
        ['forged.' + ta.slice(7), 'GET', '/fhir/Patient'],
      ];
      for (const [t, method, path, body, extra] of calls) await fetch(g.url + path, { method, headers: h(t, extra), ...(body ? { body } : {}) });
      // The claim's own patient data: the names inside the file must not reach the log either.
      const inner = readFileSync(join(CORPORA, 'vn', 'synthetic', 'giamdinhhs-outpatient-synthetic.xml'), 'utf8').match(/<NOIDUNGFILE>([^<]+)<\/NOIDUNGFILE>/g)!.map((x) => Buffer.from(x.slice(13, -14), 'base64').toString('utf8')).join('');
      for (const tag of ['HO_TEN', 'SO_CCCD', 'MA_THE_BHYT']) {
        const v = new RegExp(`<${tag}>([^<]{4,})</${tag}>`).exec(inner)?.[1];
        if (v) secrets.push(v.replace(/^<!\[CDATA\[|\]\]>$/g, ''));
      }
    } finally {
      await g.stop();
    }
    const log = g.output();
    expect(log).toMatch(/"msg":"gateway started"/);
    expect(log).toMatch(/request/); // debug lines were written, so the scan has something to look at
    for (const s of secrets) expect([s.slice(0, 12), log.includes(s)]).toEqual([s.slice(0, 12), false]);
    expect(log).not.toMatch(/Bearer\s+ey/);
  }, 600_000);
});
