import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Account, Appointment, Bundle, ChargeItem, DiagnosticReport, DocumentReference, FhirResource, Immunization, Medication, MedicationAdministration, MedicationDispense, MedicationRequest, Practitioner, ServiceRequest, Specimen } from 'fhir/r4';
import { convertHl7v2 } from '../../src/ingest/hl7v2';
import { deterministicId } from '../../src/ingest/ids';
import { validateResource } from '../../src/validation';
import { CONVERTER } from './corpus';

// Orders, results, pharmacy, immunization, documents, scheduling and billing: mapped values,
// from Vietnamese-style messages and from the FHIR-Converter corpus.

const cfg = { facility: '79001', identifierAuthorities: { BCA: 'CCCD', BHXH: 'BHYT', 'BV_CR^MR': 'MA_BN' } };
const vn = (type: string, body: string) =>
  Buffer.from(`MSH|^~\\&|HIS|BV_CR|GW|SYT|202611231030||${type}|VN1|P|2.5.1||||||UNICODE UTF-8\r` + body.replace(/\n/g, '\r'), 'utf8');
/** One segment from its non-empty fields by number: long segments stay readable and countable. */
const seg = (id: string, fields: Record<number, string>) => `${id}|${Array.from({ length: Math.max(...Object.keys(fields).map(Number)) }, (_, i) => fields[i + 1] ?? '').join('|')}\n`;
const PID = seg('PID', { 1: '1', 3: 'BN0001^^^BV_CR^MR', 5: 'Nguyễn^Văn An', 7: '19800115', 8: 'M', 18: 'HS2026-001' }) +
  seg('PV1', { 1: '1', 2: 'I', 3: 'KHOA_NOI^P101^G01', 7: 'BS01^Trần^Thị Bình', 19: 'VS001' });
const all = (b: Bundle) => (b.entry ?? []).map((e) => e.resource as FhirResource);
const of = <T extends FhirResource>(b: Bundle, t: T['resourceType']) => all(b).filter((r) => r.resourceType === t) as T[];
const errorsOf = (b: Bundle) => all(b).flatMap((r) => validateResource(r).filter((i) => i.severity === 'error').map((i) => `${r.resourceType} ${i.expression} ${i.diagnostics}`));
const corpus = (name: string) => convertHl7v2(readFileSync(join(CONVERTER, 'input/Hl7v2', name)));

describe('RDE / RDS / RAS → MedicationRequest, Dispense, Administration', () => {
  const body = PID +
    'ORC|NW|DT0001|||||||202611230900|||BS01^Trần^Thị Bình^^^^^^BV_CR\n' +
    seg('RXE', { 2: 'PARA500^Paracetamol 500mg^BV_CR', 3: '1', 4: '2', 5: 'VIEN^viên', 6: 'TAB^Viên nén', 7: '^Uống sau ăn', 9: 'G', 10: '20', 11: 'VIEN^viên', 12: '0', 15: 'DT0001-1' }) +
    seg('TQ1', { 1: '1', 3: 'TID', 7: '20261123', 8: '20261130' }) +
    'RXR|PO^Uống^HL70162\n' +
    'RXC|B|PARA^Paracetamol^BV_CR|500|mg^mg^UCUM\n';

  test('RDE^O11: dose range, route, TQ1 timing, dispense quantity, substitution, prescriber, compound', () => {
    const c = convertHl7v2(vn('RDE^O11^RDE_O11', body), cfg);
    expect(c.issues.filter((i) => i.severity === 'error')).toEqual([]);
    const [mr] = of<MedicationRequest>(c.bundle!, 'MedicationRequest');
    expect(mr!.id).toBe(deterministicId('79001', 'MedicationRequest', 'DT0001'));
    expect(mr).toMatchObject({ status: 'active', intent: 'order', authoredOn: '2026-11-23T09:00:00+07:00' });
    expect(mr!.identifier!.map((i) => [i.type!.coding![0]!.code, i.value])).toEqual([['PLAC', 'DT0001'], ['RXN', 'DT0001-1']]);
    const dose = mr!.dosageInstruction![0]!;
    expect(dose.text).toBe('Uống sau ăn');
    expect(dose.route!.coding![0]).toMatchObject({ code: 'PO', display: 'Uống' });
    expect(dose.doseAndRate![0]!.doseRange).toMatchObject({ low: { value: 1, unit: 'viên' }, high: { value: 2 } });
    expect(dose.timing!.repeat).toMatchObject({ frequency: 3, period: 1, periodUnit: 'd', boundsPeriod: { start: '2026-11-23', end: '2026-11-30' } });
    expect(mr!.dispenseRequest).toMatchObject({ quantity: { value: 20, unit: 'viên' }, numberOfRepeatsAllowed: 0 });
    expect(mr!.substitution!.allowedCodeableConcept!.coding![0]!.code).toBe('G');
    const doctor = of<Practitioner>(c.bundle!, 'Practitioner').find((p) => mr!.requester!.reference === `Practitioner/${p.id}`);
    expect(doctor!.name![0]!.family).toBe('Trần');
    const med = of<Medication>(c.bundle!, 'Medication')[0]!;
    expect(mr!.medicationReference!.reference).toBe(`Medication/${med.id}`);
    expect(med.code!.coding![0]!.code).toBe('PARA500');
    expect(med.ingredient![0]).toMatchObject({ itemCodeableConcept: { coding: [{ code: 'PARA' }] }, strength: { numerator: { value: 500, code: 'mg' } } });
    expect(errorsOf(c.bundle!)).toEqual([]);
  });

  test('RDS^O13 and RAS^O17 point at the same request; RXA-20 RE is not-done', () => {
    const rds = convertHl7v2(vn('RDS^O13^RDS_O13', body + 'RXD|1|PARA500^Paracetamol 500mg^BV_CR|202611231000|20|VIEN^viên||DT0001-1||Phát đủ|DS01^Lê^Văn Cường\n'), cfg);
    const request = of<MedicationRequest>(rds.bundle!, 'MedicationRequest')[0]!;
    const md = of<MedicationDispense>(rds.bundle!, 'MedicationDispense')[0]!;
    expect(md).toMatchObject({ status: 'completed', whenHandedOver: '2026-11-23T10:00:00+07:00', quantity: { value: 20, unit: 'viên' } });
    expect(md.authorizingPrescription![0]!.reference).toBe(`MedicationRequest/${request.id}`);
    expect(md.performer![0]!.actor.display).toMatch(/Lê/);
    expect(errorsOf(rds.bundle!)).toEqual([]);
    const ras = convertHl7v2(vn('RAS^O17^RAS_O17', body + seg('RXA', { 1: '0', 2: '1', 3: '202611231200', 4: '202611231205', 5: 'PARA500^Paracetamol 500mg^BV_CR', 6: '1', 7: 'VIEN^viên', 18: 'BN từ chối^Bệnh nhân từ chối', 20: 'RE' }) + 'RXR|PO^Uống^HL70162\n'), cfg);
    const ma = of<MedicationAdministration>(ras.bundle!, 'MedicationAdministration')[0]!;
    expect(ma).toMatchObject({ status: 'not-done', effectivePeriod: { start: '2026-11-23T12:00:00+07:00', end: '2026-11-23T12:05:00+07:00' }, dosage: { dose: { value: 1 }, route: { coding: [{ code: 'PO' }] } } });
    expect(ma.statusReason![0]!.text).toBe('Bệnh nhân từ chối');
    expect(ma.request!.reference).toBe(`MedicationRequest/${request.id}`);
    expect(errorsOf(ras.bundle!)).toEqual([]);
  });

  test('corpus RDE^O11 and RDS^O13', () => {
    const rde = corpus('RDE-O11-01.hl7');
    const mr = of<MedicationRequest>(rde.bundle!, 'MedicationRequest')[0]!;
    expect(mr.identifier![0]!.value).toBe('1163422591');
    expect(mr.dosageInstruction![0]!.route!.coding![0]!.code).toBe('IV');
    expect(all(rde.bundle!).some((r) => r.resourceType === 'Observation')).toBe(true);
    const rds = corpus('RDS-O13-01.hl7');
    expect(of<MedicationDispense>(rds.bundle!, 'MedicationDispense')[0]).toMatchObject({ quantity: { value: 10 }, whenHandedOver: '2020-12-12' });
  });
});

describe('VXU^V04 → Immunization (IIS conventions)', () => {
  test('vaccine, lot, manufacturer, route/site, funding and eligibility OBX, VIS date, performers', () => {
    const c = corpus('VXU-V04-01.hl7');
    expect(c.issues.filter((i) => i.severity === 'error')).toEqual([]);
    const imm = of<Immunization>(c.bundle!, 'Immunization')[0]!;
    expect(imm).toMatchObject({
      status: 'completed', occurrenceDateTime: '2021-08-18', primarySource: true, lotNumber: '315841', expirationDate: '2021-12-16',
      doseQuantity: { value: 0.5, code: 'mL' }, vaccineCode: { coding: [{ code: '49281021588' }] },
    });
    expect(imm.manufacturer!.display).toBe('Sanofi Pasteur');
    expect(imm.route!.coding![0]!.code).toBe('C28161');
    expect(imm.site!.coding![0]!.code).toBe('RD');
    expect(imm.fundingSource!.coding![0]!.code).toBe('PHC70');
    expect(imm.programEligibility![0]!.coding![0]!.code).toBe('V01');
    expect(imm.education![0]).toMatchObject({ documentType: 'Tetanus/Diphtheria (Td) Vaccine VIS', presentationDate: '2021-08-18' });
    expect(imm.performer!.map((p) => p.function!.coding![0]!.code)).toEqual(['AP', 'OP']);
    const observed = all(c.bundle!).filter((r) => r.resourceType === 'Observation').map((o) => (o as { code: { coding: { code: string }[] } }).code.coding[0]!.code);
    expect(observed).toEqual(expect.arrayContaining(['8867-4', '30963-3', '64994-7']));
    expect(errorsOf(c.bundle!)).toEqual([]);
  });

  test('a historical dose (RXA-9 01), an unknown amount (999) and a refusal', () => {
    const body = PID + 'ORC|RE||IZ-9\n' + seg('RXA', { 1: '0', 2: '1', 3: '20200101', 5: '08^Hep B^CVX', 6: '999', 9: '01^Historical^NIP001' }) +
      'ORC|RE||IZ-10\n' + seg('RXA', { 1: '0', 2: '1', 3: '20261123', 5: '03^MMR^CVX', 6: '0', 18: '00^Cha mẹ từ chối^NIP002', 20: 'RE' });
    const c = convertHl7v2(vn('VXU^V04^VXU_V04', body), cfg);
    const [old, refused] = of<Immunization>(c.bundle!, 'Immunization');
    expect(old).toMatchObject({ primarySource: false, reportOrigin: { coding: [{ code: '01' }] } });
    expect(old!.doseQuantity).toBeUndefined();
    expect(refused).toMatchObject({ status: 'not-done', statusReason: { coding: [{ code: '00' }] } });
    expect(errorsOf(c.bundle!)).toEqual([]);
  });
});

describe('MDM → DocumentReference', () => {
  const txa = seg('TXA', { 1: '1', 2: 'DS^Tóm tắt ra viện^BV_CR', 3: 'TX', 5: 'BS01^Trần^Thị Bình', 6: '202611231100', 9: 'BS01^Trần^Thị Bình', 10: 'BS02^Phạm^Minh', 12: 'DOC-1', 13: 'DOC-0', 17: 'LA', 18: 'R', 19: 'AV', 25: 'Tóm tắt bệnh án' });
  test('T02: text content, docStatus, confidentiality, author; T10 replaces the parent; T11 cancels', () => {
    const c = convertHl7v2(vn('MDM^T02^MDM_T02', PID + txa + 'OBX|1|TX|DS^Tóm tắt^BV_CR||Chẩn đoán: viêm phổi.||||||F\nOBX|2|TX|DS^Tóm tắt^BV_CR||Ra viện ổn định.||||||F\n'), cfg);
    const doc = of<DocumentReference>(c.bundle!, 'DocumentReference')[0]!;
    expect(doc.id).toBe(deterministicId('79001', 'DocumentReference', 'DOC-1'));
    expect(doc).toMatchObject({ status: 'current', docStatus: 'final', masterIdentifier: { value: 'DOC-1' }, date: '2026-11-23T11:00:00+07:00', description: 'Tóm tắt bệnh án' });
    expect(doc.type!.coding![0]!.code).toBe('DS');
    expect(doc.securityLabel![0]!.coding![0]!.code).toBe('R');
    expect(Buffer.from(doc.content[0]!.attachment.data!, 'base64').toString()).toBe('Chẩn đoán: viêm phổi.\nRa viện ổn định.');
    expect(doc.author![0]!.display).toMatch(/Trần/);
    expect(doc.relatesTo).toBeUndefined();
    expect(errorsOf(c.bundle!)).toEqual([]);
    const t10 = convertHl7v2(vn('MDM^T10^MDM_T02', PID + txa), cfg);
    expect(of<DocumentReference>(t10.bundle!, 'DocumentReference')[0]!.relatesTo).toEqual([{ code: 'replaces', target: { reference: `DocumentReference/${deterministicId('79001', 'DocumentReference', 'DOC-0')}` } }]);
    const t11 = convertHl7v2(vn('MDM^T11^MDM_T01', PID + txa), cfg);
    expect(of<DocumentReference>(t11.bundle!, 'DocumentReference')[0]!.status).toBe('entered-in-error');
  });

  test('corpus MDM^T02: the order it answers and the PDF', () => {
    const c = corpus('MDM-T02-01.hl7');
    const doc = of<DocumentReference>(c.bundle!, 'DocumentReference')[0]!;
    const sr = of<ServiceRequest>(c.bundle!, 'ServiceRequest')[0]!;
    expect(doc.context!.related![0]!.reference).toBe(`ServiceRequest/${sr.id}`);
    expect(doc.masterIdentifier!.value).toBe('1.2.840.317.5947431.51.20080131160038');
  });
});

describe('SIU → Appointment', () => {
  const sch = 'SCH|LH01|LH01F|||||KHAM^Khám lại|||||||||||||||||Booked\n';
  test('TQ1 times come before SCH-11; S26 is a no-show; AIG resources take part', () => {
    const body = PID + sch.replace('||KHAM^Khám lại|||', '||KHAM^Khám lại|||^^30^202611250800^202611250830') + 'TQ1|1||||||202611260900|202611260930\nAIG|1||PHONG_SA^Máy siêu âm 1|EQ^Thiết bị\n';
    const c = convertHl7v2(vn('SIU^S12^SIU_S12', body), cfg);
    const a = of<Appointment>(c.bundle!, 'Appointment')[0]!;
    expect(a).toMatchObject({ status: 'booked', start: '2026-11-26T09:00:00+07:00', end: '2026-11-26T09:30:00+07:00' });
    expect(a.participant.map((p) => p.actor!.display)).toContain('Máy siêu âm 1');
    const noshow = convertHl7v2(vn('SIU^S26^SIU_S12', body.replace('Booked', '')), cfg);
    expect(of<Appointment>(noshow.bundle!, 'Appointment')[0]!.status).toBe('noshow');
    expect(errorsOf(noshow.bundle!)).toEqual([]);
    const deleted = corpus('SIU-S17-01.hl7');
    expect(deleted.issues.filter((i) => i.severity === 'error')).toEqual([]);
  });
});

describe('BAR / DFT → Account, ChargeItem', () => {
  test('DFT^P03: one ChargeItem per FT1 with code, quantity, price, diagnosis and the account', () => {
    const body = PID + seg('FT1', { 1: '1', 2: 'GD001', 4: '20261123', 5: '20261123', 6: 'CG', 7: 'XN001^Công thức máu^BV_CR', 10: '2', 11: '150000&VND', 19: 'J18^Viêm phổi^I10', 20: 'BS01^Trần^Thị Bình' }) +
      seg('FT1', { 1: '2', 2: 'GD002', 4: '20261123', 6: 'CG' });
    const c = convertHl7v2(vn('DFT^P03^DFT_P03', body), cfg);
    const account = of<Account>(c.bundle!, 'Account')[0]!;
    expect(account).toMatchObject({ status: 'active', identifier: [{ value: 'HS2026-001' }] });
    expect(account.id).toBe(deterministicId('79001', 'Account', 'account:HS2026-001'));
    const charges = of<ChargeItem>(c.bundle!, 'ChargeItem');
    expect(charges).toHaveLength(1);
    expect(charges[0]).toMatchObject({ status: 'billable', identifier: [{ value: 'GD001' }], quantity: { value: 2 }, priceOverride: { value: 150000, currency: 'VND' }, occurrenceDateTime: '2026-11-23' });
    expect(charges[0]!.code.coding![0]!.code).toBe('XN001');
    expect(charges[0]!.reason![0]!.coding![0]!.code).toBe('J18');
    expect(charges[0]!.account![0]!.reference).toBe(`Account/${account.id}`);
    expect(c.issues.find((i) => i.expression === 'FT1(2)-7')?.diagnostics).toMatch(/no ChargeItem/);
    expect(errorsOf(c.bundle!)).toEqual([]);
  });
});

test('corpus BAR^P01: DG1 → Condition, PR1 → Procedure, IN1 → Coverage on the Account', () => {
  const c = corpus('BAR-P01-01.hl7');
  expect(c.issues.filter((i) => i.severity === 'error')).toEqual([]);
  const codes = (t: string) => all(c.bundle!).filter((r) => r.resourceType === t).map((r) => (r as { code?: { coding?: { code?: string }[] } }).code?.coding?.[0]?.code);
  expect(codes('Condition')).toContain('422504002');
  expect(codes('Procedure')).toContain('76164006');
  const account = of<Account>(c.bundle!, 'Account')[0]!;
  const coverage = all(c.bundle!).find((r) => r.resourceType === 'Coverage');
  expect(account.coverage![0]!.coverage.reference).toBe(`Coverage/${coverage!.id}`);
  expect(errorsOf(c.bundle!)).toEqual([]);
});

describe('orders and results', () => {
  test('v2.3.1 radiology ORM: OBR-18 is the accession; ORC-4 the requisition; OBR-15 the specimen', () => {
    const body = PID + 'ORC|NW|P1|F1|NHOM-7|SC\n' +
      seg('OBR', { 1: '1', 2: 'P1', 3: 'F1', 4: 'CT001^CT ngực^BV_CR', 7: '202611230800', 14: '202611230815', 15: 'BLD^Máu', 18: 'ACC-SWF-1', 19: 'RP-1', 24: 'CT' });
    const orm = convertHl7v2(vn('ORM^O01^ORM_O01', body), cfg);
    const sr = of<ServiceRequest>(orm.bundle!, 'ServiceRequest')[0]!;
    expect(sr.id).toBe(deterministicId('79001', 'ServiceRequest', 'ACC-SWF-1'));
    expect(sr.identifier!.find((i) => i.type!.coding![0]!.code === 'ACSN')!.value).toBe('ACC-SWF-1');
    expect(sr.requisition).toMatchObject({ value: 'NHOM-7' });
    const obx = seg('OBX', { 1: '1', 2: 'TX', 3: 'IMP^Kết luận^BV_CR', 5: 'Không thấy bất thường', 11: 'F', 23: 'Khoa Chẩn đoán hình ảnh^^^^^^^^^CDHA', 24: '201B Nguyễn Chí Thanh^^Quận 5^TP Hồ Chí Minh', 29: 'RSLT' });
    const oru = convertHl7v2(vn('ORU^R01^ORU_R01', body + obx), cfg);
    const result = all(oru.bundle!).find((r) => r.resourceType === 'Observation') as { category: { coding: { code: string }[] }[]; performer: { reference: string }[] };
    expect(result.category[0]!.coding[0]!.code).toBe('RSLT');
    const lab = all(oru.bundle!).find((r) => `Organization/${r.id}` === result.performer[0]!.reference) as { name: string; address: { city: string }[] };
    expect(lab).toMatchObject({ name: 'Khoa Chẩn đoán hình ảnh', address: [{ city: 'Quận 5' }] });
    const dr = of<DiagnosticReport>(oru.bundle!, 'DiagnosticReport')[0]!;
    expect(dr.basedOn![0]!.reference).toBe(`ServiceRequest/${sr.id}`);
    const sp = of<Specimen>(oru.bundle!, 'Specimen')[0]!;
    expect(sp).toMatchObject({ type: { coding: [{ code: 'BLD' }] }, receivedTime: '2026-11-23T08:15:00+07:00', collection: { collectedDateTime: '2026-11-23T08:00:00+07:00' } });
    expect(errorsOf(oru.bundle!)).toEqual([]);
  });

  test('OUL^R22: SPM specimen with type and parent ids; OBX ED/RP kept out of Observations', () => {
    const c = corpus('OUL-R22-01.hl7');
    expect(c.issues.filter((i) => i.severity === 'error')).toEqual([]);
    const dr = of<DiagnosticReport>(c.bundle!, 'DiagnosticReport')[0]!;
    const sp = of<Specimen>(c.bundle!, 'Specimen')[0]!;
    expect(sp).toMatchObject({ identifier: [{ value: '2017-PAT-123456-1' }], type: { coding: [{ code: 'SKBP' }] } });
    expect(sp.parent!.map((p) => p.identifier!.value)).toEqual(['2017-PAT-123456', '2017-PAT', '2017']);
    expect(dr.specimen![0]!.reference).toBe(`Specimen/${sp.id}`);
    // The ORC after the OBR belongs to that order: one ServiceRequest, with ORC-4 as its requisition.
    const srs = of<ServiceRequest>(c.bundle!, 'ServiceRequest');
    expect(srs).toHaveLength(1);
    expect(srs[0]!.requisition!.value).toBe('9adf2339de714c6698063e3ddf5d0167');
    expect(errorsOf(c.bundle!)).toEqual([]);
  });
});
