import { startTestGateway, type TestGateway } from '../test/helpers/gateway';
import { client, type Call } from '../test/helpers/http';
import { identifierCounts, summary } from './helpers/load';

/**
 * 20 writers at once with the same condition — `If-None-Exist`, a transaction's `ifNoneExist`,
 * a conditional update — must leave exactly one resource, on both stores.
 */
const WRITERS = 20;
const STORES = ['embedded', 'postgres'] as const;

describe.each(STORES)('concurrent conditional writes (%s store)', (store) => {
  let gw: TestGateway;
  let fhir: Call;
  beforeAll(async () => {
    gw = await startTestGateway(store);
    fhir = client(gw.fhir);
  });
  afterAll(() => gw?.stop());

  const patient = (value: string) => ({ resourceType: 'Patient', identifier: [{ system: 'urn:chaos', value }] });
  const writes: Record<string, (value: string) => Promise<unknown>> = {
    'POST If-None-Exist': (v) => fhir('POST', '/Patient', patient(v), { 'if-none-exist': `identifier=urn:chaos|${v}` }),
    'transaction ifNoneExist': (v) =>
      fhir('POST', '', { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: patient(v), request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=urn:chaos|${v}` } }] }),
    'conditional PUT': (v) => fhir('PUT', `/Patient?identifier=urn:chaos|${v}`, patient(v)),
  };

  test.each(Object.keys(writes))('%s x20 → exactly 1', async (kind) => {
    const value = `${store}-${kind.replace(/\W/g, '')}`;
    await Promise.all(Array.from({ length: WRITERS }, () => writes[kind]!(value)));
    const created = (await identifierCounts(gw.fhir, 'Patient')).get(value) ?? 0;
    summary(`${WRITERS} concurrent ${kind} (${store})`, { resources: created });
    expect(created).toBe(1);
  });
});
