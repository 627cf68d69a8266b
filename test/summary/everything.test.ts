import { client, type Call } from '../helpers/http';
import { STORES, startTestGateway, type TestGateway } from '../helpers/gateway';

/** `Patient/{id}/$everything`: the compartment, referenced resources, parameters, paging, linked records. */
describe.each(STORES)('Patient/$everything (%s store)', (store) => {
  let gw: TestGateway;
  let call: Call;
  const ids: Record<string, string> = {};
  const create = async (key: string, r: Record<string, unknown>) => {
    const res = await call('POST', `/${r.resourceType as string}`, r);
    if (res.status !== 201) throw new Error(JSON.stringify(res.body));
    ids[key] = res.body.id;
    return res.body.id as string;
  };
  beforeAll(async () => {
    // Persons are written by hand here; the MPI's own (tested in test/mpi) would join the compartment.
    gw = await startTestGateway(store, { mpi: false });
    call = client(gw.fhir);
    await create('org', { resourceType: 'Organization', name: 'Bệnh viện A' });
    await create('pr', { resourceType: 'Practitioner', name: [{ family: 'Trần' }] });
    await create('med', { resourceType: 'Medication', code: { text: 'Paracetamol' } });
    const p = await create('p', { resourceType: 'Patient', name: [{ family: 'Nguyễn', given: ['An'] }], managingOrganization: { reference: `Organization/${ids.org}` } });
    const other = await create('other', { resourceType: 'Patient', name: [{ family: 'Lê' }] });
    await create('c2019', { resourceType: 'Condition', subject: { reference: `Patient/${p}` }, code: { text: 'old' }, onsetDateTime: '2019-05-01', asserter: { reference: `Practitioner/${ids.pr}` } });
    await create('c2023', { resourceType: 'Condition', subject: { reference: `Patient/${p}` }, code: { text: 'new' }, onsetDateTime: '2023-05-01' });
    await create('mr', { resourceType: 'MedicationRequest', status: 'active', intent: 'order', subject: { reference: `Patient/${p}` }, medicationReference: { reference: `Medication/${ids.med}` } });
    await create('undated', { resourceType: 'AllergyIntolerance', patient: { reference: `Patient/${p}` }, clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] }, code: { text: 'penicillin' } });
    await create('otherObs', { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: `Patient/${other}` } });
  }, 300_000);
  afterAll(() => gw.stop());

  const everything = (q = '') => call('GET', `/Patient/${ids.p}/$everything${q}`);
  const keys = (b: any, mode?: string) => (b.entry ?? []).filter((e: any) => !mode || e.search.mode === mode).map((e: any) => `${e.resource.resourceType}/${e.resource.id}`);

  test('the compartment and what it references; nothing of another patient', async () => {
    const r = await everything();
    expect(r.status).toBe(200);
    const m = keys(r.body, 'match');
    expect(m[0]).toBe(`Patient/${ids.p}`);
    expect(new Set(m)).toEqual(new Set([`Patient/${ids.p}`, `Condition/${ids.c2019}`, `Condition/${ids.c2023}`, `MedicationRequest/${ids.mr}`, `AllergyIntolerance/${ids.undated}`]));
    expect(new Set(keys(r.body, 'include'))).toEqual(new Set([`Organization/${ids.org}`, `Practitioner/${ids.pr}`, `Medication/${ids.med}`]));
    expect(r.body.total).toBe(5);
    expect(r.body.link.filter((l: any) => l.relation === 'patient-record').map((l: any) => l.url)).toEqual([`${gw.fhir}/Patient/${ids.p}`]);
  });

  test('_type, start/end (undated resources stay), _since', async () => {
    expect(keys((await everything('?_type=Condition')).body)).toEqual([`Condition/${ids.c2019}`, `Condition/${ids.c2023}`].sort());
    const period = keys((await everything('?start=2022-01-01&end=2024-12-31')).body, 'match');
    expect(period).toContain(`Condition/${ids.c2023}`);
    expect(period).not.toContain(`Condition/${ids.c2019}`);
    expect(period).toContain(`AllergyIntolerance/${ids.undated}`);
    const future = await everything(`?_since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`);
    expect(future.body.total).toBe(0);
  });

  test('_count pages with next/previous links that walk the whole set once', async () => {
    const seen: string[] = [];
    let url: string | undefined = `${gw.fhir}/Patient/${ids.p}/$everything?_count=2`;
    let pages = 0;
    while (url) {
      const r = await call('GET', url.slice(gw.fhir.length));
      seen.push(...keys(r.body, 'match'));
      url = r.body.link.find((l: any) => l.relation === 'next')?.url;
      if (pages++ > 0) expect(r.body.link.some((l: any) => l.relation === 'previous')).toBe(true);
    }
    expect(pages).toBe(3);
    expect(seen.length).toBe(5);
    expect(new Set(seen).size).toBe(5);
  });

  test('records linked by a Person are spanned; a level2 (possible) link is not', async () => {
    await call('POST', '/Person', { resourceType: 'Person', link: [{ target: { reference: `Patient/${ids.p}` }, assurance: 'level4' }, { target: { reference: `Patient/${ids.other}` }, assurance: 'level4' }] });
    const r = await everything();
    expect(keys(r.body, 'match')).toContain(`Observation/${ids.otherObs}`);
    expect(r.body.link.filter((l: any) => l.relation === 'patient-record').length).toBe(2);
    const third = await create('third', { resourceType: 'Patient', name: [{ family: 'Phạm' }] });
    await call('POST', '/Person', { resourceType: 'Person', link: [{ target: { reference: `Patient/${third}` }, assurance: 'level4' }, { target: { reference: `Patient/${ids.p}` }, assurance: 'level2' }] });
    // the Person itself is in the compartment (Person.link); the possible match's data is not
    expect(keys((await call('GET', `/Patient/${third}/$everything`)).body, 'match').filter((k: string) => !k.startsWith('Person/'))).toEqual([`Patient/${third}`]);
  });

  test('bad parameters are 400, an unknown patient 404', async () => {
    expect((await everything('?_type=Nope')).status).toBe(400);
    expect((await everything('?start=yesterday')).status).toBe(400);
    expect((await everything('?_count=0')).status).toBe(400);
    expect((await everything('?foo=1')).status).toBe(400);
    expect((await call('GET', '/Patient/khong-co/$everything')).status).toBe(404);
  });
});
