import type { AllergyIntolerance, Bundle, Condition, Coverage, Encounter, FhirResource, Location, Observation, Patient, Practitioner, Procedure, Provenance, RelatedPerson, Account, PractitionerRole, Device } from 'fhir/r4';
import { convertHl7v2, parseHl7v2 } from '../../src/ingest/hl7v2';
import { mapHl7v2 } from '../../src/ingest/hl7v2/map';
import { validateResource } from '../../src/validation';

const cfg = { facility: '79001', identifierAuthorities: { BCA: 'CCCD', BHXH: 'BHYT', 'BV_CR^MR': 'MA_BN' } };
const msg = (type: string, body: string, id = 'A1') =>
  Buffer.from(`MSH|^~\\&|HIS|BV_CR|GW|SYT|202611231030||${type}|${id}|P|2.5.1||||||UNICODE UTF-8\r` + body.trim().replace(/\n/g, '\r'), 'utf8');
const all = (b: Bundle) => (b.entry ?? []).map((e) => e.resource as FhirResource);
const of = <T extends FhirResource>(b: Bundle, t: string) => all(b).filter((r) => r.resourceType === t) as T[];
const errorsOf = (b: Bundle) => all(b).flatMap((r) => validateResource(r).filter((i) => i.severity === 'error').map((i) => `${r.resourceType}: ${i.expression ?? ''} ${i.diagnostics}`));

const PID = 'PID|1||BN0001^^^BV_CR^MR~079123456789^^^BCA^NI|ALT-77^^^KHAC^PI|Nguyễn^Văn An||19800115083000|M|Nguyen^An||12 Lê Lợi^^Quận 1^TP HCM^^VN|Q1|0909123456^PRN^CP^^^^^^^^^0909123456|||M^Married^HL70002|BUD^Buddhist^HL70006|ACC-1|123-45-6789|B1234567^HCM^20301231|||Hà Nội|||||VNM^Viet Nam||||||||||||an@example.vn^NET^Internet^an@example.vn';
const A01 = `
EVN|A01|202611231029|||NV01^Trần^Thu|202611231000
SFT|VNPT^^^^^^^^^VNPT|4.2|VNPT-HIS|B-77
${PID}
PD1|||BV Quận 1^^^^^^^^^79024|BS01^Lê^Minh
NK1|1|Nguyễn^Thị Bình|SPO^Vợ^HL70063|12 Lê Lợi^^Quận 1|0909000111
PV1|1|I|KHOA_NOI^P101^G01||PRE-9||BS01^Lê^Minh^^^BS|BS02^Phạm^Hoa||MED||||7^Chuyển tuyến|||BS03^Võ^Nam||VS001|||||||||||||||||01^Về nhà||DD^Diabetic diet||||||202611230800||||||ALT-VS1
PV2|||R51^Sốt^I10||||||||3
ROL|1|AD|PP^Primary care^HL70443|BS04^Đỗ^Lan||||||||0283999888
DG1|1||E11.9^Đái tháo đường type 2^I10||202601010000|A|||||||||1|BS01^Lê^Minh
AL1|1|DA|N02BE01^Paracetamol^ATC|SV|Mày đay
IAM|1|FA|F001^Hải sản|MO|Ngứa|A|ALG-9
PR1|1||0UT90ZZ^Cắt tử cung^ICD10PCS||202611231200|||||||BS02^Phạm^Hoa
IN1|1|GD4^Bảo hiểm y tế|BHXH^^^^^^^^^BHXH|Bảo hiểm xã hội Việt Nam||||||||20260101|20261231||||SEL|||||||||||||||||||GD4797912345678
GT1|1|G-1|Nguyễn^Thị Bình||12 Lê Lợi^^Quận 1|0909000111||||SPO
OBX|1|NM|8302-2^Chiều cao^LN||170|cm|||||F
OBX|2|NM|29463-7^Cân nặng^LN||65|kg|||||F`;

describe('ADT^A01 with every patient and visit segment', () => {
  const c = convertHl7v2(msg('ADT^A01^ADT_A01', A01), cfg);
  const b = c.bundle!;

  test('converts without errors, to resources that validate', () => {
    expect(c.issues.filter((i) => i.severity === 'error')).toEqual([]);
    expect(errorsOf(b)).toEqual([]);
  });

  test('PID: PID-4/19/20 identifiers, PID-13.12, PID-40 email, language, religion, nationality, birth time', () => {
    const p = of<Patient>(b, 'Patient')[0]!;
    expect(p.identifier!.map((i) => i.value)).toEqual(['BN0001', '079123456789', 'ALT-77', '123-45-6789', 'B1234567']);
    expect(p.identifier![3]!.type!.coding![0]!.code).toBe('SS');
    expect(p.identifier![4]).toMatchObject({ type: { coding: [{ code: 'DL' }] }, period: { end: '2030-12-31' } });
    expect(p.telecom).toEqual(expect.arrayContaining([expect.objectContaining({ system: 'email', value: 'an@example.vn' })]));
    expect(p.name).toHaveLength(2);
    expect(p.address![0]!.district).toBe('Q1');
    expect(p._birthDate!.extension![0]).toMatchObject({ url: 'http://hl7.org/fhir/StructureDefinition/patient-birthTime', valueDateTime: '1980-01-15T08:30:00+07:00' });
    expect(p.extension!.map((e) => e.url.split('/').pop())).toEqual(['patient-religion', 'patient-birthPlace', 'patient-nationality']);
    expect(p.generalPractitioner!.map((r) => r.reference!.split('/')[0])).toEqual(['Organization', 'Practitioner']);
  });

  test('PV1/PV2: locations, participants as Practitioners, hospitalization, alternate visit id, reason, length', () => {
    const e = of<Encounter>(b, 'Encounter')[0]!;
    expect(e.identifier!.map((i) => i.value)).toEqual(['VS001', 'ALT-VS1']);
    expect(e.participant!.map((p) => p.type?.[0]?.coding?.[0]?.code ?? p.type?.[0]?.text)).toEqual(['ATND', 'REF', 'ADM', 'PP']);
    expect(e.participant![0]!.individual!.reference).toMatch(/^Practitioner\//);
    expect(e.hospitalization).toMatchObject({ preAdmissionIdentifier: { value: 'PRE-9' }, admitSource: { coding: [{ code: '7' }] }, dischargeDisposition: { coding: [{ code: '01' }] }, dietPreference: [{ coding: [{ code: 'DD' }] }] });
    expect(e.serviceType!.coding![0]!.code).toBe('MED');
    expect(e.reasonCode![0]!.coding![0]!.code).toBe('R51');
    expect(e.length).toMatchObject({ value: 3, code: 'd' });
    expect(e.diagnosis![0]).toMatchObject({ use: { coding: [{ code: 'AD' }] }, rank: 1 });
  });

  test('one Practitioner per real doctor: BS01 in PV1-7, PD1-4 and DG1-16 is one resource', () => {
    const docs = of<Practitioner>(b, 'Practitioner');
    expect(docs.filter((d) => d.identifier?.[0]?.value === 'BS01')).toHaveLength(1);
    expect(docs.map((d) => d.identifier![0]!.value).sort()).toEqual(['BS01', 'BS02', 'BS03', 'BS04', 'NV01']);
    const again = convertHl7v2(msg('ADT^A08^ADT_A01', A01, 'A2'), cfg).bundle!;
    expect(of<Practitioner>(again, 'Practitioner').find((d) => d.identifier![0]!.value === 'BS01')!.id).toBe(docs.find((d) => d.identifier![0]!.value === 'BS01')!.id);
    expect(of<PractitionerRole>(b, 'PractitionerRole')[0]!.telecom ?? of<Practitioner>(b, 'Practitioner').find((d) => d.identifier![0]!.value === 'BS04')!.telecom).toEqual([expect.objectContaining({ value: '0283999888' })]);
  });

  test('NK1 → RelatedPerson; DG1 → Condition; AL1/IAM → AllergyIntolerance; PR1 → Procedure', () => {
    const rp = of<RelatedPerson>(b, 'RelatedPerson').find((r) => r.name?.[0]?.family === 'Nguyễn' && r.address)!;
    expect(rp.relationship![0]!.coding!.map((x) => x.code)).toContain('SPO');
    const cond = of<Condition>(b, 'Condition')[0]!;
    expect(cond).toMatchObject({ code: { coding: [{ code: 'E11.9' }] }, category: [{ coding: [{ code: 'encounter-diagnosis' }] }], onsetDateTime: '2026-01-01T00:00:00+07:00' });
    const [drug, food] = of<AllergyIntolerance>(b, 'AllergyIntolerance');
    expect(drug).toMatchObject({ category: ['medication'], criticality: 'high', reaction: [{ manifestation: [{ text: 'Mày đay' }] }] });
    expect(food).toMatchObject({ category: ['food'], criticality: 'low', identifier: [{ value: 'ALG-9' }] });
    const pr = of<Procedure>(b, 'Procedure')[0]!;
    expect(pr).toMatchObject({ status: 'completed', code: { coding: [{ code: '0UT90ZZ' }] }, performedDateTime: '2026-11-23T12:00:00+07:00' });
    expect(pr.performer![0]!.actor.reference).toMatch(/^Practitioner\//);
  });

  test('IN1 → Coverage with the BHYT card and payor; GT1 → guarantor on the Account; OBX → admission vitals', () => {
    const cov = of<Coverage>(b, 'Coverage')[0]!;
    expect(cov).toMatchObject({ identifier: [{ system: 'http://fhir.ehealth.gov.vn/core/sid/insurance_number', value: 'GD4797912345678' }], relationship: { coding: [{ code: 'self' }] }, period: { start: '2026-01-01', end: '2026-12-31' } });
    expect(cov.payor[0]!.reference).toMatch(/^Organization\//);
    const acc = of<Account>(b, 'Account')[0]!;
    expect(acc.identifier![0]!.value).toBe('ACC-1');
    expect(acc.guarantor![0]!.party.reference).toMatch(/^RelatedPerson\//);
    const obs = of<Observation>(b, 'Observation');
    expect(obs.map((o) => o.valueQuantity?.value)).toEqual([170, 65]);
    expect(obs[0]!.encounter!.reference).toMatch(/^Encounter\//);
  });

  test('MSH/SFT/EVN → Provenance with sending software, event time, operator', () => {
    const prov = of<Provenance>(b, 'Provenance')[0]!;
    expect(prov).toMatchObject({ recorded: '2026-11-23T10:29:00+07:00', occurredDateTime: '2026-11-23T10:00:00+07:00', activity: { coding: [{ code: 'A01' }] } });
    expect(prov.target.length).toBeGreaterThan(10);
    const dev = of<Device>(b, 'Device')[0]!;
    expect(dev).toMatchObject({ manufacturer: 'VNPT', version: [{ value: '4.2' }] });
    expect(prov.agent.map((a) => a.type!.coding![0]!.code)).toEqual(['author', 'enterer']);
  });

  test('explain: every non-empty field is either mapped to an element or dropped with a reason', () => {
    const m = parseHl7v2(msg('ADT^A01^ADT_A01', A01)).messages[0]!;
    const { explanation } = mapHl7v2(m, cfg, { explain: true });
    expect(explanation!.fields.find((f) => f.field === 'PV1-7')!.element).toMatch(/Practitioner/);
    expect(explanation!.fields.find((f) => f.field === 'PID-22')).toBeUndefined();
    expect(explanation!.fields.every((f) => f.element || f.dropped)).toBe(true);
    expect(explanation!.mapped / explanation!.nonEmpty).toBeGreaterThan(0.9);
  });
});

describe('ADT events beyond admit/discharge', () => {
  const pid2 = 'PID|1||BN0002^^^BV_CR^MR||Trần^Bình||19900101|F';
  test('A17 swaps beds: two patients, two visits', () => {
    const c = convertHl7v2(msg('ADT^A17^ADT_A17', `EVN|A17|202611231029\n${PID}\nPV1|1|I|K1^P1^G1||||||||||||||||V1\n${pid2}\nPV1|1|I|K1^P1^G2||||||||||||||||V2`), cfg);
    expect(of<Patient>(c.bundle!, 'Patient')).toHaveLength(2);
    const encs = of<Encounter>(c.bundle!, 'Encounter');
    expect(encs.map((e) => e.identifier![0]!.value)).toEqual(['V1', 'V2']);
    expect(encs[0]!.subject!.reference).not.toBe(encs[1]!.subject!.reference);
  });
  test('A20 updates a bed status without a patient', () => {
    const c = convertHl7v2(msg('ADT^A20^ADT_A20', 'EVN|A20|202611231029\nNPU|K1^P1^G1|H'), cfg);
    expect(c.issues.filter((i) => i.severity === 'error')).toEqual([]);
    expect(of<Location>(c.bundle!, 'Location')[0]!.operationalStatus).toMatchObject({ code: 'H' });
  });
  test('A24 links two records, A29 deactivates, A47 replaces an identifier, A21 is leave', () => {
    const link = convertHl7v2(msg('ADT^A24^ADT_A24', `EVN|A24|202611231029\n${PID}\n${pid2}`), cfg).bundle!;
    expect(of<Patient>(link, 'Patient').map((p) => p.link![0]!.type)).toEqual(['seealso', 'seealso']);
    const del = convertHl7v2(msg('ADT^A29^ADT_A21', `EVN|A29|202611231029\n${PID}`), cfg).bundle!;
    expect(of<Patient>(del, 'Patient')[0]!.active).toBe(false);
    const chg = convertHl7v2(msg('ADT^A47^ADT_A30', `EVN|A47|202611231029\n${PID}\nMRG|OLD-1^^^BV_CR^MR`), cfg).bundle!;
    expect(of<Patient>(chg, 'Patient').map((p) => [p.active, p.link?.[0]?.type])).toEqual([[true, 'replaces'], [false, 'replaced-by']]);
    const loa = convertHl7v2(msg('ADT^A21^ADT_A21', `EVN|A21|202611231029\n${PID}\nPV1|1|I|K1^P1^G1||||||||||||||||V1`), cfg).bundle!;
    expect(of<Encounter>(loa, 'Encounter')[0]!.status).toBe('onleave');
  });
  test('A45 moves a visit to the surviving patient', () => {
    const c = convertHl7v2(msg('ADT^A45^ADT_A45', `EVN|A45|202611231029\n${PID}\nMRG|BN0002^^^BV_CR^MR||||V9\nPV1|1|I|K1`), cfg);
    const e = of<Encounter>(c.bundle!, 'Encounter')[0]!;
    expect(e.identifier![0]!.value).toBe('V9');
    expect(e.subject!.reference).toBe(`Patient/${of<Patient>(c.bundle!, 'Patient')[0]!.id}`);
  });
});
