import { randomUUID } from 'node:crypto';
import { client, type Call } from '../helpers/http';
import { startTestGateway, STORES, type TestGateway } from '../helpers/gateway';

/** Input the store cannot take, or that would cost it without bound: a 4xx saying where, never a 500. */
describe.each(STORES)('hostile input to the REST writes and searches (%s)', (store) => {
  let gw: TestGateway;
  let call: Call;
  beforeAll(async () => {
    gw = await startTestGateway(store);
    call = client(gw.fhir);
  });
  afterAll(() => gw.stop());

  const count = async (family: string) => (await call('GET', `/Patient?family:exact=${encodeURIComponent(family)}&_summary=count`)).body.total;

  test.each([
    ['NUL', 'a\u0000b', 'U+0000'],
    ['a control character', 'a\u001bb', 'U+001B'],
    ['a lone surrogate', 'a\ud800b', 'surrogate'],
  ])('%s in a string is 400/422 naming the element, and nothing is stored', async (_label, bad, said) => {
    const family = `F${randomUUID().slice(0, 8)}`;
    const r = await call('POST', '/Patient', { resourceType: 'Patient', name: [{ family: family + bad }] });
    expect([400, 422]).toContain(r.status);
    expect(r.body.resourceType).toBe('OperationOutcome');
    const hit = r.body.issue.find((i: any) => i.expression?.[0] === 'Patient.name[0].family');
    expect(hit?.diagnostics).toContain(said);

    const tx = { resourceType: 'Bundle', type: 'transaction', entry: [
      { request: { method: 'POST', url: 'Patient' }, resource: { resourceType: 'Patient', name: [{ family }] } },
      { request: { method: 'POST', url: 'Patient' }, resource: { resourceType: 'Patient', name: [{ family: family + bad }] } },
    ] };
    const t = await call('POST', '', tx);
    expect([400, 422]).toContain(t.status);
    expect(t.body.issue.some((i: any) => i.expression?.[0] === 'Bundle.entry[1].resource.name[0].family')).toBe(true);
    expect(await count(family)).toBe(0);
    // Tab, CR and LF are allowed.
    expect((await call('POST', '/Patient', { resourceType: 'Patient', name: [{ family: `${family}\tx` }] })).status).toBe(201);
  });

  test.each([
    ['ifMatch', 1],
    ['ifNoneMatch', { x: 1 }],
    ['ifNoneExist', 7],
    ['ifModifiedSince', true],
  ])('a bundle entry with request.%s of the wrong JSON type is 400, not 500', async (field, value) => {
    const entry = { request: { method: 'POST', url: 'Patient', [field]: value }, resource: { resourceType: 'Patient' } };
    const t = await call('POST', '', { resourceType: 'Bundle', type: 'transaction', entry: [entry] });
    expect(t.status).toBe(400);
    expect(t.body.issue[0].expression[0]).toBe(`Bundle.entry[0].request.${field}`);
    const b = await call('POST', '', { resourceType: 'Bundle', type: 'batch', entry: [entry] });
    expect(b.status).toBe(200);
    expect(b.body.entry[0].response.status).toBe('400');
  });

  test('request.url and request.method of the wrong type are 400', async () => {
    for (const request of [{ method: 'POST', url: 5 }, { method: ['POST'], url: 'Patient' }, 'POST Patient']) {
      const t = await call('POST', '', { resourceType: 'Bundle', type: 'transaction', entry: [{ request, resource: { resourceType: 'Patient' } }] });
      expect(t.status).toBe(400);
    }
  });
});
