import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Account, Appointment, Condition, Organization, Procedure, Bundle, ChargeItem, Coverage, DocumentReference, Encounter, FhirResource, MessageHeader, Observation, Patient, Practitioner, PractitionerRole, Provenance, RelatedPerson, ServiceRequest, Task } from 'fhir/r4';
import { convertHl7v2 } from '../../src/ingest/hl7v2';
import { validateResource } from '../../src/validation';
import { CONVERTER } from './corpus';

// What the FHIR-Converter inputs carry beyond the common segments, and where it now goes: the
// patient group in every message, TQ1 timing, the order's Provenance, the message header, SIU
// participants, referral providers, specimen observations. Each assertion names its v2 field.

const corpus = (name: string) => convertHl7v2(readFileSync(join(CONVERTER, 'input/Hl7v2', name)), {}, { explain: true });
const all = (b: Bundle) => (b.entry ?? []).map((e) => e.resource as FhirResource);
const of = <T extends FhirResource>(b: Bundle, t: T['resourceType']) => all(b).filter((r) => r.resourceType === t) as T[];
const byRef = <T extends FhirResource>(b: Bundle, ref: string | undefined) => all(b).find((r) => `${r.resourceType}/${r.id}` === ref) as T | undefined;
const errorsOf = (b: Bundle) => all(b).flatMap((r) => validateResource(r).filter((i) => i.severity === 'error').map((i) => `${r.resourceType} ${i.expression} ${i.diagnostics}`));
const explained = (c: ReturnType<typeof corpus>, field: string) => c.explanation!.fields.find((f) => f.field === field);

const hl7 = (...segments: string[]) => Buffer.from(segments.join('\r'), 'utf8');
/** A segment from its numbered fields. */
const seg = (id: string, fields: Record<number, string>) => {
  const n = Math.max(...Object.keys(fields).map(Number));
  return [id, ...Array.from({ length: n }, (_, i) => fields[i + 1] ?? '')].join('|');
};

describe('the patient group in every message', () => {
  test('ORM^O01: GT1 → the guarantor RelatedPerson on the patient Account (PID-18); FT1 under the order → ChargeItem', () => {
    const c = corpus('ORM-O01-02.hl7');
    const account = of<Account>(c.bundle!, 'Account')[0]!;
    const guarantor = byRef<RelatedPerson>(c.bundle!, account.guarantor![0]!.party.reference)!;
    expect(guarantor.name![0]!.family).toBe('RADIANT'); // GT1-3
    expect(guarantor.identifier![0]!.value).toBe('1516'); // GT1-2
    expect(guarantor.address![0]!.city).toBe('MADISON'); // GT1-5
    expect(errorsOf(c.bundle!)).toEqual([]);
    const withCharge = corpus('ORM-O01-01.hl7');
    const [charge] = of<ChargeItem>(withCharge.bundle!, 'ChargeItem');
    expect(charge!.code.coding![0]!.code).toBe('71045'); // FT1-7
    expect(charge!.subject.reference).toBe(`Patient/${of<Patient>(withCharge.bundle!, 'Patient')[0]!.id}`);
    expect(errorsOf(withCharge.bundle!)).toEqual([]);
  });

  test('DFT^P03: FT1-13 department is the cost center, FT1-29 the product', () => {
    const c = corpus('DFT-P03-01.hl7');
    const charge = of<ChargeItem>(c.bundle!, 'ChargeItem').find((x) => x.code.coding?.[0]?.code === '71045')!;
    expect(charge.costCenter).toEqual({ identifier: { value: 'RAD-1' }, display: 'Radiology Deptt' });
    expect(errorsOf(c.bundle!)).toEqual([]);
  });

  test('ADT^A31 keeps its visit (the IG maps ADT_A05 PV1 → Encounter), with PV1-54 as episodeOfCare', () => {
    const c = corpus('ADT-A31-01.hl7');
    const [enc] = of<Encounter>(c.bundle!, 'Encounter');
    expect(enc!.identifier![0]!.value).toBe('40007716'); // PV1-19
    expect(enc!.episodeOfCare).toEqual([{ type: 'EpisodeOfCare', identifier: { value: 'EOC124' } }]); // PV1-54
    // IN2-61 patient member number is the Coverage's MB identifier; PID-35 species → patient-animal.
    const coverage = of<Coverage>(c.bundle!, 'Coverage')[0]!;
    expect(coverage.identifier).toContainEqual({ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MB' }] }, value: 'PNM1234' });
    const patient = of<Patient>(c.bundle!, 'Patient')[0]!;
    expect(patient.extension!.some((e) => e.url === 'http://hl7.org/fhir/StructureDefinition/patient-animal')).toBe(true);
    expect(errorsOf(c.bundle!)).toEqual([]);
  });

  test('ADT^A05: PV2-8/9 expected admission and discharge → the IG\'s R5 cross-version extensions', () => {
    const c = corpus('ADT-A05-01.hl7');
    const [enc] = of<Encounter>(c.bundle!, 'Encounter');
    const ext = Object.fromEntries(enc!.extension!.map((e) => [e.url.split('.').pop(), e.valueDateTime]));
    expect(ext).toMatchObject({ plannedStartDate: '2015-02-08T11:34:19+01:10', plannedEndDate: '2015-02-09T11:34:19+01:10' });
    expect(errorsOf(c.bundle!)).toEqual([]);
  });

  test('PID-33/34 → a Provenance over the Patient (IG PID[Provenance-Patient])', () => {
    const c = corpus('ADT-A31-01.hl7');
    const patient = of<Patient>(c.bundle!, 'Patient')[0]!;
    const prov = of<Provenance>(c.bundle!, 'Provenance').find((p) => p.target.length === 1 && p.target[0]!.reference === `Patient/${patient.id}`)!;
    expect(prov.occurredDateTime).toBe('2005-01-10T01:50:14+03:15');
    expect(prov.agent[0]!.who.display).toBe('GHHSFacility'); // PID-34
  });
});

describe('Vietnamese ethnic group and financial class', () => {
  const pid = (race: string, ethnic: string) => {
    const fields = Array.from({ length: 23 }, () => '');
    fields[0] = 'PID'; fields[1] = '1'; fields[3] = 'BN0001^^^79001^PI'; fields[5] = 'NGUYEN^VAN AN'; fields[7] = '19800101'; fields[8] = 'M';
    fields[10] = race; fields[22] = ethnic;
    return fields.join('|');
  };
  const convert = (race: string, ethnic: string, financialClass: string) => convertHl7v2(hl7(
    'MSH|^~\\&|HIS|79001|GW|GW|20241201083000+0700||ADT^A01^ADT_A01|MSG1|P|2.5',
    'EVN|A01|20241201083000+0700',
    pid(race, ethnic),
    `PV1|1|I|K01^P1^G1^79001||||||||||||||||V001|${financialClass}`,
    'IN1|1|BHYT|VSS|Bao hiem xa hoi||||||||20240101|20241231|||NGUYEN^VAN AN|SEL||||||||||||||||||||DN4797912345678',
  ), {}, { explain: true });

  test('PID-22 (or PID-10) with a GSO dân tộc code → vn-ethnic-group; a US code is left out with the reason', () => {
    const tay = convert('', '02^Tày^vn-core-race', 'BH');
    const ext = of<Patient>(tay.bundle!, 'Patient')[0]!.extension!.find((e) => e.url.endsWith('/vn-ethnic-group'))!;
    expect(ext.valueCoding).toMatchObject({ system: 'http://fhir.ehealth.gov.vn/core/CodeSystem/vn-core-race', code: '02' });
    const kinh = convert('1', '', '');
    expect(of<Patient>(kinh.bundle!, 'Patient')[0]!.extension!.find((e) => e.url.endsWith('/vn-ethnic-group'))!.valueCoding!.code).toBe('01'); // PID-10 "1" → 01 Kinh
    const us = convert('2106-3^White^CDCREC', '', '');
    expect(of<Patient>(us.bundle!, 'Patient')[0]!.extension ?? []).toEqual([]);
    expect(explained(us, 'PID-10')!.dropped).toMatch(/not a GSO/);
    for (const c of [tay, kinh, us]) expect(errorsOf(c.bundle!)).toEqual([]);
  });

  test('PV1-20 financial class types the first IN1 Coverage (IG PV1[Coverage])', () => {
    const c = convert('', '', 'BH^Bao hiem y te');
    const coverage = of<Coverage>(c.bundle!, 'Coverage')[0]!;
    expect(coverage.type!.coding![0]).toMatchObject({ system: 'http://terminology.hl7.org/CodeSystem/v2-0064', code: 'BH' });
    expect(errorsOf(c.bundle!)).toEqual([]);
  });
});

describe('orders', () => {
  test('TQ1 with more than a start → occurrenceTiming; TQ1-10 → asNeeded; the OBX after a leading SPM are the order\'s results', () => {
    const c = corpus('OUL-R22-01.hl7');
    const sr = of<ServiceRequest>(c.bundle!, 'ServiceRequest').find((s) => s.occurrenceTiming)!;
    expect(sr.occurrenceDateTime).toBeUndefined();
    expect(sr.occurrenceTiming!.repeat).toMatchObject({ count: 5, duration: 2, durationUnit: 'h' }); // TQ1-14, TQ1-13
    expect(sr.occurrenceTiming!.repeat!.boundsPeriod).toEqual({ start: '2021-10-09T16:00:00-08:00', end: '2021-11-09T16:00:00-08:00' }); // TQ1-7/8
    expect(sr.asNeededCodeableConcept).toEqual({ text: 'This is condition text' }); // TQ1-10
    // OBX(2) follows the SPM, before any OBR: a specimen observation that is now one of the results.
    const values = of<Observation>(c.bundle!, 'Observation').map((o) => o.valueString ?? o.valueCodeableConcept?.text ?? o.valueCodeableConcept?.coding?.[0]?.code);
    expect(values).toContain('160');
    expect(explained(c, 'OBX(2)-3')!.element).toBe('Observation.code');
    expect(errorsOf(c.bundle!)).toEqual([]);
  });

  test('ORC-10/11 (entered, verified by) → a Provenance over the order (IG ORC[Provenance])', () => {
    const c = corpus('ORM-O01-02.hl7');
    const sr = of<ServiceRequest>(c.bundle!, 'ServiceRequest')[0]!;
    const prov = of<Provenance>(c.bundle!, 'Provenance').find((p) => p.target[0]!.reference === `ServiceRequest/${sr.id}` && p.target.length === 1)!;
    const byRole = Object.fromEntries(prov.agent.map((a) => [a.type!.coding![0]!.code, byRef<Practitioner>(c.bundle!, a.who.reference)!.name![0]!.family]));
    expect(byRole).toMatchObject({ enterer: 'ENTER', verifier: 'VERIFY', author: 'ORDPROVIDER' });
    expect(prov.recorded).toBe('2021-10-20T11:26:00+02:15'); // ORC-9
    expect(prov.activity!.coding![0]!.code).toBe('CREATE'); // ORC-1 NW
    expect(errorsOf(c.bundle!)).toEqual([]);
  });
});

describe('message header', () => {
  test('MSH-5/6/19/22/23/24/25 → a MessageHeader contained in the message Provenance; MSH-8 never kept', () => {
    const c = corpus('SIU-S12-01.hl7');
    const prov = of<Provenance>(c.bundle!, 'Provenance').find((p) => p.contained?.length)!;
    const header = prov.contained![0] as MessageHeader;
    expect(prov.entity![0]!.what.reference).toBe('#msh');
    expect(header.eventCoding).toEqual({ system: 'http://terminology.hl7.org/CodeSystem/v2-0003', code: 'S12' });
    expect(header.language).toBe('en-US'); // MSH-19
    expect(header.destination![0]!.name).toBe('EHRApp'); // MSH-5
    expect(header.destination![0]!.endpoint).toBe('urn:oid:2.16.840.1.114884.10.23'); // MSH-25
    expect(header.source.endpoint).toBe('urn:oid:2.16.840.1.114884.10.20'); // MSH-24
    expect(JSON.stringify(prov)).not.toContain('SECURITY'); // MSH-8
    expect(explained(c, 'MSH-8')!.dropped).toMatch(/never/);
    expect(errorsOf(c.bundle!)).toEqual([]);
  });
});

describe('scheduling', () => {
  test('SIU^S12: AIP/AIG/AIL start and duration → participant.period; SCH-12/16/20 → contact and enterer participants', () => {
    const c = corpus('SIU-S12-01.hl7');
    const appt = of<Appointment>(c.bundle!, 'Appointment')[0]!;
    const doctor = appt.participant.find((p) => p.type?.[0]?.coding?.[0]?.code === '010')!; // AIP-4
    expect(doctor.period).toEqual({ start: '2021-09-24T09:30:00+02:15', end: '2021-09-24T10:20:00+02:15' }); // AIP-6 + AIP-9 50 min
    expect(doctor.status).toBe('accepted'); // AIP-12 Booked
    const contacts = appt.participant.filter((p) => p.type?.[0]?.coding?.[0]?.code === 'CALLBCK');
    expect(contacts.map((p) => p.type![0]!.text)).toEqual(['placer contact', 'filler contact']);
    const placer = byRef<Practitioner>(c.bundle!, contacts[0]!.actor!.reference)!;
    expect(placer.telecom![0]!.value).toBe('(608)271-9000'); // SCH-13
    expect(placer.address![0]!.city).toBe('GOODTOWN'); // SCH-14
    expect(appt.participant.some((p) => p.type?.[0]?.coding?.[0]?.code === 'enterer')).toBe(true); // SCH-20
    expect(errorsOf(c.bundle!)).toEqual([]);
  });
});

describe('referrals', () => {
  test('REF^I12: PRD → referring/referred-to PractitionerRoles; RF1-5/8/11 reach the request and its Task', () => {
    const c = corpus('REF-I12-01.hl7');
    const sr = of<ServiceRequest>(c.bundle!, 'ServiceRequest').find((s) => s.identifier?.some((i) => i.system?.endsWith('/referral-letter')))!;
    const roles = of<PractitionerRole>(c.bundle!, 'PractitionerRole');
    const rt = roles.find((r) => r.code?.[0]?.coding?.[0]?.code === 'RT')!;
    const rp = roles.find((r) => r.code?.[0]?.coding?.[0]?.code === 'RP')!;
    expect(byRef<Practitioner>(c.bundle!, rt.practitioner!.reference)!.name![0]!.family).toBe('McWILLIAMS'); // PRD-2
    expect(rt.period).toEqual({ start: '2020-10-12', end: '2024-10-12' }); // PRD-8/9
    expect(rp.organization!.display).toBe('GOOD HEALTH HOSPITAL'); // PRD-10
    expect(sr.performer!.map((p) => p.reference)).toContain(`PractitionerRole/${rt.id}`);
    expect(sr.locationCode![0]!.coding![0]!.code).toBe('O'); // RF1-5
    expect(sr.identifier!.map((i) => i.value)).toContain('11001'); // RF1-11
    const task = of<Task>(c.bundle!, 'Task')[0]!;
    expect(task.restriction!.period!.end).toBe('2022-02-10'); // RF1-8
    expect(errorsOf(c.bundle!)).toEqual([]);
  });
});

describe('documents', () => {
  test('MDM: TXA-4 activity time → DocumentReference.context.period', () => {
    const c = corpus('MDM-T02-01.hl7');
    const doc = of<DocumentReference>(c.bundle!, 'DocumentReference')[0]!;
    const txa4 = c.message!.segments.find((s) => s.id === 'TXA')!.fields[4]?.[0]?.[0]?.[0];
    expect(txa4).toBeTruthy();
    expect(doc.context!.period!.start!.replace(/\D/g, '').slice(0, 12)).toBe(txa4!.slice(0, 12));
    expect(errorsOf(c.bundle!)).toEqual([]);
  });
});

describe('problem lists', () => {
  test('PPR^PC1/PC2/PC3: PRB → a problem-list Condition, updated and then deleted under one id (PRB-4)', () => {
    const added = corpus('PC1-Problem-Add-v2.3.1.hl7');
    const [problem] = of<Condition>(added.bundle!, 'Condition');
    expect(problem!.category![0]!.coding![0]!.code).toBe('problem-list-item');
    expect(problem!.code!.coding![0]).toMatchObject({ system: 'http://hl7.org/fhir/sid/icd-9-cm', code: '596.5' }); // PRB-3 (I9)
    expect(problem!.identifier).toEqual([{ value: '26744' }]); // PRB-4
    expect(problem!.clinicalStatus!.coding![0]!.code).toBe('active'); // PRB-14
    expect(problem!.onsetDateTime).toBe('2004-06-29'); // PRB-16
    const updated = of<Condition>(corpus('PC1-Problem-Update-v2.3.1.hl7').bundle!, 'Condition')[0]!;
    expect(updated.clinicalStatus!.coding![0]!.code).toBe('resolved');
    const deleted = of<Condition>(corpus('PC1-Problem-Delete-v2.3.1.hl7').bundle!, 'Condition')[0]!;
    expect(deleted.verificationStatus!.coding![0]!.code).toBe('entered-in-error'); // PC3 / PRB-1 DE
    expect(deleted.clinicalStatus).toBeUndefined();
    for (const name of ['PC1-Problem-Add-v2.3.1.hl7', 'PC1-Problem-Update-v2.3.1.hl7', 'PC1-Problem-Delete-v2.3.1.hl7']) expect(errorsOf(corpus(name).bundle!)).toEqual([]);
  });
});

describe('procedures, diagnoses, insurance and accounts in ADT', () => {
  test('ADT^A01: PR1-4/7/23/25, IN1-6/37, GT1-22, PV1-18/41 reach their elements', () => {
    const c = corpus('ADT-A01-01.hl7');
    const [proc] = of<Procedure>(c.bundle!, 'Procedure');
    expect(proc!.code!.text).toBe('Biopsy of colon, which was part of colonoscopy'); // PR1-4
    expect(proc!.performedPeriod).toEqual({ start: '2005-01-25T11:40:00+01:00', end: '2005-01-25T11:42:00+01:00' }); // PR1-5 + PR1-7 minutes
    expect(proc!.location!.display).toBe('OT / 201'); // PR1-23
    expect(proc!.partOf).toEqual([{ type: 'Procedure', identifier: { value: 'PR1001' } }]); // PR1-25
    const coverage = of<Coverage>(c.bundle!, 'Coverage')[0]!;
    expect(coverage.costToBeneficiary![0]!.valueMoney).toEqual({ value: 150, currency: 'USD' }); // IN1-37
    const payor = byRef<Organization>(c.bundle!, coverage.payor[0]!.reference)!;
    expect(payor.contact![0]!.name!.family).toBe('Henry'); // IN1-6
    const account = of<Account>(c.bundle!, 'Account')[0]!;
    expect(account.status).toBe('active'); // PV1-41 Active
    expect(account.guarantor![0]!.onHold).toBe(false); // GT1-22 N
    expect(of<Encounter>(c.bundle!, 'Encounter')[0]!.type!.map((t) => t.coding![0]!.code)).toEqual(['E', 'Inpatient']); // PV1-4, PV1-18
    // DG1-22 here holds no entity identifier: left out, and --explain says why.
    expect(explained(c, 'DG1-22')!.dropped).toMatch(/no entity identifier/);
    expect(errorsOf(c.bundle!)).toEqual([]);
  });

  test('DG1-22 naming another diagnosis\'s DG1-20 → condition-dueTo; PRT-2 DE leaves the participation out', () => {
    const c = convertHl7v2(hl7(
      'MSH|^~\\&|HIS|79001|GW|GW|20241201083000+0700||ADT^A08^ADT_A01|MSG2|P|2.8',
      'EVN|A08|20241201083000+0700',
      'PID|1||BN0002^^^79001^PI||TRAN^THI BICH||19900101|F',
      'PV1|1|I|K02^P2^G2^79001||||||||||||||||V002',
      'PRT|1|DE||AD^Admitting Provider^HL70912|BS01^LE^VAN CHAU',
      'PRT|2|AD||AT^Attending Provider^HL70912|BS02^PHAM^THI DUNG',
      seg('DG1', { 1: '1', 3: 'E11.9^Đái tháo đường typ 2^I10', 20: 'DX1' }),
      seg('DG1', { 1: '2', 3: 'E11.21^Biến chứng thận do đái tháo đường^I10', 20: 'DX2', 22: 'DX1' }),
    ), {}, { explain: true });
    const due = of<Condition>(c.bundle!, 'Condition').find((x) => x.identifier?.[0]?.value === 'DX2')!;
    expect(due.extension).toEqual([{ url: 'http://hl7.org/fhir/StructureDefinition/condition-dueTo', valueReference: { type: 'Condition', identifier: { value: 'DX1' } } }]);
    const enc = of<Encounter>(c.bundle!, 'Encounter')[0]!;
    const names = (enc.participant ?? []).map((p) => byRef<PractitionerRole>(c.bundle!, p.individual!.reference)).map((r) => r && byRef<Practitioner>(c.bundle!, r.practitioner!.reference)?.name?.[0]?.family);
    expect(names).toContain('PHAM');
    expect(names).not.toContain('LE');
    expect(errorsOf(c.bundle!)).toEqual([]);
  });

  test('ORU/OUL: a TXA in the result is a DocumentReference related to the order, without copying the report\'s content', () => {
    const c = corpus('OUL-R22-01.hl7');
    const [doc] = of<DocumentReference>(c.bundle!, 'DocumentReference');
    expect(doc!.type!.coding![0]!.code).toBe('DIS'); // TXA-2
    expect(doc!.context!.related!.map((r) => r.reference)).toEqual(of<ServiceRequest>(c.bundle!, 'ServiceRequest').map((s) => `ServiceRequest/${s.id}`));
    expect(doc!.content.every((x) => !x.attachment.data)).toBe(true);
    expect(errorsOf(c.bundle!)).toEqual([]);
  });
});

describe('several OBR under one order number', () => {
  test('each is its own ServiceRequest (the first keeps the order\'s id); a sub-panel links to its panel by OBR-29/50', () => {
    const c = convertHl7v2(hl7(
      'MSH|^~\\&|LIS|79001|GW|GW|20241201090000+0700||ORU^R01^ORU_R01|MSG3|P|2.5.1',
      'PID|1||BN0003^^^79001^PI||HOANG^VAN EM||20240101|M',
      'ORC|RE|SO123^HIS|LAB456^LIS',
      seg('OBR', { 1: '1', 2: 'SO123^HIS', 3: 'LAB456^LIS', 4: '54089-8^Newborn screening panel^LN', 7: '20241201080000+0700', 25: 'F' }),
      seg('OBR', { 1: '2', 2: 'SO123^HIS', 3: 'LAB456^LIS', 4: '57128-1^Newborn screening report summary^LN', 7: '20241201080000+0700', 25: 'F', 29: 'SO123&HIS^LAB456&LIS', 50: '54089-8^Newborn screening panel^LN' }),
      'OBX|1|ST|57721-7^Reason for lab test in Dried blood spot^LN||Routine||||||F',
    ), {}, { explain: true });
    const srs = of<ServiceRequest>(c.bundle!, 'ServiceRequest');
    expect(srs.map((s) => s.code!.coding![0]!.code)).toEqual(['54089-8', '57128-1']);
    const [panel, child] = srs;
    expect(child!.basedOn).toEqual([{ reference: `ServiceRequest/${panel!.id}`, display: 'Newborn screening panel' }]); // OBR-29 + OBR-50
    expect(explained(c, 'OBR(2)-29')!.element).toBeDefined();
    expect(errorsOf(c.bundle!)).toEqual([]);
  });
});
