import { client, type Call } from '../helpers/http';
import { STORES, startTestGateway, type TestGateway } from '../helpers/gateway';

/** The MPI in the write path: Persons created and kept by Patient writes through the REST API. */
const SID = 'http://fhir.ehealth.gov.vn/core/sid';
const ADMIN = 'http://fhir.ehealth.gov.vn/core/StructureDefinition/vn-admin-unit';
const commune = (code: string) => [{ extension: [{ url: ADMIN, extension: [{ url: 'province', valueCoding: { system: 'http://fhir.ehealth.gov.vn/core/CodeSystem/vn-admin-unit', code: '79' } }, { url: 'commune', valueCoding: { system: 'http://fhir.ehealth.gov.vn/core/CodeSystem/vn-admin-unit', code } }] }] }];

describe.each(STORES)('patient linking (%s store)', (store) => {
  let gw: TestGateway;
  let call: Call;
  beforeAll(async () => {
    gw = await startTestGateway(store);
    call = client(gw.fhir);
  }, 300_000);
  afterAll(() => gw.stop());

  let n = 0;
  const patient = async (name: string, birthDate: string, facility: string, more: Record<string, unknown> = {}) => {
    const r = await call('POST', '/Patient', { resourceType: 'Patient', name: [{ text: name }], gender: 'female', birthDate, identifier: [{ system: `${SID}/patient-internal-id`, value: `BN${++n}` }], ...more }, { 'x-facility-code': facility });
    if (r.status !== 201) throw new Error(JSON.stringify(r.body));
    return r.body;
  };
  const personsOf = async (id: string) => (await call('GET', `/Person?patient=Patient/${id}`)).body.entry?.map((e: any) => e.resource) ?? [];
  const linkOf = (person: any, id: string) => person.link.find((l: any) => l.target.reference === `Patient/${id}`);
  const together = async (a: string, b: string) => {
    const [pa] = (await personsOf(a)).filter((p: any) => ['level3', 'level4'].includes(linkOf(p, a)?.assurance));
    return !!pa && ['level3', 'level4'].includes(linkOf(pa, b)?.assurance);
  };

  test('one CCCD at two facilities: one Person, level4, with why', async () => {
    const cccd = { system: `${SID}/national_id`, value: '079190000001' };
    const a = await patient('Lê Thị Hồng', '1990-02-03', '79001', { identifier: [cccd] });
    const b = await patient('Le Thi Hong Nhung', '1991', '01002', { identifier: [cccd] });
    expect(await together(a.id, b.id)).toBe(true);
    const [person] = await personsOf(b.id);
    const l = linkOf(person, b.id);
    expect(l.assurance).toBe('level4');
    const why = Object.fromEntries(l.extension[0].extension.map((e: any) => [e.url, e.valueCode ?? e.valueDecimal ?? e.valueDateTime]));
    expect(why.rule).toBe('cccd');
    expect(typeof why.time).toBe('string');
  });

  test('no ID paper: folded name, exact birth date and commune link automatically (level3); $everything and $summary span both', async () => {
    const a = await patient('Phạm Thị Thu Thảo', '1985-11-20', '79001', { address: commune('26734') });
    const b = await patient('PHAM THI THU THAO', '1985-11-20', '01002', { address: commune('26734') });
    expect(await together(a.id, b.id)).toBe(true);
    expect(linkOf((await personsOf(b.id))[0], b.id).assurance).toBe('level3');
    const cond = await call('POST', '/Condition', { resourceType: 'Condition', subject: { reference: `Patient/${b.id}` }, clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] }, code: { text: 'Hen phế quản' } }, { 'x-facility-code': '01002' });
    const everything = await call('GET', `/Patient/${a.id}/$everything`);
    expect(everything.body.entry.map((e: any) => e.resource.id)).toContain(cond.body.id);
    const summary = await call('GET', `/Patient/${a.id}/$summary`);
    expect(summary.body.entry[0].resource.section[0].entry).toEqual([{ reference: `Condition/${cond.body.id}` }]);
  });

  test('a common name and birth year alone: not linked; a one-letter given-name difference: listed for review (level2)', async () => {
    const a = await patient('Nguyễn Thị Lan', '1960', '79001');
    const b = await patient('Nguyen Thi Lan', '1960', '01002');
    expect(await together(a.id, b.id)).toBe(false);
    const c = await patient('Trần Thị Mai', '1970-01-01', '79001', { address: commune('11111') });
    const d = await patient('Tran Thi Mai', '1970-01-01', '01002', { address: commune('11111') }); // control: linked
    expect(await together(c.id, d.id)).toBe(true);
    const e = await patient('Trần Thị Hai', '1970-01-01', '01003', { address: commune('11111') });
    expect(await together(c.id, e.id)).toBe(false);
    const review = (await call('GET', `/Person?_tag=${encodeURIComponent('urn:fhir-gateway:mpi|review')}`)).body.entry.map((x: any) => x.resource);
    expect(review.some((p: any) => linkOf(p, e.id)?.assurance === 'level2' && linkOf(p, c.id))).toBe(true);
  });

  test('a merge from the source (Patient.link replaced-by, as ADT^A40 writes it) ties two records that do not match, level4 rule source; a later update of the survivor keeps them together', async () => {
    const old = await patient('Đỗ Văn Bình', '1970-01-01', '79001', { gender: 'male' });
    const survivor = await patient('Do Van Binh Minh', '1972-06-06', '79001', { gender: 'male' });
    expect(await together(old.id, survivor.id)).toBe(false); // control: no automatic match
    const merged = await call('PUT', `/Patient/${old.id}`, { ...old, active: false, link: [{ other: { reference: `Patient/${survivor.id}` }, type: 'replaced-by' }] }, { 'x-facility-code': '79001' });
    expect(merged.status).toBe(200);
    expect(await together(old.id, survivor.id)).toBe(true);
    const l = linkOf((await personsOf(old.id)).find((p: any) => linkOf(p, survivor.id))!, old.id);
    expect(l.assurance).toBe('level4');
    expect(l.extension[0].extension.find((e: any) => e.url === 'rule').valueCode).toBe('source');
    const again = await call('PUT', `/Patient/${survivor.id}`, { ...survivor, telecom: [{ system: 'phone', value: '0909000111' }] }, { 'x-facility-code': '79001' });
    expect(again.status).toBe(200);
    expect(await together(old.id, survivor.id)).toBe(true);
  });

  test('unlink by editing the Person: the record gets its own Person and is not linked back when written again', async () => {
    const a = await patient('Võ Văn Kiệt', '1950-07-07', '79001', { address: commune('22222'), gender: 'male' });
    const b = await patient('Vo Van Kiet', '1950-07-07', '01002', { address: commune('22222'), gender: 'male' });
    expect(await together(a.id, b.id)).toBe(true);
    const [person] = await personsOf(a.id);
    const edited = { ...person, link: person.link.filter((l: any) => l.target.reference !== `Patient/${b.id}`) };
    expect((await call('PUT', `/Person/${person.id}`, edited)).status).toBe(200);
    expect(await together(a.id, b.id)).toBe(false);
    const after = (await call('GET', `/Person/${person.id}`)).body;
    expect(after.extension).toContainEqual({ url: 'urn:fhir-gateway:mpi-not-same', valueReference: { reference: `Patient/${b.id}` } });
    expect((await personsOf(b.id)).some((p: any) => linkOf(p, b.id)?.assurance === 'level4')).toBe(true);
    expect((await call('PUT', `/Patient/${b.id}`, { ...b, telecom: [{ system: 'phone', value: '0912345678' }] })).status).toBe(200);
    expect(await together(a.id, b.id)).toBe(false);
  });

  test('links follow updates: a corrected CCCD moves the record', async () => {
    const x = await patient('Đỗ Văn Hùng', '1980-01-01', '79001', { identifier: [{ system: `${SID}/national_id`, value: '079180000001' }], gender: 'male' });
    const y = await patient('Hoàng Văn Nam', '1975-05-05', '79001', { identifier: [{ system: `${SID}/national_id`, value: '079175000002' }], gender: 'male' });
    const z = await patient('Hoang Van Nam', '1975-05-05', '01002', { identifier: [{ system: `${SID}/national_id`, value: '079180000001' }], gender: 'male' }); // wrong CCCD typed
    expect(await together(x.id, z.id)).toBe(true);
    expect((await call('PUT', `/Patient/${z.id}`, { ...z, identifier: [{ system: `${SID}/national_id`, value: '079175000002' }] }, { 'x-facility-code': '01002' })).status).toBe(200);
    expect(await together(y.id, z.id)).toBe(true);
    expect(await together(x.id, z.id)).toBe(false);
  });

  test('Patient/$match: candidates best first with search.score and match-grade; onlyCertainMatches; bad input 400/422', async () => {
    const cccd = { system: `${SID}/national_id`, value: '079199000009' };
    const a = await patient('Bùi Thị Xuân', '1999-09-09', '79001', { identifier: [cccd], address: commune('33333') });
    const probe = { resourceType: 'Patient', name: [{ text: 'Bui Thi Xuan' }], gender: 'female', birthDate: '1999-09-09', address: commune('33333') };
    const r = await call('POST', '/Patient/$match', { resourceType: 'Parameters', parameter: [{ name: 'resource', resource: probe }] });
    expect(r.status).toBe(200);
    expect(r.body.type).toBe('searchset');
    const hit = r.body.entry.find((e: any) => e.resource.id === a.id);
    expect(hit.search.extension).toEqual([{ url: 'http://hl7.org/fhir/StructureDefinition/match-grade', valueCode: 'probable' }]);
    expect(hit.search.score).toBeGreaterThan(0.5);
    expect(hit.search.score).toBeLessThan(1);
    const certain = await call('POST', '/Patient/$match', { resourceType: 'Parameters', parameter: [{ name: 'resource', resource: { ...probe, identifier: [cccd] } }, { name: 'onlyCertainMatches', valueBoolean: true }] });
    expect(certain.body.entry.map((e: any) => [e.resource.id, e.search.score, e.search.extension[0].valueCode])).toEqual([[a.id, 1, 'certain']]);
    expect((await call('POST', '/Patient/$match', { resourceType: 'Parameters', parameter: [{ name: 'resource', resource: { resourceType: 'Patient', gender: 'nope' } }] })).status).toBe(422);
    expect((await call('POST', '/Patient/$match', { resourceType: 'Parameters', parameter: [{ name: 'count', valueInteger: 2 }] })).status).toBe(400);
  });
});
