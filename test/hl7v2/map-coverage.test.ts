import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AllergyIntolerance, Bundle, Patient, Condition, Coverage, Device, Medication, MedicationRequest, Specimen, DiagnosticReport, Encounter, FhirResource, RelatedPerson, Observation, Organization, Practitioner, PractitionerRole, ServiceRequest } from 'fhir/r4';
import { convertHl7v2, convertHl7v2Batch } from '../../src/ingest/hl7v2';
import { validateResource } from '../../src/validation';
import { CONVERTER, HL7V2 } from './corpus';

// OBX fields and segments that reach the output since the coverage work: read from the
// FHIR-Converter corpus in place, each assertion naming the v2 field it checks.

const corpus = (name: string) => convertHl7v2(readFileSync(join(CONVERTER, 'input/Hl7v2', name)), {}, { explain: true });
const cdc = (name: string) => convertHl7v2(readFileSync(join(HL7V2, 'cdc-trusted-intermediary', name)), {}, { explain: true });
const all = (b: Bundle) => (b.entry ?? []).map((e) => e.resource as FhirResource);
const of = <T extends FhirResource>(b: Bundle, t: T['resourceType']) => all(b).filter((r) => r.resourceType === t) as T[];
const byRef = <T extends FhirResource>(b: Bundle, ref: string | undefined) => all(b).find((r) => `${r.resourceType}/${r.id}` === ref) as T | undefined;
const errorsOf = (b: Bundle) => all(b).flatMap((r) => validateResource(r).filter((i) => i.severity === 'error').map((i) => `${r.resourceType} ${i.expression} ${i.diagnostics}`));

describe('OBX under an order → Observation in ServiceRequest.supportingInfo (IG ORM_O01 / OML_O21)', () => {
  test('OML^O21: an ask-at-order-entry answer (OBX-29 QST) is supporting information of the order', () => {
    const c = corpus('MDHHS-OML-O21-1.hl7');
    const [sr] = of<ServiceRequest>(c.bundle!, 'ServiceRequest');
    expect(sr!.supportingInfo).toHaveLength(1);
    const obs = byRef<Observation>(c.bundle!, sr!.supportingInfo![0]!.reference)!;
    expect(obs.code.coding![0]!.code).toBe('AOE15'); // OBX-3
    expect(obs.valueDateTime).toBe('2015-08-18T06:06:05-05:00'); // OBX-5 (TS)
    expect(obs.effectiveDateTime).toBe('2016-03-08T10:06:05-05:00'); // OBX-14
    expect(obs.category![0]!.coding![0]).toMatchObject({ system: 'http://terminology.hl7.org/CodeSystem/v2-0936', code: 'QST' }); // OBX-29
    expect(obs.subject!.reference).toBe(sr!.subject.reference);
    expect(c.explanation!.fields.filter((f) => f.field.startsWith('OBX') && f.dropped?.startsWith('segment OBX'))).toEqual([]);
    expect(errorsOf(c.bundle!)).toEqual([]);
  });

  test('ORM^O01 and OMG^O19: every order OBX becomes an Observation the order points at', () => {
    for (const name of ['ORM-O01-01.hl7', 'OMG-O19-01.hl7']) {
      const c = corpus(name);
      const obx = c.message!.segments.filter((s) => s.id === 'OBX').length;
      const infos = of<ServiceRequest>(c.bundle!, 'ServiceRequest').flatMap((sr) => sr.supportingInfo ?? []);
      expect(obx).toBeGreaterThan(0);
      expect(infos.length).toBe(obx);
      expect(infos.length).toBe(of<Observation>(c.bundle!, 'Observation').length);
      expect(infos.every((r) => byRef<Observation>(c.bundle!, r.reference)?.resourceType === 'Observation')).toBe(true);
      expect(errorsOf(c.bundle!)).toEqual([]);
    }
  });
});

describe('OBX fields the IG maps to extensions, Device and a producer Organization', () => {
  const EXT = 'http://hl7.org/fhir/StructureDefinition/';
  const ext = (o: Observation, name: string) => o.extension?.find((e) => e.url === `${EXT}${name}`);

  test('OBX-4 (plain ST), OBX-15 producer, OBX-18 equipment, OBX-19 analysis time', () => {
    const c = cdc('Test/Results/005_AL_ORU_R01_NBS_Simplified_0_initial_message.hl7');
    const obs = of<Observation>(c.bundle!, 'Observation').find((o) => o.code.coding?.[0]?.code === '94558-4')!;
    expect(ext(obs, 'observation-v2-subid')!.extension).toEqual([{ url: 'original-sub-identifier', valueString: '752053' }]);
    expect(ext(obs, 'observation-analysis-date-time')!.valueDateTime).toBe('2021-06-14T05:03:00-04:00');
    const producer = obs.performer!.map((r) => byRef<Organization>(c.bundle!, r.reference)).find((o) => o?.identifier?.[0]?.value === '91D6499987');
    expect(producer).toBeDefined();
    const dev = byRef<Device>(c.bundle!, obs.device!.reference)!;
    expect(dev.identifier).toEqual([{ value: 'BD Veritor Plus System_Becton Dickinson' }]);
    for (const f of [4, 15, 18, 19]) expect(c.explanation!.fields.find((x) => x.field === `OBX-${f}`)).toMatchObject({ element: expect.any(String) });
    expect(errorsOf(c.bundle!)).toEqual([]);
  });

  test('OBX-4 as OG (^group^sequence) and OBX-30 sub-type (table 0937)', () => {
    const c = cdc('TN/001_TN_ORU_R01_LRI.hl7');
    const second = of<Observation>(c.bundle!, 'Observation').find((o) => o.code.coding?.[0]?.code === '57718-9')!;
    expect(ext(second, 'observation-v2-subid')!.extension).toEqual([{ url: 'group', valueDecimal: 2 }, { url: 'sequence', valueDecimal: 1 }]);
    expect(ext(second, 'observation-structure-type')!.valueCodeableConcept!.coding![0]).toEqual({ system: 'http://terminology.hl7.org/CodeSystem/v2-0937', code: 'UNSP' });
    expect(errorsOf(c.bundle!)).toEqual([]);
  });
});

describe('ORC/OBR fields per the IG ORC and OBR maps', () => {
  test('ORC-21/22/23 ordering facility and ORC-12 provider make a PractitionerRole requester; OBR-2/3 identify the report', () => {
    const c = cdc('TN/001_TN_ORU_R01_LRI.hl7');
    const [sr] = of<ServiceRequest>(c.bundle!, 'ServiceRequest');
    const role = byRef<PractitionerRole>(c.bundle!, sr!.requester!.reference)!;
    expect(role.code![0]!.coding![0]!.code).toBe('OP');
    expect(byRef<Practitioner>(c.bundle!, role.practitioner!.reference)!.identifier![0]!.value).toBe('3209224'); // ORC-12
    const facility = byRef<Organization>(c.bundle!, role.organization!.reference)!;
    expect(facility.name).toBe('Covenant- Morristown-Hamblen Healthcare System'); // ORC-21
    expect(facility.address![0]).toMatchObject({ line: ['908 West Fourth North Street'], city: 'Morristown' }); // ORC-22
    expect(facility.telecom![0]!.value).toBe('423 4929000'); // ORC-23
    const [dr] = of<DiagnosticReport>(c.bundle!, 'DiagnosticReport');
    expect(dr!.identifier!.map((i) => [i.type!.coding![0]!.code, i.value])).toEqual([['PLAC', '4744621287'], ['FILL', '20222561001'], ['ACSN', '20222561001']]);
    // Every OBR here carries the panel's own numbers in OBR-29: a reference by them would point at
    // the order itself, so it stays out, and --explain says why.
    expect(sr!.basedOn).toBeUndefined();
    expect(c.explanation!.fields.find((f) => f.field === 'OBR-29')!.dropped).toMatch(/own numbers/);
    expect(errorsOf(c.bundle!)).toEqual([]);
  });

  test('OBR-11 G is a reflex order; OBR-47 filler supplemental information is orderDetail', () => {
    const c = cdc('TX/002_TX_ORU_R01.hl7');
    const [sr] = of<ServiceRequest>(c.bundle!, 'ServiceRequest');
    expect(sr!.intent).toBe('reflex-order');
    expect(sr!.orderDetail![0]!.coding![0]!.code).toBe('NDBS');
    expect(errorsOf(c.bundle!)).toEqual([]);
  });

  test('ORM^O01: OBR-29 parent (filler part) → basedOn; ORC-29 order type → locationCode', () => {
    const c = corpus('ORM-O01-01.hl7');
    const [sr] = of<ServiceRequest>(c.bundle!, 'ServiceRequest');
    expect(sr!.basedOn).toEqual([{ type: 'ServiceRequest', identifier: { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'FILL' }] }, value: 'FAI-29' } }]);
    expect(sr!.locationCode![0]!.coding![0]).toEqual({ system: 'http://terminology.hl7.org/CodeSystem/v2-0482', code: 'O' });
    // OBR-16 names another doctor than ORC-12: the IG keeps ORC-12, and --explain says so.
    expect(c.explanation!.fields.find((f) => f.field === 'OBR-16')!.dropped).toMatch(/ORC-12/);
    expect(errorsOf(c.bundle!)).toEqual([]);
  });
});

describe('PRT per the IG PRT maps (PractitionerRole, Device, Observation location)', () => {
  test('PRT after an OBX: person → performer PractitionerRole, PRT-10 → device, PRT-9 → event-location', () => {
    const c = corpus('ORU-R01-01.hl7');
    const obs = of<Observation>(c.bundle!, 'Observation').find((o) => o.code.coding?.[0]?.code === '8867-4' && o.valueQuantity?.value === 27)!;
    const role = obs.performer!.map((r) => byRef<PractitionerRole>(c.bundle!, r.reference)).find((r) => r?.resourceType === 'PractitionerRole')!;
    expect(role.organization!.display).toBe('Specimen Organization'); // PRT-8
    expect(role.code![0]!.coding![0]!.code).toBe('AD'); // PRT-4
    expect(byRef<Device>(c.bundle!, obs.device!.reference)!.identifier![0]!.value).toBe('PD-10.1'); // PRT-10
    const loc = obs.extension!.find((e) => e.url === 'http://hl7.org/fhir/StructureDefinition/event-location')!;
    expect(loc.valueReference!.display).toMatch(/room 136/); // PRT-9
    expect(errorsOf(c.bundle!)).toEqual([]);
  });

  test('PRT in the visit: an Encounter participant with its period; a device PRT with lot, serial and dates', () => {
    const c = corpus('DFT-P03-01.hl7');
    const enc = of<Encounter>(c.bundle!, 'Encounter')[0]!;
    const part = enc.participant!.find((p) => p.period?.start === '2021-02-23T09:30:00+07:00')!; // PRT-11
    const role = byRef<PractitionerRole>(c.bundle!, part.individual!.reference)!;
    expect(role.period).toEqual({ start: '2021-02-23T09:30:00+07:00', end: '2021-02-24T10:00:00+07:00' }); // PRT-11/12
    const dev = of<Device>(c.bundle!, 'Device').find((d) => d.identifier?.[0]?.value === 'SampleDevice')!; // PRT-10
    expect(dev).toMatchObject({ manufactureDate: '2014-04-01', expirationDate: '2022-07-12', lotNumber: '123ABC', serialNumber: '21A11F4855', distinctIdentifier: 'RA12345678BA123' }); // PRT-17–21
    expect(c.explanation!.fields.filter((f) => f.field.startsWith('PRT') && f.dropped?.startsWith('segment PRT'))).toEqual([]);
    expect(errorsOf(c.bundle!)).toEqual([]);
  });
});

describe('PD1 and IN1 fields', () => {
  test('PD1-7 living will → an advance-directive Observation (IG PD1[Observation-LivingWill])', () => {
    // A file of many ADT messages, each with PD1-7 "I".
    const [c] = convertHl7v2Batch(readFileSync(join(HL7V2, 'mirth-connect/samples/TestADT.hl7')));
    const will = of<Observation>(c!.bundle!, 'Observation').find((o) => o.code.coding?.[0]?.code === '75320-2')!;
    expect(will.valueCodeableConcept!.coding![0]).toMatchObject({ system: 'http://terminology.hl7.org/CodeSystem/v2-0315', code: 'I' });
    expect(will.subject!.reference).toMatch(/^Patient\//);
    expect(errorsOf(c!.bundle!)).toEqual([]);
  });

  test('IN1-11 policy holder; IN1-19/43 the insured person address and sex', () => {
    const c = corpus('ADT-A04-01.hl7');
    const [cov] = of<Coverage>(c.bundle!, 'Coverage');
    expect(byRef<Organization>(c.bundle!, cov!.policyHolder!.reference)!.name).toBe('Sam P. Hil');
    const insured = byRef<RelatedPerson>(c.bundle!, cov!.subscriber!.reference)!;
    expect(insured.address![0]!.line).toEqual(['3857 Velvet Treasure Terrace']);
    expect(insured.gender).toBe('female');
    expect(errorsOf(c.bundle!)).toEqual([]);
  });
});

describe('PID-21 and DG1-4', () => {
  test('PID-21 mother\'s identifier → RelatedPerson MTH; DG1-4 description → Condition.code.text', () => {
    const c = corpus('ADT-A04-01.hl7');
    const dx = of<Condition>(c.bundle!, 'Condition').find((x) => x.code!.coding?.[0]?.code === '422504002')!;
    expect(dx.code!.text).toBe('Stroke'); // DG1-4
    expect(dx.code!.coding![0]!.display).toBe('Ischemic stroke(disorder)'); // DG1-3.2 stays
    expect(errorsOf(c.bundle!)).toEqual([]);
    const siu = corpus('SIU-S12-01.hl7');
    const mom = of<RelatedPerson>(siu.bundle!, 'RelatedPerson').find((r) => r.relationship?.[0]?.coding?.[0]?.code === 'MTH')!;
    expect(mom.identifier![0]!.value).toBe('1212121'); // PID-21
    expect(mom.patient.reference).toMatch(/^Patient\//);
    expect(errorsOf(siu.bundle!)).toEqual([]);
  });
});

test('TQ1 in RDE^O11 per the IG TQ1[MedicationRequest] map: priority, condition, text, occurrence duration', () => {
  const c = corpus('RDE-O11-01.hl7');
  const mr = of<MedicationRequest>(c.bundle!, 'MedicationRequest').find((m) => m.intent === 'order')!;
  expect(mr.priority).toBe('stat'); // TQ1-9 S
  // The RXO beside the RXE is the prescriber's order as written: its own request, which the encoded one is based on.
  const original = of<MedicationRequest>(c.bundle!, 'MedicationRequest').find((m) => m.intent === 'original-order')!;
  expect(mr.basedOn).toEqual([{ reference: `MedicationRequest/${original.id}` }]);
  // RXO-1 with the RXC components after it: a Medication of its own.
  const med = byRef<Medication>(c.bundle!, original.medicationReference!.reference)!;
  expect(med.code!.coding![0]!.code).toBe('00047040230');
  expect(original.dispenseRequest!.quantity!.value).toBe(10); // RXO-11
  const dose = mr.dosageInstruction![0]!;
  expect(dose.additionalInstruction).toEqual([{ text: 'Its a condition text' }]); // TQ1-10
  expect(dose.text).toMatch(/; Text instruction latest$/); // TQ1-11 after RXE-7
  expect(dose.timing!.repeat).toMatchObject({ duration: 1, durationUnit: 'a' }); // TQ1-13 1^ann
  expect(errorsOf(c.bundle!)).toEqual([]);
});

test('SPM under an OML^O21 order → Specimen in ServiceRequest.specimen (IG OML_O21 map)', () => {
  const c = corpus('MDHHS-OML-O21-1.hl7');
  const [sr] = of<ServiceRequest>(c.bundle!, 'ServiceRequest');
  const spm = byRef<Specimen>(c.bundle!, sr!.specimen![0]!.reference)!;
  expect(spm.identifier![0]!.value).toBe('4222'); // SPM-2
  expect(spm.type!.coding![0]).toMatchObject({ code: '67922002', display: 'Serum' }); // SPM-4
  expect(spm.collection!.collectedDateTime).toBe('2016-03-08T17:05:51-05:00'); // SPM-17
  expect(errorsOf(c.bundle!)).toEqual([]);
});

test('OUL^R22: an OBX before any order is an Observation of the patient (IG ORU_R01 PATIENT_OBSERVATION)', () => {
  const c = corpus('OUL-R22-01.hl7');
  const obs = of<Observation>(c.bundle!, 'Observation').find((o) => o.code.coding?.[0]?.code === '8867-4')!;
  expect(obs.valueQuantity).toMatchObject({ value: 60, code: '/min' }); // OBX-5, OBX-6
  expect(obs.subject!.reference).toMatch(/^Patient\//);
  expect(obs.effectiveDateTime).toBe('1999-07-02'); // OBX-14
  expect(of<DiagnosticReport>(c.bundle!, 'DiagnosticReport').flatMap((d) => d.result ?? []).map((r) => r.reference)).not.toContain(`Observation/${obs.id}`);
  expect(errorsOf(c.bundle!)).toEqual([]);
});

test('ORM^O01 patient group and order DG1: AL1, IN1 as in ADT; DG1 in the order → ServiceRequest.reasonReference (IG ORM_O01 map)', () => {
  const c = corpus('ORM-O01-02.hl7');
  const [sr] = of<ServiceRequest>(c.bundle!, 'ServiceRequest');
  const dx = byRef<Condition>(c.bundle!, sr!.reasonReference![0]!.reference)!;
  expect(dx.code!.coding![0]!.code).toBe('S06.9'); // DG1-3
  expect(of<AllergyIntolerance>(c.bundle!, 'AllergyIntolerance')[0]!.code!.coding![0]!.code).toBe('XYZallergen'); // AL1-3
  expect(of<Coverage>(c.bundle!, 'Coverage')).toHaveLength(1); // IN1
  for (const f of ['AL1-3', 'DG1-3', 'IN1-3']) expect(c.explanation!.fields.find((x) => x.field === f)).toMatchObject({ element: expect.any(String) });
  expect(errorsOf(c.bundle!)).toEqual([]);
});

test('ADT^A01: PV2-38 mode of arrival and PD1-14 place of worship → the IG\'s extensions', () => {
  const c = corpus('ADT-A01-01.hl7');
  const enc = of<Encounter>(c.bundle!, 'Encounter')[0]!;
  expect(enc.extension).toContainEqual({ url: 'http://hl7.org/fhir/StructureDefinition/encounter-modeOfArrival', valueCoding: { system: 'http://terminology.hl7.org/CodeSystem/v2-0430', code: 'C' } });
  const patient = of<Patient>(c.bundle!, 'Patient')[0]!;
  expect(patient.extension).toContainEqual({ url: 'http://hl7.org/fhir/StructureDefinition/patient-congregation', valueString: 'Methodist Church' });
  expect(errorsOf(c.bundle!)).toEqual([]);
});

test('TQ1 of an order per the IG TQ1[ServiceRequest] map: TQ1-2 quantity, TQ1-11 text instruction as a note', () => {
  const c = corpus('MDM-T02-01.hl7');
  const sr = of<ServiceRequest>(c.bundle!, 'ServiceRequest').find((x) => x.quantityQuantity)!;
  expect(sr.quantityQuantity).toMatchObject({ value: 54, unit: 'lbs' }); // TQ1-2 54^&lbs
  expect(sr.note).toContainEqual({ text: 'Please follow the text instructions' }); // TQ1-11
  expect(errorsOf(c.bundle!)).toEqual([]);
});
