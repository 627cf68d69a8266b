import { request } from 'node:http';
import { STORES, startTestGateway, type TestGateway } from '../helpers/gateway';

/** Raw HTTP: fetch neither lets a test set Host nor sends `..` path segments unnormalised. */
function raw(port: number, method: string, path: string, headers: Record<string, string> = {}, body?: unknown): Promise<{ status: number; headers: Record<string, unknown>; body: any }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request({ host: '127.0.0.1', port, method, path, headers: { accept: 'application/fhir+json', ...(payload ? { 'content-type': 'application/fhir+json' } : {}), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode!, headers: res.headers, body: text ? JSON.parse(text) : undefined });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

const patient = { resourceType: 'Patient', name: [{ family: 'Phạm' }] };

describe.each(STORES)('links and ids (%s store)', (store) => {
  describe('BASE_URL unset, no ALLOWED_HOSTS', () => {
    let gw: TestGateway;
    beforeAll(async () => {
      gw = await startTestGateway(store);
    });
    afterAll(() => gw.stop());

    test('a forged Host never reaches Location or paging links: they name the listener', async () => {
      const own = `http://127.0.0.1:${gw.port}/fhir`;
      const created = await raw(gw.port, 'POST', '/fhir/Patient', { host: 'evil.example' }, patient);
      expect(created.status).toBe(201);
      expect(created.headers.location).toMatch(new RegExp(`^${own}/Patient/[^/]+/_history/1$`));
      await raw(gw.port, 'POST', '/fhir/Patient', { host: 'evil.example' }, patient);
      const page = await raw(gw.port, 'GET', '/fhir/Patient?_count=1', { host: 'evil.example:8443' });
      expect(page.body.link.map((l: any) => l.relation)).toEqual(['self', 'next']);
      for (const l of page.body.link) expect(l.url.startsWith(`${own}/Patient?`)).toBe(true);
      for (const e of page.body.entry) expect(e.fullUrl.startsWith(own)).toBe(true);
      const list = await raw(gw.port, 'GET', '/ingest/messages', { host: 'evil.example' });
      expect(JSON.stringify(list.body)).not.toMatch(/evil/);
    });

    test.each([
      ['GET', '/fhir/Patient/..'],
      ['GET', '/fhir/Patient/%2E%2E'],
      ['GET', '/fhir/Patient/%2e'],
      ['PUT', '/fhir/Patient/%2E%2E'],
      ['PUT', '/fhir/Patient/..'],
      ['DELETE', '/fhir/Patient/%2E'],
      ['GET', '/fhir/Patient/%2E%2E/_history'],
    ])('%s %s → 400', async (method, path) => {
      const id = decodeURIComponent(path.split('/')[3]!);
      const r = await raw(gw.port, method, path, {}, method === 'PUT' ? { ...patient, id } : undefined);
      expect(r.status).toBe(400);
      expect(r.body.resourceType).toBe('OperationOutcome');
      expect(r.body.issue[0].diagnostics).toMatch(/relative path segment/);
    });

    test('a transaction that PUTs Patient/.. is refused whole', async () => {
      const r = await raw(gw.port, 'POST', '/fhir', {}, {
        resourceType: 'Bundle', type: 'transaction',
        entry: [{ resource: { ...patient, id: '..' }, request: { method: 'PUT', url: 'Patient/..' } }],
      });
      expect(r.status).toBe(400);
      expect(JSON.stringify(r.body)).toMatch(/relative path segment/);
    });

    test('ids with dots that are not path segments are still fine', async () => {
      const r = await raw(gw.port, 'PUT', '/fhir/Patient/a.b..c', {}, { ...patient, id: 'a.b..c' });
      expect(r.status).toBe(201);
    });
  });

  describe('ALLOWED_HOSTS', () => {
    let gw: TestGateway;
    beforeAll(async () => {
      gw = await startTestGateway(store, { allowedHosts: ['fhir.benhvien.vn', 'gw.local:8443'] });
    });
    afterAll(() => gw.stop());

    test('a listed Host names the links; any other Host gets the listener address', async () => {
      const listed = await raw(gw.port, 'POST', '/fhir/Patient', { host: 'FHIR.benhvien.vn' }, patient);
      expect(listed.headers.location).toMatch(/^http:\/\/fhir\.benhvien\.vn\/fhir\/Patient\//);
      const withPort = await raw(gw.port, 'GET', '/fhir/Patient', { host: 'gw.local:8443' });
      expect(withPort.body.link[0].url).toMatch(/^http:\/\/gw\.local:8443\/fhir\/Patient\?/);
      const other = await raw(gw.port, 'POST', '/fhir/Patient', { host: 'evil.example' }, patient);
      expect(other.headers.location).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${gw.port}/fhir/Patient/`));
    });
  });

  describe('BASE_URL', () => {
    let gw: TestGateway;
    beforeAll(async () => {
      gw = await startTestGateway(store, { baseUrl: 'https://fhir.soyte.vn/fhir', allowedHosts: ['evil.example'] });
    });
    afterAll(() => gw.stop());

    test('wins over every Host', async () => {
      const r = await raw(gw.port, 'POST', '/fhir/Patient', { host: 'evil.example' }, patient);
      expect(r.headers.location).toMatch(/^https:\/\/fhir\.soyte\.vn\/fhir\/Patient\//);
    });
  });
});
