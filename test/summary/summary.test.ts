import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { validateResource } from '../../src/validation';
import { client, type Call } from '../helpers/http';
import { STORES, startTestGateway, type TestGateway } from '../helpers/gateway';

const IPS_BUNDLE = 'http://hl7.org/fhir/uv/ips/StructureDefinition/Bundle-uv-ips';
const CCCD = 'http://fhir.ehealth.gov.vn/core/sid/national_id';
const SID = 'http://fhir.ehealth.gov.vn/core/sid';
const MA_BN = `${SID}/patient-internal-id`;
const ICD10 = 'http://fhir.ehealth.gov.vn/core/CodeSystem/vn-icd10';
const status = (system: string, code: string) => ({ coding: [{ system: `http://terminology.hl7.org/CodeSystem/${system}`, code }] });
const errorsOf = (b: unknown) => validateResource(b, { profiles: [IPS_BUNDLE] }).filter((i) => i.severity === 'error').map((i) => `${i.expression?.[0]}: ${i.diagnostics}`);
const section = (b: any, code: string) => b.entry[0].resource.section.find((s: any) => s.code.coding[0].code === code);
const entryIds = (b: any, code: string) => (section(b, code)?.entry ?? []).map((e: any) => e.reference).sort();

describe.each(STORES)('Patient/$summary (%s store)', (store) => {
  let gw: TestGateway;
  let call: Call;
  const at = (facility: string) => ({ 'x-facility-code': facility });
  const create = async (r: Record<string, unknown>, facility = '79001') => {
    const res = await call('POST', `/${r.resourceType as string}`, r, at(facility));
    if (res.status !== 201) throw new Error(JSON.stringify(res.body));
    return res.body.id as string;
  };
  const patient = (family: string, ids: { system: string; value: string }[]) => ({ resourceType: 'Patient', name: [{ family, given: ['Văn An'] }], gender: 'male', birthDate: '1956-03-04', identifier: ids });
  let a: string; // facility 79001's record
  let b: string; // facility 01002's record of the same person
  let empty: string;
  const recent = new Date(Date.now() - 30 * 86400_000).toISOString().slice(0, 10);
  const old = new Date(Date.now() - 3 * 365 * 86400_000).toISOString().slice(0, 10);
  const ref: Record<string, string> = {};

  beforeAll(async () => {
    gw = await startTestGateway(store);
    call = client(gw.fhir);
    a = await create(patient('Nguyễn', [{ system: CCCD, value: '079056001234' }, { system: MA_BN, value: 'BN-1' }]), '79001');
    b = await create(patient('NGUYEN', [{ system: MA_BN, value: 'HN-77' }, { system: `${SID}/insurance_number`, value: 'HT2790123456789' }, { system: `${SID}/social_insurance_number`, value: '0123456789' }]), '01002');
    empty = await create(patient('Trần', [{ system: MA_BN, value: 'BN-2' }]));
    await create({ resourceType: 'Person', link: [{ target: { reference: `Patient/${a}` }, assurance: 'level4' }, { target: { reference: `Patient/${b}` }, assurance: 'level3' }] });
    const subj = (id: string) => ({ subject: { reference: `Patient/${id}` } });
    ref.activeA = `Condition/${await create({ resourceType: 'Condition', ...subj(a), clinicalStatus: status('condition-clinical', 'active'), code: { coding: [{ system: ICD10, code: 'E11', display: 'Type 2 diabetes' }] }, onsetDateTime: old })}`;
    ref.activeB = `Condition/${await create({ resourceType: 'Condition', ...subj(b), clinicalStatus: status('condition-clinical', 'active'), code: { text: 'Tăng huyết áp' }, onsetDateTime: recent }, '01002')}`;
    ref.resolved = `Condition/${await create({ resourceType: 'Condition', ...subj(a), clinicalStatus: status('condition-clinical', 'resolved'), code: { text: 'Viêm phế quản' }, onsetDateTime: old })}`;
    ref.error = `Condition/${await create({ resourceType: 'Condition', ...subj(a), verificationStatus: status('condition-ver-status', 'entered-in-error'), code: { text: 'nhầm' } })}`;
    ref.medActive = `MedicationRequest/${await create({ resourceType: 'MedicationRequest', status: 'active', intent: 'order', ...subj(a), medicationCodeableConcept: { text: 'Metformin 500mg' }, authoredOn: old })}`;
    ref.medRecent = `MedicationRequest/${await create({ resourceType: 'MedicationRequest', status: 'completed', intent: 'order', ...subj(b), medicationCodeableConcept: { text: 'Amlodipin 5mg' }, authoredOn: recent }, '01002')}`;
    ref.medOld = `MedicationRequest/${await create({ resourceType: 'MedicationRequest', status: 'completed', intent: 'order', ...subj(a), medicationCodeableConcept: { text: 'Amoxicillin' }, authoredOn: old })}`;
    const glucose = (date: string, value: number, facility: string, id: string) =>
      create({ resourceType: 'Observation', status: 'final', category: [status('observation-category', 'laboratory')], code: { coding: [{ system: 'http://loinc.org', code: '2345-7' }], text: 'Glucose' }, ...subj(id), effectiveDateTime: date, valueQuantity: { value, unit: 'mmol/L', system: 'http://unitsofmeasure.org', code: 'mmol/L' } }, facility);
    ref.glucoseOld = `Observation/${await glucose(old, 9.1, '79001', a)}`;
    ref.glucoseNew = `Observation/${await glucose(recent, 7.2, '01002', b)}`;
  }, 300_000);
  afterAll(() => gw.stop());

  test('one document from two facilities\' linked records, valid IPS, each row naming its facility', async () => {
    const r = await call('GET', `/Patient/${a}/$summary`);
    expect(r.status).toBe(200);
    expect(errorsOf(r.body)).toEqual([]);
    expect(r.body.type).toBe('document');
    const comp = r.body.entry[0].resource;
    expect(comp.type.coding[0].code).toBe('60591-5');
    expect(comp.language).toBe('vi');
    expect(comp.subject.reference).toBe(`Patient/${a}`);
    // exactly one Patient, and entries from record b point at it
    expect(r.body.entry.filter((e: any) => e.resource.resourceType === 'Patient').length).toBe(1);
    const condB = r.body.entry.find((e: any) => `Condition/${e.resource.id}` === ref.activeB).resource;
    expect(condB.subject.reference).toBe(`Patient/${a}`);
    const problems = section(r.body, '11450-4');
    expect(problems.text.div).toContain('<td>79001</td>');
    expect(problems.text.div).toContain('<td>01002</td>');
  });

  test('selection rules: active problems vs past illness, medications active or within a year, latest result per code', async () => {
    const r = (await call('GET', `/Patient/${b}/$summary`)).body;
    expect(entryIds(r, '11450-4')).toEqual([ref.activeA, ref.activeB].sort());
    expect(entryIds(r, '11348-0')).toEqual([ref.resolved]);
    expect(entryIds(r, '10160-0')).toEqual([ref.medActive, ref.medRecent].sort());
    expect(entryIds(r, '30954-2')).toEqual([ref.glucoseNew]);
    expect(JSON.stringify(r)).not.toContain(ref.error.split('/')[1]);
  });

  test('Vietnamese by default with ICD-10 names of QĐ 4469; English by Accept-Language', async () => {
    const vi = (await call('GET', `/Patient/${a}/$summary`, undefined, { 'accept-language': 'fr, vi;q=0.5' })).body;
    expect(section(vi, '11450-4').title).toBe('Danh sách vấn đề sức khỏe');
    expect(section(vi, '11450-4').text.div).toContain('E11 Bệnh đái tháo đường không phụ thuộc insuline');
    expect(section(vi, '11450-4').text.div).toContain('<th>Cơ sở KCB</th>');
    const en = (await call('GET', `/Patient/${a}/$summary`, undefined, { 'accept-language': 'en-GB,en;q=0.9,vi;q=0.8' })).body;
    expect(en.entry[0].resource.language).toBe('en');
    expect(section(en, '11450-4').title).toBe('Problem List');
    expect(section(en, '11450-4').text.div).toContain('<th>Facility</th>');
    expect(section(en, '11450-4').text.div).toContain('E11 Type 2 diabetes');
    expect(errorsOf(en)).toEqual([]);
  });

  test('empty required sections say so (emptyReason and narrative); the document is still valid', async () => {
    const r = (await call('GET', `/Patient/${empty}/$summary`)).body;
    expect(errorsOf(r)).toEqual([]);
    const codes = r.entry[0].resource.section.map((s: any) => s.code.coding[0].code);
    expect(codes).toEqual(['11450-4', '48765-2', '10160-0']);
    for (const s of r.entry[0].resource.section) {
      expect(s.entry).toBeUndefined();
      expect(s.emptyReason.coding[0].code).toBe('unavailable');
      expect(s.text.div).toContain('Không có thông tin.');
    }
    // and a document without its required sections' emptyReason is not IPS
    const broken = structuredClone(r);
    delete broken.entry[0].resource.section[1].emptyReason;
    expect(errorsOf(broken)).toContainEqual(expect.stringContaining('ips-comp-1'));
  });

  test('identifier lookup: CCCD of one record, a facility id of the other, same document; unknown → 404', async () => {
    const byCccd = await call('GET', `/Patient/$summary?identifier=${encodeURIComponent(`${CCCD}|079056001234`)}`);
    expect(byCccd.status).toBe(200);
    expect(byCccd.body.entry[1].resource.id).toBe(a);
    const byMaBn = await call('POST', '/Patient/$summary', { resourceType: 'Parameters', parameter: [{ name: 'identifier', valueString: `${MA_BN}|HN-77` }] });
    expect(byMaBn.status).toBe(200);
    expect(entryIds(byMaBn.body, '11450-4')).toEqual(entryIds(byCccd.body, '11450-4'));
    // a newer BHYT card (another beneficiary group) of the same BHXH number finds the record
    const byCard = await call('GET', `/Patient/$summary?identifier=${encodeURIComponent(`${SID}/insurance_number|GD4790123456789`)}`);
    expect(byCard.status).toBe(200);
    expect(entryIds(byCard.body, '11450-4')).toEqual(entryIds(byCccd.body, '11450-4'));
    expect((await call('GET', `/Patient/$summary?identifier=${encodeURIComponent(`${CCCD}|000000000000`)}`)).status).toBe(404);
    expect((await call('GET', '/Patient/$summary?identifier=nobar')).status).toBe(400);
    expect((await call('GET', '/Patient/$summary')).status).toBe(400);
    expect((await call('GET', '/Patient/khong-co/$summary')).status).toBe(404);
  });

  test('cached and uncached answers are identical; a write in a linked compartment changes the answer at once', async () => {
    const first = await call('GET', `/Patient/${a}/$summary`);
    const again = await call('GET', `/Patient/${a}/$summary`);
    expect(again.text).toBe(first.text);
    // a new allergy at the other facility, on the other record
    const allergy = await create({ resourceType: 'AllergyIntolerance', clinicalStatus: status('allergyintolerance-clinical', 'active'), code: { text: 'Penicillin' }, patient: { reference: `Patient/${b}` } }, '01002');
    const after = (await call('GET', `/Patient/${a}/$summary`)).body;
    expect(entryIds(after, '48765-2')).toEqual([`AllergyIntolerance/${allergy}`]);
    expect(after.identifier.value).not.toBe(first.body.identifier.value);
    // and a delete too
    expect((await call('DELETE', `/AllergyIntolerance/${allergy}`)).status).toBe(204);
    const deleted = (await call('GET', `/Patient/${a}/$summary`)).body;
    expect(section(deleted, '48765-2').emptyReason).toBeDefined();
  });

  test('a summary goes out gzip-compressed to a client that accepts it, and as plain JSON otherwise: the same document', async () => {
    // Raw HTTP, since fetch would decompress without telling.
    const raw = (encoding: string) =>
      new Promise<{ headers: IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
        const req = httpRequest(`${gw.fhir}/Patient/${a}/$summary`, { headers: { accept: 'application/fhir+json', 'accept-encoding': encoding } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
        });
        req.on('error', reject);
        req.end();
      });
    const gz = await raw('gzip, deflate');
    const plain = await raw('identity');
    const refused = await raw('gzip;q=0');
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.headers.vary).toMatch(/Accept-Encoding/i);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(refused.headers['content-encoding']).toBeUndefined();
    expect(gz.body.length).toBeLessThan(plain.body.length / 3);
    expect(gunzipSync(gz.body).toString('utf8')).toBe(plain.body.toString('utf8'));
    expect(refused.body.toString('utf8')).toBe(plain.body.toString('utf8'));
    expect(JSON.parse(plain.body.toString('utf8')).entry[0].resource.subject.reference).toBe(`Patient/${a}`);
  });

  test('a cached summary follows a resource moving out of the compartment, and a link and an unlink of the record', async () => {
    const c = await create({ resourceType: 'Patient', name: [{ family: 'Lý', given: ['Thị Mai'] }], gender: 'female', birthDate: '1990-09-09' });
    const cond = { resourceType: 'Condition', clinicalStatus: status('condition-clinical', 'active'), code: { text: 'Hen phế quản' } };
    const moved = await create({ ...cond, subject: { reference: `Patient/${c}` } });
    const warm = async () => {
      const first = await call('GET', `/Patient/${c}/$summary`);
      expect((await call('GET', `/Patient/${c}/$summary`)).text).toBe(first.text); // served from the cache
      return first.body;
    };
    expect(entryIds(await warm(), '11450-4')).toEqual([`Condition/${moved}`]);
    // the Condition was filed on the wrong record: it leaves c's compartment for `empty`'s
    expect((await call('PUT', `/Condition/${moved}`, { ...cond, id: moved, subject: { reference: `Patient/${empty}` } })).status).toBe(200);
    expect(entryIds(await warm(), '11450-4')).toEqual([]);
    expect(entryIds((await call('GET', `/Patient/${empty}/$summary`)).body, '11450-4')).toEqual([`Condition/${moved}`]);
    // an administrator links c to a (a Person of its own): a's problems appear in c's summary
    const person = await create({ resourceType: 'Person', link: [{ target: { reference: `Patient/${a}` }, assurance: 'level4' }, { target: { reference: `Patient/${c}` }, assurance: 'level3' }] });
    expect(entryIds(await warm(), '11450-4')).toEqual([ref.activeA]);
    // and unlinks it again
    expect((await call('PUT', `/Person/${person}`, { resourceType: 'Person', id: person, link: [{ target: { reference: `Patient/${a}` }, assurance: 'level4' }] })).status).toBe(200);
    expect(entryIds(await warm(), '11450-4')).toEqual([]);
  });

  test('functional status (47420-5): completed assessments only, newest first; the document stays valid', async () => {
    const impression = (status: string, date: string, summary: string) => create({ resourceType: 'ClinicalImpression', status, subject: { reference: `Patient/${b}` }, effectiveDateTime: date, summary }, '01002');
    const olderDone = await impression('completed', old, 'Đi lại cần nạng');
    const newerDone = await impression('completed', recent, 'Tự đi lại được, Barthel 85');
    await impression('in-progress', recent, 'đang đánh giá');
    const r = (await call('GET', `/Patient/${a}/$summary`, undefined, { 'accept-language': 'en' })).body;
    const fs = section(r, '47420-5');
    expect(fs.title).toBe('Functional Status');
    expect(fs.entry).toEqual([{ reference: `ClinicalImpression/${newerDone}` }, { reference: `ClinicalImpression/${olderDone}` }]);
    expect(fs.text.div).toContain('<td>Tự đi lại được, Barthel 85</td>');
    expect(fs.text.div).not.toContain('đang đánh giá');
    expect(errorsOf(r)).toEqual([]);
  });
});
