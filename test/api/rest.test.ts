import { client, type Call } from '../helpers/http';
import { STORES, startTestGateway, type TestGateway } from '../helpers/gateway';

const patient = (extra: Record<string, unknown> = {}) => ({
  resourceType: 'Patient',
  name: [{ family: 'Trần', given: ['Thị', 'Mai'] }],
  gender: 'female',
  birthDate: '1990-02-03',
  identifier: [{ system: 'http://fhir.ehealth.gov.vn/core/sid/national_id', value: '079190001234' }],
  ...extra,
});

describe.each(STORES)('REST interactions (%s store)', (store) => {
  let gw: TestGateway;
  let call: Call;
  beforeAll(async () => {
    gw = await startTestGateway(store);
    call = client(gw.fhir);
  });
  afterAll(() => gw.stop());

  test('create, read, vread, update, delete with versions and headers', async () => {
    const c = await call('POST', '/Patient', patient());
    expect(c.status).toBe(201);
    expect(c.headers.get('etag')).toBe('W/"1"');
    const id = c.body.id as string;
    expect(c.headers.get('location')).toBe(`${gw.fhir}/Patient/${id}/_history/1`);
    expect(c.body.meta.versionId).toBe('1');
    expect(c.body.meta.source).toBe('urn:fhir-gateway:rest:local');
    expect(c.body.meta.tag).toEqual(expect.arrayContaining([{ system: 'http://fhir.ehealth.gov.vn/core/sid/provider-code', code: 'local' }]));

    const r = await call('GET', `/Patient/${id}`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/application\/fhir\+json/);
    expect(r.headers.get('last-modified')).toBeTruthy();
    expect(r.body.name[0].family).toBe('Trần');

    const u = await call('PUT', `/Patient/${id}`, { ...patient({ gender: 'other' }), id });
    expect(u.status).toBe(200);
    expect(u.body.meta.versionId).toBe('2');
    // the read after a write sees the write (cache invalidated)
    expect((await call('GET', `/Patient/${id}`)).body.gender).toBe('other');
    expect((await call('GET', `/Patient/${id}/_history/1`)).body.gender).toBe('female');
    expect((await call('GET', `/Patient/${id}/_history/9`)).status).toBe(404);

    const h = await call('GET', `/Patient/${id}/_history`);
    expect(h.body.type).toBe('history');
    expect(h.body.total).toBe(2);
    expect(h.body.entry.map((e: any) => e.resource.meta.versionId)).toEqual(['2', '1']);

    expect((await call('DELETE', `/Patient/${id}`)).status).toBe(204);
    expect((await call('GET', `/Patient/${id}`)).status).toBe(410);
    expect((await call('GET', `/Patient/${id}/_history`)).body.total).toBe(3);
    expect((await call('GET', `/Patient?_id=${id}`)).body.total).toBe(0);
  });

  test('update as create, If-Match, If-None-Match and Prefer', async () => {
    const id = `pt-${store}-1`;
    const c = await call('PUT', `/Patient/${id}`, { ...patient(), id }, { prefer: 'return=minimal' });
    expect(c.status).toBe(201);
    expect(c.text).toBe('');
    const stale = await call('PUT', `/Patient/${id}`, { ...patient(), id }, { 'if-match': 'W/"7"' });
    expect(stale.status).toBe(412);
    expect(stale.body.resourceType).toBe('OperationOutcome');
    // the same content again is not a new version
    const same = await call('PUT', `/Patient/${id}`, { ...patient(), id });
    expect(same.status).toBe(200);
    expect(same.headers.get('etag')).toBe('W/"1"');
    const ok = await call('PUT', `/Patient/${id}`, { ...patient({ active: true }), id }, { 'if-match': 'W/"1"', prefer: 'return=OperationOutcome' });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('etag')).toBe('W/"2"');
    expect(ok.body.resourceType).toBe('OperationOutcome');
    expect((await call('GET', `/Patient/${id}`, undefined, { 'if-none-match': 'W/"2"' })).status).toBe(304);
    expect((await call('GET', `/Patient/${id}`, undefined, { 'if-none-match': 'W/"1"' })).status).toBe(200);
  });

  test('conditional create, update and delete', async () => {
    const ident = { system: 'urn:test:mrn', value: `cond-${store}` };
    const q = `identifier=${encodeURIComponent(`${ident.system}|${ident.value}`)}`;
    const first = await call('POST', '/Patient', patient({ identifier: [ident] }), { 'if-none-exist': q });
    expect(first.status).toBe(201);
    const again = await call('POST', '/Patient', patient({ identifier: [ident] }), { 'if-none-exist': q });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);

    const upd = await call('PUT', `/Patient?${q}`, patient({ identifier: [ident], gender: 'unknown' }));
    expect(upd.status).toBe(200);
    expect(upd.body.id).toBe(first.body.id);
    expect(upd.body.meta.versionId).toBe('2');

    await call('POST', '/Patient', patient({ identifier: [ident] }));
    expect((await call('PUT', `/Patient?${q}`, patient({ identifier: [ident] }))).status).toBe(412);
    expect((await call('POST', '/Patient', patient({ identifier: [ident] }), { 'if-none-exist': q })).status).toBe(412);
    expect((await call('DELETE', `/Patient?${q}`)).status).toBe(412);
    expect((await call('DELETE', `/Patient?identifier=urn:test:mrn|nobody`)).status).toBe(204);
  });

  test('JSON Patch', async () => {
    const c = await call('POST', '/Patient', patient());
    const id = c.body.id;
    const p = await call('PATCH', `/Patient/${id}`, [{ op: 'replace', path: '/gender', value: 'male' }, { op: 'add', path: '/active', value: true }], { 'content-type': 'application/json-patch+json' });
    expect(p.status).toBe(200);
    expect(p.body.gender).toBe('male');
    expect(p.body.active).toBe(true);
    expect(p.body.meta.versionId).toBe('2');
    const t = await call('PATCH', `/Patient/${id}`, [{ op: 'test', path: '/gender', value: 'female' }], { 'content-type': 'application/json-patch+json' });
    expect(t.status).toBe(409);
    const bad = await call('PATCH', `/Patient/${id}`, [{ op: 'replace', path: '/gender', value: 'nonsense' }], { 'content-type': 'application/json-patch+json' });
    expect(bad.status).toBe(422);
    const idChange = await call('PATCH', `/Patient/${id}`, [{ op: 'replace', path: '/id', value: 'other' }], { 'content-type': 'application/json-patch+json' });
    expect(idChange.status).toBe(400);
  });

  test('errors are OperationOutcomes with the right status', async () => {
    const cases: [string, string, unknown, number][] = [
      ['POST', '/Patient', '{"resourceType": "Patient", ', 400],
      ['POST', '/Patient', { resourceType: 'Observation', status: 'final', code: { text: 'x' } }, 400],
      ['POST', '/Unicorn', { resourceType: 'Unicorn' }, 404],
      ['GET', '/Unicorn/1', undefined, 404],
      ['PUT', '/Patient/abc', { resourceType: 'Patient', id: 'xyz' }, 400],
      ['PUT', '/Patient/abc', { resourceType: 'Patient' }, 400],
      ['GET', '/Patient/bad$id', undefined, 400],
      ['GET', '/Patient/does-not-exist', undefined, 404],
      ['POST', '/Patient', { resourceType: 'Patient', gender: 'mail' }, 422],
      ['GET', '/Patient?birthdate=yesterday', undefined, 400],
      ['GET', '/Patient?_count=-1', undefined, 400],
      ['GET', '/Patient?_sort=nonsense', undefined, 400],
      ['GET', '/Patient?_format=yaml', undefined, 406],
      ['GET', '/Patient?gender:fancy=male', undefined, 400],
    ];
    for (const [method, path, body, status] of cases) {
      const r = await call(method, path, body);
      expect({ method, path, status: r.status }).toEqual({ method, path, status });
      expect(r.body?.resourceType).toBe('OperationOutcome');
      expect(r.text).not.toMatch(/at .*\.(ts|js):\d+/); // never a stack trace
    }
  });

  test('CapabilityStatement describes what is implemented', async () => {
    const m = await call('GET', '/metadata');
    expect(m.status).toBe(200);
    expect(m.body.fhirVersion).toBe('4.0.1');
    const pt = m.body.rest[0].resource.find((r: any) => r.type === 'Patient');
    expect(pt.interaction.map((i: any) => i.code)).toEqual(expect.arrayContaining(['read', 'vread', 'update', 'patch', 'delete', 'create', 'search-type', 'history-instance']));
    expect(pt.searchParam.find((s: any) => s.name === 'birthdate').type).toBe('date');
    expect(pt.operation.map((o: any) => o.name)).toContain('validate');
    expect(m.body.rest[0].resource).toHaveLength(146); // every concrete resource type of R4 4.0.1
    // and it is valid FHIR itself
    const check = await call('POST', '/CapabilityStatement/$validate', m.body);
    expect(check.body.issue.filter((i: any) => i.severity === 'error')).toEqual([]);
  });

  test('$validate at type and instance level', async () => {
    const bad = await call('POST', '/Patient/$validate', { resourceType: 'Patient', gender: 'mail' });
    expect(bad.status).toBe(200);
    expect(bad.body.issue.some((i: any) => i.severity === 'error' && i.expression?.[0] === 'Patient.gender')).toBe(true);
    const good = await call('POST', '/Patient/$validate', { resourceType: 'Parameters', parameter: [{ name: 'resource', resource: patient() }] });
    expect(good.body.issue.every((i: any) => i.severity !== 'error')).toBe(true);
    const c = await call('POST', '/Patient', patient());
    const inst = await call('GET', `/Patient/${c.body.id}/$validate`);
    expect(inst.status).toBe(200);
    expect(inst.body.resourceType).toBe('OperationOutcome');
    expect((await call('POST', '/Patient/$validate', { resourceType: 'Parameters', parameter: [{ name: 'bogus', valueString: 'x' }] })).status).toBe(400);
  });

  test('health, readiness and metrics', async () => {
    expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${gw.url}/readyz`)).status).toBe(200);
    const m = await (await fetch(`${gw.url}/metrics`)).text();
    expect(m).toMatch(/fhir_gateway_http_requests_total\{method="GET",route="fhir\/:type\/:id",status="200"\}/);
    // metrics never carry ids
    expect(m).not.toMatch(/pt-embedded|pt-postgres/);
  });
});

describe('FHIR XML over REST', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway('embedded');
  });
  afterAll(() => gw.stop());

  test('create from XML, read back as XML by _format and by Accept, JSON by default', async () => {
    const xml = `<Patient xmlns="http://hl7.org/fhir"><gender value="female"/><birthDate value="1990-02-03"/></Patient>`;
    const c = await fetch(`${gw.fhir}/Patient`, { method: 'POST', headers: { 'content-type': 'application/fhir+xml', accept: 'application/fhir+xml' }, body: xml });
    expect(c.status).toBe(201);
    expect(c.headers.get('content-type')).toMatch(/application\/fhir\+xml/);
    const text = await c.text();
    expect(text).toMatch(/<gender value="female"\/>/);
    const id = /<id value="([^"]+)"\/>/.exec(text)![1];
    const asXml = await fetch(`${gw.fhir}/Patient/${id}?_format=xml`);
    expect(await asXml.text()).toMatch(/<birthDate value="1990-02-03"\/>/);
    const asJson = await (await fetch(`${gw.fhir}/Patient/${id}`)).json();
    expect((asJson as any).gender).toBe('female');
    const bad = await fetch(`${gw.fhir}/Patient`, { method: 'POST', headers: { 'content-type': 'application/fhir+xml' }, body: '<Patient xmlns="http://hl7.org/fhir"><gender value="female"></Patient>' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).resourceType).toBe('OperationOutcome');
    const meta = await fetch(`${gw.fhir}/metadata?_format=xml`);
    expect(await meta.text()).toMatch(/<CapabilityStatement xmlns="http:\/\/hl7.org\/fhir">/);
  });
});
