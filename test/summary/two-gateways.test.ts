import { createTestDatabase, startTestGateway, type TestGateway } from '../helpers/gateway';
import { client } from '../helpers/http';
import { startChildGateway, type ChildGateway } from '../helpers/process';

/**
 * A cached `$summary` on one gateway process reflects a write made through another process on
 * the same PostgreSQL and Redis at once, and still equals what an uncached build gives.
 */
const run = process.env.DATABASE_URL && process.env.REDIS_URL ? describe : describe.skip;

run('$summary cache across two gateway processes', () => {
  let a: TestGateway;
  let b: ChildGateway;
  let dropDb: () => Promise<void>;
  beforeAll(async () => {
    const db = await createTestDatabase();
    dropDb = db.drop;
    a = await startTestGateway('postgres', { redisUrl: process.env.REDIS_URL! }, db.url);
    b = await startChildGateway({ DATABASE_URL: db.url, REDIS_URL: process.env.REDIS_URL! });
  }, 300_000);
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await dropDb?.();
  });

  test('a write through process B changes the summary process A serves from its cache', async () => {
    const callA = client(a.fhir);
    const callB = client(b.fhir);
    const p = (await callA('POST', '/Patient', { resourceType: 'Patient', name: [{ text: 'Đinh Thị Hoa' }], gender: 'female', birthDate: '1966-06-06' })).body;
    const first = await callA('GET', `/Patient/${p.id}/$summary`);
    const cached = await callA('GET', `/Patient/${p.id}/$summary`);
    expect(cached.text).toBe(first.text);
    const fromB = await callB('GET', `/Patient/${p.id}/$summary`);
    expect(fromB.body.entry[0].resource.section.map((s: any) => s.emptyReason?.coding[0].code)).toEqual(['unavailable', 'unavailable', 'unavailable']);
    const allergy = await callB('POST', '/AllergyIntolerance', { resourceType: 'AllergyIntolerance', clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] }, code: { text: 'Hải sản' }, patient: { reference: `Patient/${p.id}` } });
    expect(allergy.status).toBe(201);
    const after = await callA('GET', `/Patient/${p.id}/$summary`);
    const allergies = after.body.entry[0].resource.section.find((s: any) => s.code.coding[0].code === '48765-2');
    expect(allergies.entry).toEqual([{ reference: `AllergyIntolerance/${allergy.body.id}` }]);
    // B's answer (built or cached there) is byte-identical apart from the base URL
    const afterB = await callB('GET', `/Patient/${p.id}/$summary`);
    expect(afterB.text.replaceAll(b.fhir, a.fhir)).toBe(after.text);
  });
});
