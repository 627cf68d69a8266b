import { IncomingMessage, createServer, type RequestListener } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { withFastPath, fastRequest } from '../../src/api/fast-path';
import { createMetrics } from '../../src/api/metrics';
import { loadConfig, type Config } from '../../src/config';
import { createLogger } from '../../src/logger';
import { FakeVss, lookupConfig, person } from '../helpers/fake-vss';
import { startTestGateway, type TestGateway } from '../helpers/gateway';
import { makeClient, tokenFor, writeClientsFile, type TestClient } from '../helpers/auth';

/**
 * `Coverage/$lookup` is answered in front of Express (src/api/fast-path.ts): what a client sees
 * must not tell the two paths apart, and what the path does not handle exactly must reach
 * Express untouched.
 */

const request = (method: string, url: string, headers: Record<string, string> = {}): IncomingMessage => {
  const req = new IncomingMessage(null as unknown as Socket);
  req.method = method;
  req.url = url;
  req.headers = headers;
  return req;
};

const LOOKUP = '/fhir/Coverage/$lookup?identifier=079100000001&name=Lan&birthdate=1985';

describe('which requests the fast path takes', () => {
  test('a plain JSON read or GET of Coverage/$lookup; anything else is left to Express', () => {
    expect(fastRequest(request('GET', LOOKUP))).toMatchObject({ type: 'Coverage', params: [['identifier', '079100000001'], ['name', 'Lan'], ['birthdate', '1985']] });
    expect(fastRequest(request('GET', LOOKUP, { accept: 'application/fhir+json', 'content-length': '0' }))).toBeDefined();
    expect(fastRequest(request('GET', '/fhir/Patient/p-1.a'))).toEqual({ kind: 'read', type: 'Patient', id: 'p-1.a' });
    expect(fastRequest(request('GET', '/fhir/Patient/p1?unknown=1'))).toMatchObject({ kind: 'read' });
    for (const [why, req] of [
      ['POST', request('POST', LOOKUP)],
      ['HEAD', request('HEAD', LOOKUP)],
      ['a body', request('GET', LOOKUP, { 'content-length': '12' })],
      ['a chunked body', request('GET', LOOKUP, { 'transfer-encoding': 'chunked' })],
      ['_format', request('GET', `${LOOKUP}&_format=xml`)],
      ['_pretty', request('GET', `${LOOKUP}&_pretty=true`)],
      ['a malformed query', request('GET', '/fhir/Coverage/$lookup?identifier=%E0%A4%A')],
      ['another operation', request('GET', '/fhir/Patient/$summary?identifier=x')],
      ['an instance-level URL', request('GET', '/fhir/Coverage/abc/$lookup')],
      ['a percent-encoded $', request('GET', '/fhir/Coverage/%24lookup')],
      ['a conditional read (If-None-Match)', request('GET', '/fhir/Patient/p1', { 'if-none-match': 'W/"1"' })],
      ['a conditional read (If-Modified-Since)', request('GET', '/fhir/Patient/p1', { 'if-modified-since': 'Tue, 01 Dec 2026 00:00:00 GMT' })],
      ['a read with _summary', request('GET', '/fhir/Patient/p1?_summary=true')],
      ['a malformed id', request('GET', '/fhir/Patient/p_1')],
      ['a history', request('GET', '/fhir/Patient/_history')],
      ['a vread', request('GET', '/fhir/Patient/p1/_history/1')],
      ['an AuditEvent (its own router)', request('GET', '/fhir/AuditEvent/a1')],
      ['a search', request('GET', '/fhir/Patient?name=x')],
      ['the capability statement', request('GET', '/fhir/metadata')],
    ] as const) expect([why, fastRequest(req)]).toEqual([why, undefined]);
  });

  test('what the fast path does not take reaches the app as it came, unread', async () => {
    const seen: string[] = [];
    const app: RequestListener = (req, res) => {
      seen.push(`${req.method} ${req.url}`);
      res.end('app');
    };
    const server = createServer(withFastPath(app, { metrics: createMetrics(), log: createLogger('silent'), edge: [], services: {} as never }));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect(await (await fetch(`${base}/fhir/Patient/$summary?x=1`)).text()).toBe('app');
      expect(await (await fetch(`${base}${LOOKUP}`, { method: 'POST', body: '{"resourceType":"Parameters"}' })).text()).toBe('app');
      // Taken: no lookup service here, so the operation answers 501 itself, and the app never sees it.
      const r = await fetch(`${base}${LOOKUP}`);
      expect(r.status).toBe(501);
      expect(r.headers.get('content-type')).toBe('application/fhir+json; charset=utf-8');
      expect(((await r.json()) as any).issue[0].code).toBe('not-supported');
      expect(seen).toEqual(['GET /fhir/Patient/$summary?x=1', `POST ${LOOKUP}`]);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

/** What may differ between two answers to the same question: the time, generated ids, the age in seconds. */
function comparable(r: { status: number; headers: Headers; text: string }) {
  const headers = Object.fromEntries([...r.headers].filter(([k]) => !['date', 'connection', 'keep-alive'].includes(k)).map(([k, v]) => [k, k === 'age' ? 'n' : k === 'last-modified' ? 'T' : v]));
  const body = r.text.replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)/g, 'T').replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, 'U');
  const all: Record<string, string | undefined> = { ...headers, 'content-length': headers['content-length'] ? 'n' : undefined };
  return { status: r.status, headers: all, body };
}

describe('Coverage/$lookup answers the same in front of Express as through it', () => {
  const fake = new FakeVss();
  const gws: TestGateway[] = [];
  const settings = (fastPath: boolean): Partial<Config> => ({
    fastPath,
    mllpPort: -1,
    lookup: lookupConfig(fake.url, { freshSeconds: 600 }),
    security: { ...loadConfig({}).security, corsOrigins: ['https://desk.example'] },
  });

  beforeAll(async () => {
    await fake.start();
    gws.push(await startTestGateway('embedded', settings(true)), await startTestGateway('embedded', settings(false)));
  });
  afterAll(async () => {
    for (const gw of gws) await gw.stop();
    await fake.stop();
  });

  const both = async (path: string, headers: Record<string, string> = {}) => {
    const out = [];
    for (const gw of gws) {
      const r = await fetch(gw.url + path, { headers });
      out.push(comparable({ status: r.status, headers: r.headers, text: await r.text() }));
    }
    return out;
  };

  test('lookups and reads: answers, errors, headers and bodies match; the fast path is counted in the metrics under the same route', async () => {
    const p = person(9001);
    fake.persons.push(p);
    const [d, m, y] = p.ngaySinh.split('/');
    const ask = `/fhir/Coverage/$lookup?identifier=${p.cccd}&name=${encodeURIComponent(p.hoTen)}&birthdate=${y}-${m}-${d}`;
    const cases: [string, string, Record<string, string>?, number?][] = [
      ['from the portal', ask, {}, 200],
      ['from the cache, with Age', ask, { accept: 'application/fhir+json' }, 200],
      ['a browser at a listed origin', ask, { origin: 'https://desk.example' }, 200],
      ['XML', ask, { accept: 'application/fhir+xml' }, 200],
      ['_format', `${ask}&_format=json`, {}, 200],
      ['a malformed identifier', '/fhir/Coverage/$lookup?identifier=12345&name=A&birthdate=1985', {}, 400],
      ['a malformed birth date', `/fhir/Coverage/$lookup?identifier=${p.cccd}&name=A&birthdate=15/03/1985`, {}, 400],
      ['an unknown parameter', `${ask}&foo=1`, {}, 400],
      ['a malformed query', '/fhir/Coverage/$lookup?identifier=%E0%A4%A', {}, 400],
      ['a card the portal does not know', '/fhir/Coverage/$lookup?identifier=079199999999&name=A&birthdate=1985', {}, 200],
    ];
    for (const [what, path, headers, status] of cases) {
      const [fast, slow] = await both(path, headers);
      expect([what, fast!.status]).toEqual([what, status]);
      expect([what, fast]).toEqual([what, slow]);
    }
    // Reads: the same resources put under the same ids on both.
    for (const gw of gws) {
      for (const id of ['fp-1', 'fp-2']) {
        const put = await fetch(`${gw.url}/fhir/Patient/${id}`, { method: 'PUT', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify({ resourceType: 'Patient', id, name: [{ family: 'Trần', given: ['Thị', 'Mai'] }], birthDate: '1990-02-03' }) });
        expect(put.status).toBe(201);
      }
      expect((await fetch(`${gw.url}/fhir/Patient/fp-2`, { method: 'DELETE' })).status).toBeLessThan(300);
    }
    const reads: [string, string, Record<string, string>?, number?][] = [
      ['a read', '/fhir/Patient/fp-1', {}, 200],
      ['a read again (cached)', '/fhir/Patient/fp-1', { accept: 'application/fhir+json' }, 200],
      ['a read from a listed origin', '/fhir/Patient/fp-1', { origin: 'https://desk.example' }, 200],
      ['an unknown id', '/fhir/Patient/fp-404', {}, 404],
      ['a deleted resource', '/fhir/Patient/fp-2', {}, 410],
      ['an unknown type', '/fhir/Patientx/fp-1', {}, 404],
      ['a malformed id', '/fhir/Patient/fp_1', {}, 400],
      ['a percent-encoded id', '/fhir/Patient/fp%2D1', {}, 200],
      ['a conditional read', '/fhir/Patient/fp-1', { 'if-none-match': 'W/"1"' }, 304],
      ['a read with _summary', '/fhir/Patient/fp-1?_summary=true', {}, 200],
    ];
    for (const [what, path, headers, status] of reads) {
      const [fast, slow] = await both(path, headers);
      expect([what, fast!.status]).toEqual([what, status]);
      expect([what, fast]).toEqual([what, slow]);
    }

    fake.codes.set('079188888888', '100'); // the portal busy, nothing cached: 503 with Retry-After
    const [fast, slow] = await both('/fhir/Coverage/$lookup?identifier=079188888888&name=A&birthdate=1985');
    expect(fast!.status).toBe(503);
    expect(fast!.headers['retry-after']).toBeDefined();
    expect(fast).toEqual(slow);
    expect(fake.calls.lookup).toBe(6); // each gateway: the card, the unknown card, the busy card
    const metrics = await (await fetch(`${gws[0]!.url}/metrics`)).text();
    expect(metrics).toMatch(/fhir_gateway_http_requests_total\{method="GET",route="fhir\/:type\/\$lookup",status="200"\} [1-9]/);
    expect(metrics).toMatch(/fhir_gateway_http_requests_total\{method="GET",route="fhir\/:type\/:id",status="200"\} [1-9]/);
  });
});

describe('Coverage/$lookup in front of Express under AUTH=smart: the same guard and audit', () => {
  const fake = new FakeVss();
  let gw: TestGateway;
  const c: Record<string, TestClient> = {};
  const tok: Record<string, string> = {};

  beforeAll(async () => {
    await fake.start();
    c.desk = await makeClient('his-20001', '20001', 'system/Coverage.rs system/Patient.rs');
    c.lab = await makeClient('lab-20001', '20001', 'system/Observation.rs');
    c.ward = await makeClient('ward-20001', '20001', 'system/Patient.rs');
    c.admin = await makeClient('so-y-te', '00000', 'system/*.cruds', { admin: true });
    const security = { ...loadConfig({}).security, mode: 'smart' as const, clientsFile: writeClientsFile(Object.values(c)), rateBurst: 3, ratePerSecond: 1 };
    gw = await startTestGateway('embedded', { fastPath: true, mllpPort: -1, lookup: lookupConfig(fake.url, { freshSeconds: 600 }), security });
    for (const [k, v] of Object.entries(c)) tok[k] = await tokenFor(gw.url, v);
  }, 120_000);
  afterAll(async () => {
    await gw?.stop();
    await fake.stop();
  });

  test('no token 401, a token without Coverage 403, too many 429; the lookup is audited with its patient', async () => {
    const p = person(9101);
    fake.persons.push(p);
    const ask = `/fhir/Coverage/$lookup?identifier=${p.cccd}&name=${encodeURIComponent(p.hoTen)}&birthdate=1985`;
    const get = (who?: string) => fetch(gw.url + ask, { headers: who ? { authorization: `Bearer ${tok[who]}` } : {} });
    const anon = await get();
    expect(anon.status).toBe(401);
    expect(anon.headers.get('www-authenticate')).toContain('Bearer');
    expect(anon.headers.get('content-type')).toBe('application/fhir+json; charset=utf-8');
    const lab = await get('lab');
    expect(lab.status).toBe(403);
    expect(((await lab.json()) as any).issue[0].diagnostics).toContain('Coverage');
    const ok = await get('desk');
    expect(ok.status).toBe(200);
    const patient = ((await ok.json()) as any).entry.find((e: { resource: { resourceType: string } }) => e.resource.resourceType === 'Patient').resource.id;
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await get('desk')).status);
    expect(statuses).toContain(429);
    expect(fake.calls.lookup).toBe(1);

    let events: { subtype: { code: string }[]; agent: { who: { identifier: { value: string } } }[] }[] = [];
    for (let i = 0; i < 60 && events.length === 0; i++) {
      await gw.security.audit!.flush();
      const r = await fetch(`${gw.url}/fhir/AuditEvent?patient=Patient/${patient}`, { headers: { authorization: `Bearer ${tok.admin}` } });
      events = (((await r.json()) as any).entry ?? []).map((e: { resource: unknown }) => e.resource);
      if (events.length === 0) await new Promise((r) => setTimeout(r, 250));
    }
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((e) => e.agent[0]!.who.identifier.value === 'his-20001')).toBe(true);
  });

  test('a read: no token 401, a token without Patient 403, with it 200; the read is audited', async () => {
    const put = await fetch(`${gw.url}/fhir/Patient/fp-smart`, { method: 'PUT', headers: { authorization: `Bearer ${tok.admin}`, 'content-type': 'application/fhir+json', 'x-facility-code': '20001' }, body: JSON.stringify({ resourceType: 'Patient', id: 'fp-smart', name: [{ family: 'Lê' }] }) });
    expect(put.status).toBe(201);
    const read = (who?: string) => fetch(`${gw.url}/fhir/Patient/fp-smart`, { headers: who ? { authorization: `Bearer ${tok[who]}` } : {} });
    expect((await read()).status).toBe(401);
    expect((await read('lab')).status).toBe(403);
    const ok = await read('ward');
    expect(ok.status).toBe(200);
    expect(ok.headers.get('etag')).toBe('W/"1"');
    expect(((await ok.json()) as any).id).toBe('fp-smart');
    let events: { subtype: { code: string }[]; agent: { who: { identifier: { value: string } } }[] }[] = [];
    for (let i = 0; i < 60 && !events.some((e) => e.subtype[0]!.code === 'read'); i++) {
      await gw.security.audit!.flush();
      const r = await fetch(`${gw.url}/fhir/AuditEvent?patient=Patient/fp-smart&agent=Device/ward-20001`, { headers: { authorization: `Bearer ${tok.admin}` } });
      events = (((await r.json()) as any).entry ?? []).map((e: { resource: unknown }) => e.resource);
      if (!events.some((e) => e.subtype[0]!.code === 'read')) await new Promise((r) => setTimeout(r, 250));
    }
    expect(events.some((e) => e.subtype[0]!.code === 'read')).toBe(true);
  });
});
