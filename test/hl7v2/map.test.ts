import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundle, DiagnosticReport, Encounter, FhirResource, Observation, Patient, ServiceRequest, Appointment } from 'fhir/r4';
import { convertHl7v2, convertHl7v2Batch } from '../../src/ingest/hl7v2';
import { deterministicId } from '../../src/ingest/ids';
import { validateResource } from '../../src/validation';
import { CONVERTER, HL7V2, walk } from './corpus';

const cases = (JSON.parse(readFileSync(join(CONVERTER, 'test-cases.json'), 'utf8')) as { cases: { kind: string; input: string }[] }).cases
  .filter((c) => c.kind === 'Hl7v2')
  .map((c) => c.input)
  .filter((p) => /(^|\/)(ADT|ORU|ORM|OMG|OMI|SIU|LAB-OR)/.test(p.split('/').pop()!));
const inputs = [...new Set(cases)];

function resources(b: Bundle): FhirResource[] {
  return (b.entry ?? []).map((e) => e.resource as FhirResource);
}

function errorsOf(b: Bundle): string[] {
  return resources(b).flatMap((r) => validateResource(r).filter((i) => i.severity === 'error' || i.severity === 'fatal').map((i) => `${r.resourceType}: ${i.expression ?? ''} ${i.diagnostics}`));
}

const SUPPORTED = /^(ADT-A(0[1-9]|1[0-7]|2[0-9]|3[01]|4[01457]|60)|ADT0[14]|ORU|LAB-ORU|ORM|LAB-ORM|OMG|SIU-S(1[2-7]|26)|SIU_12|SIU-S12_1)/;

describe('fhir-converter ADT/ORU/ORM/OMG/SIU messages convert to valid Bundles', () => {
  test.each(inputs)('%s', (input) => {
    const conv = convertHl7v2(readFileSync(join(CONVERTER, input)));
    const name = input.split('/').pop()!;
    if (!SUPPORTED.test(name)) {
      expect(conv.issues.some((i) => i.code === 'not-supported')).toBe(true);
      expect(conv.ackCode).not.toBe('AA');
      return;
    }
    expect(conv.issues.filter((i) => i.severity === 'error')).toEqual([]);
    expect(conv.bundle?.type).toBe('transaction');
    const rs = resources(conv.bundle!);
    expect(rs.some((r) => r.resourceType === 'Patient')).toBe(true);
    expect(errorsOf(conv.bundle!)).toEqual([]);
    for (const e of conv.bundle!.entry!) expect(e.request!.url).toBe(`${e.resource!.resourceType}/${e.resource!.id}`);
  });
});

test('every CDC and Mirth message converts; the only errors are a PID without identifier and an ACK', () => {
  const failures: string[] = [];
  let converted = 0;
  for (const f of walk(HL7V2, (p) => p.endsWith('.hl7') && !p.includes('Test/Message'))) {
    for (const c of convertHl7v2Batch(readFileSync(f))) {
      const errs = c.issues.filter((i) => i.severity === 'error');
      if (errs.length) failures.push(`${f.slice(HL7V2.length + 1)} ${errs[0]!.expression}`);
      else {
        converted++;
        expect(errorsOf(c.bundle!)).toEqual([]);
      }
    }
  }
  expect(failures.sort()).toEqual(['cdc-trusted-intermediary/CA/002_CA_ORU_R01.hl7 PID-3', 'cdc-trusted-intermediary/Natus/001_Natus_ACK.hl7 MSH-9']);
  expect(converted).toBeGreaterThan(200);
});

const cfg = { facility: '79001', identifierAuthorities: { BCA: 'CCCD', BHXH: 'BHYT', 'BV_CR^MR': 'MA_BN' } };
const vn = (body: string, type = 'ORU^R01^ORU_R01', id = 'VN1') =>
  Buffer.from(`MSH|^~\\&|LIS|BV_CR|GW|SYT|202611231030||${type}|${id}|P|2.5.1||||||UNICODE UTF-8\r` + body.replace(/\n/g, '\r'), 'utf8');
const PID = 'PID|1||BN0001^^^BV_CR^MR~079123456789^^^BCA^NI~DN4797912345678^^^BHXH^HC||Nguyễn^Văn An||19800115|M|||12 Lê Lợi^Phường Bến Nghé^Quận 1^TP Hồ Chí Minh^^VN||0909123456^PRN^CP\n';
const byType = <T extends FhirResource>(b: Bundle, t: string) => resources(b).filter((r) => r.resourceType === t) as T[];

test('PID identifiers map to MA_BN / CCCD / BHYT by configured assigning authority; id from (facility, MA_BN)', () => {
  const c = convertHl7v2(vn(PID + 'PV1|1|I|KHOA_NOI^P101^G01||||||||||||||||VS001|||||||||||||||||||||||||202611230800\n', 'ADT^A01^ADT_A01'), cfg);
  expect(c.facility).toBe('79001');
  const p = byType<Patient>(c.bundle!, 'Patient')[0]!;
  expect(p.id).toBe(deterministicId('79001', 'Patient', 'BN0001'));
  expect(p.identifier!.map((i) => [i.system, i.value])).toEqual([
    ['http://fhir.ehealth.gov.vn/core/sid/patient-internal-id', 'BN0001'],
    ['http://fhir.ehealth.gov.vn/core/sid/national_id', '079123456789'],
    ['http://fhir.ehealth.gov.vn/core/sid/insurance_number', 'DN4797912345678'],
  ]);
  expect(p.name![0]).toMatchObject({ family: 'Nguyễn', given: ['Văn', 'An'] });
  expect(p.gender).toBe('male');
  expect(p.birthDate).toBe('1980-01-15');
  const e = byType<Encounter>(c.bundle!, 'Encounter')[0]!;
  expect(e).toMatchObject({ status: 'in-progress', class: { code: 'IMP' }, period: { start: '2026-11-23T08:00:00+07:00' } });
  expect(e.location![0]!.location.reference).toMatch(/^Location\//);
  expect(errorsOf(c.bundle!)).toEqual([]);
  // The same message again gives the same ids: the store updates instead of duplicating.
  const again = convertHl7v2(vn(PID, 'ADT^A31^ADT_A05', 'VN2'), cfg);
  expect(byType<Patient>(again.bundle!, 'Patient')[0]!.id).toBe(p.id);
});

test('ORU: numeric with UCUM, ranges, flags, coded, text, SN; radiology text becomes the report', () => {
  const body = PID +
    'ORC|RE|ORD1|ACC-2026-1||CM\n' +
    'OBR|1|ORD1|ACC-2026-1|24627-2^CT ngực^LN|||202611230900|||||||||||||||202611231000|||F\n' +
    'OBX|1|NM|2345-7^Glucose^LN||5.6|MMOL/L|3.9-6.1|N|||F|||202611230930\n' +
    'OBX|2|NM|718-7^Hemoglobin^LN||95|g/L^^UCUM|120-160|L|||F\n' +
    'OBX|3|CWE|600-7^Cấy máu^LN||260373001^Detected^SCT||||||F\n' +
    'OBX|4|SN|5778-6^Color^LN||<^0.5|mg/dL|||||F\n' +
    'OBX|5|TX|18782-3^Mô tả^LN^&GDT||Phổi hai bên sáng.~Không thấy tổn thương.||||||F\n' +
    'NTE|1||Đã đối chiếu phim cũ\n' +
    'OBX|6|TX|19005-8^Kết luận^LN^&IMP||Bình thường||||||F\n' +
    'OBX|7|NM|2951-2^Sodium^LN||abc|mmol/L|||||F\n' +
    'SPM|1|SP001||119297000^Máu^SCT|||||||||||||202611230815|202611230830\n';
  const c = convertHl7v2(vn(body), cfg);
  expect(c.issues.filter((i) => i.severity === 'error')).toEqual([]);
  expect(c.issues.find((i) => i.expression === 'OBX(7)-5')?.diagnostics).toMatch(/not a number/);
  const obs = byType<Observation>(c.bundle!, 'Observation');
  expect(obs).toHaveLength(7);
  expect(obs[0]).toMatchObject({ status: 'final', valueQuantity: { value: 5.6, system: 'http://unitsofmeasure.org', code: 'mmol/L' }, effectiveDateTime: '2026-11-23T09:30:00+07:00' });
  expect(obs[0]!.referenceRange![0]).toMatchObject({ low: { value: 3.9 }, high: { value: 6.1 } });
  expect(obs[1]!.interpretation![0]!.coding![0]).toMatchObject({ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', code: 'L' });
  expect(obs[1]!.valueQuantity).toMatchObject({ code: 'g/L' });
  expect(obs[2]!.valueCodeableConcept!.coding![0]).toMatchObject({ system: 'http://snomed.info/sct', code: '260373001' });
  expect(obs[3]!.valueQuantity).toMatchObject({ comparator: '<', value: 0.5, code: 'mg/dL' });
  expect(obs[4]!.valueString).toBe('Phổi hai bên sáng.\nKhông thấy tổn thương.');
  expect(obs[4]!.note![0]!.text).toBe('Đã đối chiếu phim cũ');
  expect(obs[6]!.valueString).toBe('abc');
  const dr = byType<DiagnosticReport>(c.bundle!, 'DiagnosticReport')[0]!;
  expect(dr).toMatchObject({ status: 'final', conclusion: 'Bình thường', issued: '2026-11-23T10:00:00+07:00' });
  expect(dr.result).toHaveLength(7);
  const sp = resources(c.bundle!).find((r) => r.resourceType === 'Specimen')!;
  expect(sp).toMatchObject({ identifier: [{ value: 'SP001' }], collection: { collectedDateTime: '2026-11-23T08:15:00+07:00' } });
  expect(dr.specimen![0]!.reference).toBe(`Specimen/${sp.id}`);
  expect(Buffer.from(dr.presentedForm![0]!.data!, 'base64').toString()).toMatch(/Phổi hai bên sáng/);
  const sr = byType<ServiceRequest>(c.bundle!, 'ServiceRequest')[0]!;
  expect(dr.basedOn![0]!.reference).toBe(`ServiceRequest/${sr.id}`);
  expect(sr.id).toBe(deterministicId('79001', 'ServiceRequest', 'ACC-2026-1'));
  expect(sr.identifier!.find((i) => i.type!.coding![0]!.code === 'ACSN')!.value).toBe('ACC-2026-1');
  expect(errorsOf(c.bundle!)).toEqual([]);
});

test('OMI^O23: the accession number from IPC-1 and the study UID reach the ServiceRequest', () => {
  const body = PID + 'ORC|NW|P77|F77||SC||^^^202611241000^^S\nOBR|1|P77|F77|CT001^CT sọ não^L\nIPC|ACC77|RP1|1.2.840.99.1|SPS1|CT\n';
  const c = convertHl7v2(vn(body, 'OMI^O23^OMI_O23'), cfg);
  const sr = byType<ServiceRequest>(c.bundle!, 'ServiceRequest')[0]!;
  expect(sr.id).toBe(deterministicId('79001', 'ServiceRequest', 'ACC77'));
  expect(sr).toMatchObject({ status: 'active', intent: 'order', priority: 'stat', occurrenceDateTime: '2026-11-24T10:00:00+07:00' });
  expect(sr.identifier!.map((i) => i.value)).toEqual(['P77', 'F77', 'ACC77', 'urn:oid:1.2.840.99.1']);
  expect(sr.category![0]!.coding![0]!.code).toBe('CT');
  expect(errorsOf(c.bundle!)).toEqual([]);
});

test('A40 merge links the two records both ways', () => {
  const c = convertHl7v2(vn(PID + 'MRG|BN0000^^^BV_CR^MR\n', 'ADT^A40^ADT_A39'), cfg);
  const [survivor, old] = byType<Patient>(c.bundle!, 'Patient');
  expect(old!.id).toBe(deterministicId('79001', 'Patient', 'BN0000'));
  expect(survivor!.link).toEqual([{ other: { reference: `Patient/${old!.id}` }, type: 'replaces' }]);
  expect(old).toMatchObject({ active: false, link: [{ other: { reference: `Patient/${survivor!.id}` }, type: 'replaced-by' }] });
  expect(errorsOf(c.bundle!)).toEqual([]);
});

test('SIU: booked with start/end from SCH-11, cancelled on S15, Mirth filereader batch', () => {
  const [s12, s14, s15] = convertHl7v2Batch(readFileSync(join(HL7V2, 'mirth-connect/filereader/batch/batch01.hl7')));
  const a12 = byType<Appointment>(s12!.bundle!, 'Appointment')[0]!;
  expect(a12).toMatchObject({ status: 'booked', start: '2011-06-17T08:45:00+07:00', end: '2011-06-17T09:30:00+07:00', minutesDuration: 60 });
  expect(byType<Appointment>(s14!.bundle!, 'Appointment')[0]!.id).toBe(a12.id);
  expect(byType<Appointment>(s15!.bundle!, 'Appointment')[0]!.status).toBe('cancelled');
});

test('unsupported types and unreadable messages are refused with a located Issue', () => {
  const c = convertHl7v2(vn(PID, 'MFN^M02'), cfg);
  expect(c.bundle).toBeUndefined();
  expect(c.ackCode).toBe('AE');
  expect(c.issues[0]).toMatchObject({ code: 'not-supported', expression: 'MSH-9' });
  const bad = convertHl7v2(Buffer.from('garbage'));
  expect(bad.ackCode).toBe('AR');
  expect(bad.ack().toString()).toMatch(/MSA\|AR/);
  const two = convertHl7v2(Buffer.concat([vn(PID, 'ADT^A08'), vn(PID, 'ADT^A08')]));
  expect(two.bundle).toBeUndefined();
  expect(two.ackCode).toBe('AE');
});
