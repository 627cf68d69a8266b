import { client, type Call } from '../helpers/http';
import { STORES, startTestGateway, type TestGateway } from '../helpers/gateway';

const ids = (r: any) => (r.body.entry ?? []).filter((e: any) => e.search?.mode === 'match').map((e: any) => e.resource.id).sort();

describe.each(STORES)('search (%s store)', (store) => {
  let gw: TestGateway;
  let call: Call;
  const put = (r: any) => call('PUT', `/${r.resourceType}/${r.id}`, r);

  beforeAll(async () => {
    gw = await startTestGateway(store);
    call = client(gw.fhir);
    const tx = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { resourceType: 'Organization', id: 'org1', name: 'Bệnh viện Đa khoa Tỉnh', identifier: [{ system: 'http://fhir.ehealth.gov.vn/core/sid/provider-code', value: '01001' }] },
        { resourceType: 'Patient', id: 'p1', name: [{ family: 'Nguyễn', given: ['Văn', 'An'] }], gender: 'male', birthDate: '1970-01-15', managingOrganization: { reference: 'Organization/org1' }, meta: { profile: ['http://example.org/p'], security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R' }] } },
        { resourceType: 'Patient', id: 'p2', name: [{ family: 'Lê', given: ['Thị', 'Bình'] }], gender: 'female', birthDate: '1985-06', active: true },
        { resourceType: 'Patient', id: 'p3', name: [{ family: 'Nguyen-Tran', given: ['Cuong'] }], gender: 'male', birthDate: '2001-12-31', deceasedBoolean: false },
        { resourceType: 'Observation', id: 'o1', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }] }, subject: { reference: 'Patient/p1' }, effectiveDateTime: '2024-03-01T08:00:00+07:00', valueQuantity: { value: 72, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' } },
        { resourceType: 'Observation', id: 'o2', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] }, subject: { reference: 'Patient/p2' }, effectiveDateTime: '2024-03-02', valueQuantity: { value: 101.5, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' } },
        { resourceType: 'Observation', id: 'o3', status: 'preliminary', code: { coding: [{ system: 'http://loinc.org', code: '2339-0', display: 'Glucose' }], text: 'Đường huyết' }, subject: { reference: 'Patient/p1' }, effectivePeriod: { start: '2024-01-01', end: '2024-01-31' }, valueString: 'cao' },
        // blood pressure: the values are in components, one per reading
        { resourceType: 'Observation', id: 'o4', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '85354-9' }] }, subject: { reference: 'Patient/p3' }, component: [
          { code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] }, valueQuantity: { value: 142, unit: 'mm[Hg]', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
          { code: { coding: [{ system: 'http://loinc.org', code: '8462-4' }] }, valueQuantity: { value: 91, unit: 'mm[Hg]', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
        ] },
        { resourceType: 'Condition', id: 'c1', subject: { reference: 'Patient/p1' }, code: { coding: [{ system: 'http://fhir.ehealth.gov.vn/core/CodeSystem/icd10-vn', code: 'J18.9' }] }, clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] } },
        { resourceType: 'Condition', id: 'c2', subject: { reference: 'Patient/p3' }, code: { coding: [{ system: 'http://fhir.ehealth.gov.vn/core/CodeSystem/icd10-vn', code: 'J18.0' }] }, clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] } },
        { resourceType: 'Condition', id: 'c3', subject: { reference: 'Patient/p2' }, code: { coding: [{ system: 'http://fhir.ehealth.gov.vn/core/CodeSystem/icd10-vn', code: 'E11' }] }, clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] } },
      ].map((resource) => ({ resource, request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}` } })),
    };
    const r = await call('POST', '', tx);
    expect(r.status).toBe(200);
  });
  afterAll(() => gw.stop());

  const cases: [string, string[]][] = [
    // string: starts-with, case- and accent-insensitive; :exact; :contains
    ['Patient?name=nguyen', ['p1', 'p3']],
    ['Patient?family=NGUYỄN', ['p1', 'p3']],
    ['Patient?family:exact=Nguyễn', ['p1']],
    ['Patient?family:exact=nguyễn', []],
    ['Patient?given:contains=in', ['p2']],
    ['Patient?name=le,nguyen', ['p1', 'p2', 'p3']],
    ['Patient?name=van&name=an', ['p1']],
    // token
    ['Patient?gender=male', ['p1', 'p3']],
    ['Patient?gender:not=male', ['p2']],
    ['Observation?code=http://loinc.org|8867-4', ['o1', 'o2']],
    ['Observation?code=|8867-4', []],
    ['Observation?code=http://loinc.org|', ['o1', 'o2', 'o3', 'o4']],
    ['Observation?code:text=glucose', ['o3']],
    ['Observation?code:text=đường', ['o3']],
    ['Condition?code:below=J18', ['c1', 'c2']],
    ['Condition?code:above=J18.9', ['c1']],
    ['Patient?active:missing=true', ['p1', 'p3']],
    ['Patient?active:missing=false', ['p2']],
    ['Patient?_security=R', ['p1']],
    // date, with precision and prefixes
    ['Patient?birthdate=1970', ['p1']],
    ['Patient?birthdate=1985-06-10', []],
    ['Patient?birthdate=1985', ['p2']],
    ['Patient?birthdate=ge1985-06-10', ['p2', 'p3']],
    ['Patient?birthdate=gt1985-06', ['p3']],
    ['Patient?birthdate=lt1985', ['p1']],
    ['Patient?birthdate=le1985-06', ['p1', 'p2']],
    ['Patient?birthdate=sa1985-06', ['p3']],
    ['Patient?birthdate=eb1985-06', ['p1']],
    ['Patient?birthdate=ne1970', ['p2', 'p3']],
    ['Patient?birthdate=2001-12-31', ['p3']],
    ['Observation?date=2024-03', ['o1', 'o2']],
    ['Observation?date=2024-03-01', ['o1']],
    ['Observation?date=2024-03-01T01:00:00Z', ['o1']],
    ['Observation?date=2024-01-15', []],
    // ap: within 10% of the distance to now (here more than two years, so about three months)
    ['Observation?date=ap2024-01-15', ['o1', 'o2', 'o3']],
    ['Observation?date=ap2021-06-01', []],
    ['Observation?date=ge2024-01-15&date=le2024-01-20', ['o3']],
    // quantity and number
    ['Observation?value-quantity=72', ['o1']],
    ['Observation?value-quantity=gt100', ['o2']],
    ['Observation?value-quantity=101.5|http://unitsofmeasure.org|/min', ['o2']],
    ['Observation?value-quantity=lt100|http://unitsofmeasure.org|mg', []],
    ['Observation?value-quantity=ap100', ['o2']],
    // every component's value counts (FHIRPath's `as` alone would refuse more than one)
    ['Observation?component-value-quantity=gt140', ['o4']],
    ['Observation?component-value-quantity=91', ['o4']],
    ['Observation?combo-value-quantity=lt100', ['o1', 'o4']],
    ['Observation?component-code=http://loinc.org|8462-4', ['o4']],
    // reference: Type/id, id with type modifier, chained, _has
    ['Observation?subject=Patient/p1', ['o1', 'o3']],
    ['Observation?patient=p1', ['o1', 'o3']],
    ['Observation?subject:Patient=p2', ['o2']],
    ['Observation?subject:Patient.name=le', ['o2']],
    ['Observation?subject:Patient.organization.name=benh vien', ['o1', 'o3']],
    ['Patient?_has:Observation:patient:code=2339-0', ['p1']],
    ['Patient?_has:Condition:subject:code:below=J18', ['p1', 'p3']],
    ['Patient?organization=Organization/org1', ['p1']],
    // _id, _lastUpdated, _profile, _tag, _source
    ['Patient?_id=p1,p3', ['p1', 'p3']],
    ['Patient?_lastUpdated=gt2000-01-01', ['p1', 'p2', 'p3']],
    ['Patient?_profile=http://example.org/p', ['p1']],
    ['Patient?_tag=http://fhir.ehealth.gov.vn/core/sid/provider-code|local', ['p1', 'p2', 'p3']],
    ['Patient?_source=urn:fhir-gateway:rest:local', ['p1', 'p2', 'p3']],
  ];

  test.each(cases)('%s', async (q, expected) => {
    const r = await call('GET', `/${q}`);
    expect(r.status).toBe(200);
    expect(ids(r)).toEqual(expected);
    expect(r.body.total).toBe(expected.length);
  });

  test('_sort on several keys, _count paging with next/previous links', async () => {
    const r = await call('GET', '/Patient?_sort=-gender,birthdate&_count=2');
    expect(r.body.entry.map((e: any) => e.resource.id)).toEqual(['p1', 'p3']);
    const next = r.body.link.find((l: any) => l.relation === 'next').url as string;
    const page2 = await call('GET', next.slice(gw.fhir.length));
    expect(page2.body.entry.map((e: any) => e.resource.id)).toEqual(['p2']);
    expect(page2.body.link.find((l: any) => l.relation === 'next')).toBeUndefined();
    expect(page2.body.link.find((l: any) => l.relation === 'previous')).toBeDefined();
    const desc = await call('GET', '/Patient?_sort=-birthdate');
    expect(desc.body.entry.map((e: any) => e.resource.id)).toEqual(['p3', 'p2', 'p1']);
    const byName = await call('GET', '/Patient?_sort=family');
    expect(byName.body.entry.map((e: any) => e.resource.id)).toEqual(['p2', 'p1', 'p3']);
  });

  test('_include, _revinclude and :iterate', async () => {
    const inc = await call('GET', '/Observation?_id=o1&_include=Observation:subject');
    expect(inc.body.entry.map((e: any) => [e.search.mode, e.resource.id])).toEqual([['match', 'o1'], ['include', 'p1']]);
    const it = await call('GET', '/Observation?_id=o1&_include=Observation:subject&_include:iterate=Patient:organization');
    expect(it.body.entry.map((e: any) => e.resource.id)).toEqual(['o1', 'p1', 'org1']);
    const rev = await call('GET', '/Patient?_id=p1&_revinclude=Condition:subject');
    expect(rev.body.entry.map((e: any) => e.resource.id)).toEqual(['p1', 'c1']);
    const star = await call('GET', '/Observation?_id=o2&_include=Observation:*');
    expect(star.body.entry.map((e: any) => e.resource.id)).toEqual(['o2', 'p2']);
  });

  test('_total, _summary and _elements', async () => {
    expect((await call('GET', '/Patient?_total=none')).body.total).toBeUndefined();
    const count = await call('GET', '/Patient?_summary=count');
    expect(count.body.total).toBe(3);
    expect(count.body.entry).toBeUndefined();
    const el = await call('GET', '/Patient?_id=p1&_elements=gender');
    const p = el.body.entry[0].resource;
    expect(p.gender).toBe('male');
    expect(p.name).toBeUndefined();
    expect(p.meta.tag.some((t: any) => t.code === 'SUBSETTED')).toBe(true);
    const sum = await call('GET', '/Observation?_id=o3&_summary=true');
    expect(sum.body.entry[0].resource.code).toBeDefined();
    const read = await call('GET', '/Patient/p1?_summary=true');
    expect(read.body.name).toBeDefined();
    expect(read.body.meta.tag.some((t: any) => t.code === 'SUBSETTED')).toBe(true);
  });

  test('unknown parameters: ignored and reported, or 400 under handling=strict', async () => {
    const lenient = await call('GET', '/Patient?gender=male&shoe-size=42');
    expect(ids(lenient)).toEqual(['p1', 'p3']);
    const outcome = lenient.body.entry.find((e: any) => e.search.mode === 'outcome');
    expect(outcome.resource.issue[0].diagnostics).toMatch(/shoe-size/);
    expect(lenient.body.link[0].url).not.toMatch(/shoe-size/);
    const strict = await call('GET', '/Patient?gender=male&shoe-size=42', undefined, { prefer: 'handling=strict' });
    expect(strict.status).toBe(400);
  });

  test('search across types and POST _search', async () => {
    const all = await call('GET', '/?_type=Patient,Condition&_tag=http://fhir.ehealth.gov.vn/core/sid/provider-code|local');
    expect(all.body.total).toBe(6);
    const res = await fetch(`${gw.fhir}/Patient/_search`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'gender=female' });
    const b = (await res.json()) as any;
    expect(b.entry.map((e: any) => e.resource.id)).toEqual(['p2']);
  });

  // SQL metacharacters in every kind of parameter: answered, never a 500, never a widened result.
  const hostile = ["'", "' OR '1'='1", "%", "_", "\\", "p1'; DROP TABLE resources; --", '$1', '"', 'null', '\u0000'];
  test.each([
    'name', 'family:exact', 'given:contains', 'gender', 'identifier', '_id', 'organization', 'subject:Patient.name', '_profile', '_source', '_tag', 'birthdate', 'general-practitioner:identifier',
  ])('SQL metacharacters in %s', async (param) => {
    const type = param.startsWith('subject') ? 'Observation' : 'Patient';
    for (const v of hostile) {
      const r = await call('GET', `/${type}?${param}=${encodeURIComponent(v)}`);
      expect([200, 400]).toContain(r.status);
      if (r.status === 200) expect(r.body.total).toBe(0);
      else expect(r.body.resourceType).toBe('OperationOutcome');
    }
    expect((await call('GET', '/Patient')).body.total).toBe(3);
  });
});
