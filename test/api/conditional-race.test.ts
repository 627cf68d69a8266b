import { randomUUID } from 'node:crypto';
import { client, type Call } from '../helpers/http';
import { startTestGateway, STORES, type TestGateway } from '../helpers/gateway';

/** Concurrent identical conditional writes over real HTTP give one resource, on every store. */
describe.each(STORES)('concurrent conditional writes (%s)', (store) => {
  let gw: TestGateway;
  let call: Call;
  beforeAll(async () => {
    gw = await startTestGateway(store);
    call = client(gw.fhir);
  });
  afterAll(() => gw.stop());

  const N = 20;
  const patient = (value: string) => ({ resourceType: 'Patient', identifier: [{ system: 'urn:vn:cccd', value }], name: [{ family: 'Nguyễn' }] });
  const count = async (value: string) => (await call('GET', `/Patient?identifier=urn:vn:cccd|${value}&_summary=count`)).body.total;

  test('If-None-Exist: one 201, the others 200 with the same Patient', async () => {
    const value = randomUUID();
    const replies = await Promise.all(Array.from({ length: N }, () => call('POST', '/Patient', patient(value), { 'if-none-exist': `identifier=urn:vn:cccd|${value}` })));
    const statuses = replies.map((r) => r.status).sort();
    expect(statuses).toEqual([...Array(N - 1).fill(200), 201]);
    expect(new Set(replies.map((r) => r.body.id)).size).toBe(1);
    expect(await count(value)).toBe(1);
  });

  test("a transaction's ifNoneExist", async () => {
    const value = randomUUID();
    const bundle = { resourceType: 'Bundle', type: 'transaction', entry: [{ fullUrl: 'urn:uuid:1', request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=urn:vn:cccd|${value}` }, resource: patient(value) }] };
    const replies = await Promise.all(Array.from({ length: N }, () => call('POST', '', bundle)));
    expect(replies.map((r) => r.status)).toEqual(Array(N).fill(200));
    const statuses = replies.map((r) => r.body.entry[0].response.status).sort();
    expect(statuses).toEqual([...Array(N - 1).fill('200 OK'), '201 Created']);
    expect(await count(value)).toBe(1);
  });

  test('conditional PUT, with the criteria in either order', async () => {
    const value = randomUUID();
    const urls = [`/Patient?identifier=urn:vn:cccd|${value}&family=Nguyễn`, `/Patient?family=Nguyễn&identifier=urn:vn:cccd|${value}`];
    const replies = await Promise.all(Array.from({ length: N }, (_, i) => call('PUT', urls[i % 2]!, patient(value))));
    const statuses = replies.map((r) => r.status).sort();
    expect(statuses).toEqual([...Array(N - 1).fill(200), 201]);
    expect(await count(value)).toBe(1);
  });
});
