import { client, type Call } from '../helpers/http';
import { startTestGateway, type TestGateway } from '../helpers/gateway';

const patient = JSON.stringify({ resourceType: 'Patient', name: [{ family: 'Hồ' }] });

// How the FHIR routes read a body does not depend on the store.
describe('the FHIR routes say what is wrong with a request body', () => {
  let gw: TestGateway;
  let call: Call;
  beforeAll(async () => {
    gw = await startTestGateway('embedded');
    call = client(gw.fhir);
  });
  afterAll(() => gw.stop());

  test.each([
    ['POST', '/Patient', 'text/plain'],
    ['POST', '/Patient', 'text/plain; charset=utf-8'],
    ['PUT', '/Patient/ho', 'text/plain'],
    ['POST', '', 'text/plain'],
    ['POST', '/Patient/$validate', 'text/html'],
    ['POST', '/Patient', 'application/octet-stream'],
  ])('%s %s as %s → 415 naming the FHIR types', async (method, path, type) => {
    const r = await call(method, path, patient, { 'content-type': type });
    expect(r.status).toBe(415);
    expect(r.body.resourceType).toBe('OperationOutcome');
    expect(r.body.issue[0].diagnostics).toMatch(new RegExp(`'${type.split(';')[0]}' is not accepted here: send application/fhir\\+json or application/fhir\\+xml`));
  });

  test('a form upload (curl -d) → 415 that says how to send the file', async () => {
    const r = await call('POST', '/Patient', patient, { 'content-type': 'application/x-www-form-urlencoded' });
    expect(r.status).toBe(415);
    expect(r.body.issue[0].diagnostics).toMatch(/form upload.*--data-binary @file\.json -H 'Content-Type: application\/fhir\+json'/);
  });

  test('JSON types, no Content-Type at all, and form posts to _search are still taken', async () => {
    expect((await call('POST', '/Patient', patient, { 'content-type': 'application/json' })).status).toBe(201);
    const bare = await fetch(`${gw.fhir}/Patient`, { method: 'POST', body: new TextEncoder().encode(patient) });
    expect(bare.status).toBe(201);
    const search = await fetch(`${gw.fhir}/Patient/_search`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'family=ho' });
    expect(search.status).toBe(200);
    expect(((await search.json()) as any).total).toBe(2);
  });

  test('a bad gender code names the allowed codes first, the code system after', async () => {
    const r = await call('POST', '/Patient', { resourceType: 'Patient', gender: 'mail' });
    expect(r.status).toBe(422);
    const errors = r.body.issue.filter((i: any) => i.severity === 'error');
    expect(errors[0].expression).toEqual(['Patient.gender']);
    expect(errors[0].diagnostics).toMatch(/\('mail'\) was not found in the value set 'AdministrativeGender'.*allowed codes: male \| female \| other \| unknown$/);
    expect(errors[1].diagnostics).toMatch(/System URI could not be determined/);
  });
});
