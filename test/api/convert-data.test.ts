import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { client, type Call } from '../helpers/http';
import { startTestGateway, type TestGateway } from '../helpers/gateway';
import { CONVERTER } from '../hl7v2/corpus';

const adt = readFileSync(join(CONVERTER, 'input/Hl7v2/ADT-A01-01.hl7'), 'utf8');
const params = (inputData: string, inputDataType: string) =>
  JSON.stringify({ resourceType: 'Parameters', parameter: [{ name: 'inputData', valueString: inputData }, { name: 'inputDataType', valueString: inputDataType }, { name: 'rootTemplate', valueString: 'ADT_A01' }] });

// $convert-data stores nothing, so one store is enough.
describe('POST /fhir/$convert-data', () => {
  let gw: TestGateway;
  let call: Call;
  beforeAll(async () => {
    gw = await startTestGateway('embedded');
    call = client(gw.fhir);
  });
  afterAll(() => gw.stop());

  test('an HL7 v2 message → its transaction Bundle, not stored', async () => {
    const r = await call('POST', '/$convert-data', params(adt, 'Hl7v2'), { 'content-type': 'application/fhir+json' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ resourceType: 'Bundle', type: 'transaction' });
    const patient = r.body.entry.find((e: any) => e.resource.resourceType === 'Patient').resource;
    expect(patient.name[0].family).toBeTruthy();
    expect(r.body.entry.some((e: any) => e.resource.resourceType === 'Practitioner')).toBe(true);
    const stored = await call('GET', `/Patient/${patient.id}`);
    expect(stored.status).toBe(404);
  });

  test('?explain=true → Parameters with the Bundle and, per field, its element or why it was dropped', async () => {
    const r = await call('POST', '/$convert-data?explain=true', params(adt, 'Hl7v2'), { 'content-type': 'application/fhir+json' });
    expect(r.status).toBe(200);
    const p = r.body.parameter as any[];
    expect(p.find((x) => x.name === 'return').resource.resourceType).toBe('Bundle');
    const non = p.find((x) => x.name === 'nonEmptyFields').valueInteger;
    const mapped = p.find((x) => x.name === 'mappedFields').valueInteger;
    expect(mapped).toBeGreaterThan(0);
    expect(mapped).toBeLessThanOrEqual(non);
    const pid5 = p.find((x) => x.name === 'field' && x.part[0].valueString === 'PID-5');
    expect(pid5.part[1]).toEqual({ name: 'element', valueString: 'Patient.name' });
  });

  test('bad input → 4xx OperationOutcome that says where and why', async () => {
    const badType = await call('POST', '/$convert-data', params(adt, 'Ccda'), { 'content-type': 'application/fhir+json' });
    expect(badType.status).toBe(400);
    expect(badType.body.issue[0]).toMatchObject({ expression: ['inputDataType'] });
    const unmapped = await call('POST', '/$convert-data', params(adt.replace('ADT^A01', 'ZZZ^Z01'), 'Hl7v2'), { 'content-type': 'application/fhir+json' });
    expect(unmapped.status).toBe(422);
    expect(unmapped.body.issue[0].diagnostics).toMatch(/ZZZ\^Z01 is not mapped/);
    const missing = await call('POST', '/$convert-data', JSON.stringify({ resourceType: 'Parameters', parameter: [{ name: 'inputDataType', valueString: 'Hl7v2' }] }), { 'content-type': 'application/fhir+json' });
    expect(missing.status).toBe(400);
  });
});
