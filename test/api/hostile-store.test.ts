import { randomUUID } from 'node:crypto';
import { loadConfig } from '../../src/config';
import { client, type Call } from '../helpers/http';
import { startTestGateway, STORES, type TestGateway } from '../helpers/gateway';

/** Input the store cannot take, or that would cost it without bound: a 4xx saying where, never a 500. */
describe.each(STORES)('hostile input to REST writes, and query cost limits (%s)', (store) => {
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

  // Searches and conditions are bounded before they reach the store: 400 `too-costly` naming the limit.
  const tooCostly = (r: { status: number; body: any }, limit: string) => {
    expect(r.status).toBe(400);
    expect(r.body.issue[0].code).toBe('too-costly');
    expect(r.body.issue[0].diagnostics).toContain(limit);
  };
  const names = (n: number) => Array.from({ length: n }, (_, i) => `name=n${i}`).join('&');

  test('search parameters, values, chain links and includes over the limits', async () => {
    tooCostly(await call('GET', `/Patient?${names(101)}`), 'maxParams');
    expect((await call('GET', `/Patient?${names(100)}`)).status).toBe(200);
    tooCostly(await call('GET', `/Patient?name=${Array.from({ length: 101 }, (_, i) => `v${i}`).join(',')}`), 'maxValues');
    tooCostly(await call('GET', `/Observation?subject:Patient.organization.partof.partof.partof.name=x`), 'maxChain');
    expect((await call('GET', `/Observation?subject:Patient.organization.partof.name=x`)).status).toBe(200);
    tooCostly(await call('GET', `/Observation?${'subject.'.repeat(200)}name=x`), 'maxChain');
    tooCostly(await call('GET', `/Patient?${'_has:Observation:patient:'.repeat(5)}code=x`), 'maxChain');
    tooCostly(await call('GET', `/Patient?${Array.from({ length: 21 }, () => '_include=Patient:organization').join('&')}`), 'maxIncludes');
    const form = await fetch(`${gw.fhir}/Patient/_search`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/fhir+json' }, body: names(2000) });
    tooCostly({ status: form.status, body: await form.json() }, 'maxParams');
  });

  test('conditional create, update and delete criteria, and a transaction ifNoneExist, over the limits', async () => {
    const p = { resourceType: 'Patient', name: [{ family: 'Trần' }] };
    tooCostly(await call('POST', '/Patient', p, { 'if-none-exist': names(1000) }), 'maxParams');
    tooCostly(await call('PUT', `/Patient?${names(101)}`, p), 'maxParams');
    tooCostly(await call('DELETE', `/Patient?${names(101)}`), 'maxParams');
    const t = await call('POST', '', { resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'POST', url: 'Patient', ifNoneExist: names(101) }, resource: p }] });
    tooCostly(t, 'maxParams');
  });
});

test('the limits and database timeouts come from the environment', () => {
  const c = loadConfig({ SEARCH_MAX_PARAMS: '7', SEARCH_MAX_VALUES: '8', SEARCH_MAX_CHAIN: '2', SEARCH_MAX_INCLUDES: '3', DB_STATEMENT_TIMEOUT_MS: '1500', DB_CONNECT_TIMEOUT_MS: '900' });
  expect(c.searchLimits).toEqual({ maxParams: 7, maxValues: 8, maxChain: 2, maxIncludes: 3 });
  expect([c.dbStatementTimeoutMs, c.dbConnectTimeoutMs]).toEqual([1500, 900]);
  expect(() => loadConfig({ SEARCH_MAX_PARAMS: 'many' })).toThrow(/SEARCH_MAX_PARAMS/);
});
