import { readFileSync } from 'node:fs';
import type { Bundle, Claim, Condition, Coverage, DocumentReference, Encounter, FhirResource, Observation, Patient, ServiceRequest, Task } from 'fhir/r4';
import { referralId } from '../../src/ingest/ids';
import { mapClaim } from '../../src/ingest/vn-claim/map';
import { parseClaimFile } from '../../src/ingest/vn-claim/parse';
import type { ClaimRecords } from '../../src/ingest/vn-claim/parse';
import { ENVELOPE_FILE, envelope, episode, setField, xml13, xml14, xml1Legacy4210, xml7 } from './fixtures';

async function records(file: Buffer): Promise<ClaimRecords[]> {
  const out: ClaimRecords[] = [];
  for await (const r of parseClaimFile(file)) if (r.records) out.push(r.records);
  return out;
}
const ofType = <T extends FhirResource>(b: Bundle, t: T['resourceType']): T[] => (b.entry ?? []).map((e) => e.resource!).filter((r): r is T => r.resourceType === t);

describe('mapClaim', () => {
  it('maps the synthetic outpatient visit as the corpus README describes', async () => {
    const [rec] = await records(readFileSync(ENVELOPE_FILE));
    const { bundle, issues } = mapClaim(rec!);
    expect(issues).toEqual([]);
    expect(bundle!.type).toBe('transaction');
    const [patient] = ofType<Patient>(bundle!, 'Patient');
    expect(patient!.identifier!.map((i) => [i.system!.split('/').pop(), i.value])).toEqual([
      ['national_id', '079090000001'], ['insurance_number', 'DN4799900000001'], ['social_insurance_number', '9900000001'], ['patient-internal-id', 'BN000123'],
    ]);
    expect([patient!.gender, patient!.birthDate, patient!.name![0]!.family]).toEqual(['male', '1990-01-15', 'NGUYỄN']);
    const [coverage] = ofType<Coverage>(bundle!, 'Coverage');
    expect(coverage!.period).toEqual({ start: '2024-01-01', end: '2024-12-31' });
    expect(coverage!.class![0]!.value).toBe('4');
    const [enc] = ofType<Encounter>(bundle!, 'Encounter');
    expect(enc!.class.code).toBe('AMB');
    expect(enc!.period).toEqual({ start: '2024-06-15T07:45:00+07:00', end: '2024-06-15T10:30:00+07:00' });
    const [cond] = ofType<Condition>(bundle!, 'Condition');
    expect(cond!.code!.coding![0]).toMatchObject({ system: 'http://fhir.ehealth.gov.vn/core/CodeSystem/vn-icd10', code: 'E11' });
    expect(enc!.diagnosis![0]!.condition.reference).toBe(`Condition/${cond!.id}`);
    const [obs] = ofType<Observation>(bundle!, 'Observation');
    expect(obs!.valueQuantity).toEqual({ value: 9.8, unit: 'mmol/L' });
    const [claim] = ofType<Claim>(bundle!, 'Claim');
    expect(claim!.total).toEqual({ value: 82000, currency: 'VND' });
    expect(claim!.item!.reduce((s, i) => s + i.net!.value!, 0)).toBe(82000);
    for (const e of bundle!.entry!) expect(e.request).toEqual({ method: 'PUT', url: `${e.resource!.resourceType}/${e.resource!.id}` });
  });

  it('is deterministic: the same HOSO twice gives the same ids (a resend updates)', async () => {
    const [a] = await records(readFileSync(ENVELOPE_FILE));
    const [b] = await records(readFileSync(ENVELOPE_FILE));
    expect(mapClaim(a!).bundle).toEqual(mapClaim(b!).bundle);
    const [other] = await records(envelope([episode('OTHER')]));
    const ids = (r: ClaimRecords) => new Set(mapClaim(r).bundle!.entry!.map((e) => e.request!.url));
    const shared = [...ids(a!)].filter((u) => ids(other!).has(u)).map((u) => u.split('/')[0]).sort();
    // Same patient (MA_BN), same facility, card, drug and department; everything of the episode is new.
    expect(shared).toEqual(['Coverage', 'Location', 'Medication', 'Organization', 'Organization', 'Patient']);
  });

  it('maps every table: discharge paper, referral (3176 names too), appointment', async () => {
    for (const v3176 of [false, true]) {
      const [rec] = await records(envelope([[...episode('ALL'), { loai: 'XML7', xml: xml7('ALL') }, { loai: 'XML13', xml: xml13('ALL', v3176) }, { loai: 'XML14', xml: xml14('ALL') }]]));
      const { bundle, issues } = mapClaim(rec!);
      expect(issues).toEqual([]);
      const types = bundle!.entry!.map((e) => e.resource!.resourceType);
      for (const t of ['DocumentReference', 'ServiceRequest', 'Appointment']) expect(types).toContain(t);
      const referral = ofType<ServiceRequest>(bundle!, 'ServiceRequest').find((r) => r.category?.[0]?.coding?.[0]?.code === '3457005');
      expect(referral).toBeDefined();
      expect(JSON.stringify(referral)).toContain('"supportingInfo"');
      // Keyed by the sending facility and the referral number, so an HL7 REF of the same referral meets it.
      expect(referral!.id).toBe(referralId('ServiceRequest', '79999', 'CT0001'));
      const [task] = ofType<Task>(bundle!, 'Task');
      expect(task).toMatchObject({ id: referralId('Task', '79999', 'CT0001'), status: 'completed', intent: 'order', focus: { reference: `ServiceRequest/${referral!.id}` } });
      expect(task!.owner!.reference).toBe(referral!.performer![0]!.reference);
      const docs = ofType<DocumentReference>(bundle!, 'DocumentReference').map((r) => r.type!.coding![0]!.code).sort();
      expect(docs).toEqual(['11506-3', '18842-5', '57133-1']);
    }
  });

  it('several cards in one episode: one Coverage each, the card valid at admission is focal', async () => {
    const [rec] = await records(envelope([episode('CARDS', (n, x) => (n === 1
      ? setField(setField(setField(setField(x, 'MA_THE_BHYT', 'DN4799900000001;DN4799900000001'), 'GT_THE_TU', '20230101;20240601'), 'GT_THE_DEN', '20240531;20250531'), 'MA_DKBD', '79999;79001')
      : x))]));
    const { bundle } = mapClaim(rec!);
    const coverages = ofType<Coverage>(bundle!, 'Coverage');
    expect(coverages.map((c) => c.period)).toEqual([{ start: '2023-01-01', end: '2024-05-31' }, { start: '2024-06-01', end: '2025-05-31' }]);
    const [claim] = ofType<Claim>(bundle!, 'Claim');
    expect(claim!.insurance!.map((i) => i.focal)).toEqual([false, true]);
    const [patient] = ofType<Patient>(bundle!, 'Patient');
    expect(patient!.identifier!.filter((i) => i.system!.endsWith('social_insurance_number'))).toHaveLength(1);
  });

  it('optional tables missing: XML1 alone still gives patient, coverage, encounter, conditions', async () => {
    const [rec] = await records(envelope([[episode('ONLY')[0]!]]));
    const { bundle, issues } = mapClaim(rec!);
    expect(issues.filter((i) => i.severity === 'error')).toEqual([]);
    expect(new Set(bundle!.entry!.map((e) => e.resource!.resourceType))).toEqual(new Set(['Organization', 'Patient', 'Coverage', 'Location', 'Condition', 'Encounter', 'Observation', 'Claim']));
  });

  it('maps a legacy 4210 episode (secondary diagnoses, one-digit visit type, date-only birth)', async () => {
    const [rec] = await records(envelope([[{ loai: 'XML1', xml: xml1Legacy4210('L1') }]], '01001'));
    const { bundle } = mapClaim(rec!);
    const [patient] = ofType<Patient>(bundle!, 'Patient');
    expect([patient!.gender, patient!.birthDate]).toEqual(['female', '1985-12-03']);
    expect(ofType<Condition>(bundle!, 'Condition').map((c) => c.code!.coding![0]!.code)).toEqual(['I10', 'E11', 'E78']);
    expect(ofType<Encounter>(bundle!, 'Encounter')[0]!.class.code).toBe('AMB');
  });

  it('partial birth dates keep their precision; ICD codes without the dot are normalised', async () => {
    const [rec] = await records(envelope([episode('P', (n, x) => (n === 1 ? setField(setField(x, 'NGAY_SINH', '199000000000'), 'MA_BENH_KT', 'E119;I10') : x))]));
    const { bundle } = mapClaim(rec!);
    expect(ofType<Patient>(bundle!, 'Patient')[0]!.birthDate).toBe('1990');
    expect(ofType<Condition>(bundle!, 'Condition').map((c) => c.code!.coding![0]!.code)).toEqual(['E11', 'E11.9', 'I10']);
  });

  it('a bare XML2 without its XML1 cannot be converted and says why', () => {
    const { bundle, issues } = mapClaim({ version: '130/4750', facility: '79999', maLK: 'X', tables: { XML2: [{ MA_LK: 'X' }] } });
    expect(bundle).toBeUndefined();
    expect(issues[0]!.diagnostics).toMatch(/XML1/);
  });
});

describe('vital signs', () => {
  it('CSST<…> in XML5 and XML1 CAN_NANG become vital-sign Observations in UCUM, blood pressure as a panel', async () => {
    const [rec] = await records(envelope([episode('VS', (n, x) => (n === 5 ? x.replace('CSST<M80_T37_HA130/80_NT18>', 'CSST<M80_T37,5_HA130/80_NT18_SP97_HL2>') : x))]));
    const { bundle } = mapClaim(rec!);
    const vitals = ofType<Observation>(bundle!, 'Observation').filter((o) => o.category?.[0]?.coding?.[0]?.code === 'vital-signs');
    const byCode = new Map(vitals.map((o) => [o.code.coding![0]!.code, o]));
    expect([...byCode.keys()].sort()).toEqual(['29463-7', '59408-5', '8310-5', '85354-6', '8867-4', '9279-1']);
    expect(byCode.get('8310-5')!.valueQuantity).toEqual({ value: 37.5, unit: 'C', system: 'http://unitsofmeasure.org', code: 'Cel' });
    expect(byCode.get('85354-6')!.component!.map((c) => [c.code.coding![0]!.code, c.valueQuantity!.value])).toEqual([['8480-6', 130], ['8462-4', 80]]);
    expect(byCode.get('29463-7')!.valueQuantity!.value).toBe(68.5);
  });
});

describe('supplies and repeated codes', () => {
  it('an XML3 supply row becomes a SupplyDelivery and a claim item; repeated secondary codes give one Condition', async () => {
    const supply = (x: string) => x.replace('<MA_DICH_VU>99.0000.0001</MA_DICH_VU>', '<MA_DICH_VU></MA_DICH_VU>').replace('<MA_VAT_TU></MA_VAT_TU>', '<MA_VAT_TU>N03.01.070</MA_VAT_TU>').replace('<TEN_VAT_TU></TEN_VAT_TU>', '<TEN_VAT_TU>Bơm tiêm</TEN_VAT_TU>');
    const [rec] = await records(envelope([episode('SUP', (n, x) => (n === 3 ? supply(x) : n === 1 ? setField(x, 'MA_BENH_KT', 'I10;I10;E11') : x))]));
    const { bundle } = mapClaim(rec!);
    const deliveries = bundle!.entry!.map((e) => e.resource!).filter((r) => r.resourceType === 'SupplyDelivery');
    expect(deliveries).toHaveLength(1);
    expect(JSON.stringify(deliveries[0])).toContain('N03.01.070');
    expect(ofType<Claim>(bundle!, 'Claim')[0]!.item).toHaveLength(3);
    expect(ofType<Condition>(bundle!, 'Condition').map((c) => c.code!.coding![0]!.code)).toEqual(['E11', 'I10']);
    expect(ofType<Encounter>(bundle!, 'Encounter')[0]!.diagnosis).toHaveLength(2);
  });
});
