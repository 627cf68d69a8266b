import { createTestDatabase, startTestGateway, type TestGateway } from '../helpers/gateway';
import { client } from '../helpers/http';

/**
 * Two gateway processes (each its own pool, cache and linker) on one PostgreSQL receive records
 * of the same new person at the same instant: one Person links them, not two.
 */
const run = process.env.DATABASE_URL ? describe : describe.skip;
const SID = 'http://fhir.ehealth.gov.vn/core/sid';

run('one new person written through two gateways at once', () => {
  let a: TestGateway;
  let b: TestGateway;
  let dropDb: () => Promise<void>;
  beforeAll(async () => {
    const db = await createTestDatabase();
    dropDb = db.drop;
    a = await startTestGateway('postgres', {}, db.url);
    b = await startTestGateway('postgres', {}, db.url);
  }, 300_000);
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await dropDb?.();
  });

  test('records sharing a CCCD, or a name and birth date without one, end in one Person each', async () => {
    const [callA, callB] = [client(a.fhir), client(b.fhir)];
    const person = (i: number, facility: string, cccd: boolean) => ({
      resourceType: 'Patient',
      name: [{ text: `Phạm Văn Cường ${['Anh', 'Bình', 'Châu', 'Dũng', 'Giang', 'Hải'][i]}` }],
      gender: 'male',
      birthDate: `19${60 + i}-0${(i % 9) + 1}-1${i}`,
      identifier: [{ system: `${SID}/patient-internal-id`, value: `${facility}-${i}` }, ...(cccd ? [{ system: `${SID}/national_id`, value: `0790${60 + i}00${String(1000 + i)}` }] : [])],
    });
    // six people, each arriving at both gateways in the same instant; half without CCCD
    const pairs = await Promise.all(
      [0, 1, 2, 3, 4, 5].map((i) =>
        Promise.all([callA('POST', '/Patient', person(i, '79001', i % 2 === 0), { 'x-facility-code': '79001' }), callB('POST', '/Patient', person(i, '01002', i % 2 === 0), { 'x-facility-code': '01002' })]),
      ),
    );
    for (const [x, y] of pairs) {
      expect([x.status, y.status]).toEqual([201, 201]);
      const persons = (await callA('GET', `/Person?patient=Patient/${x.body.id},Patient/${y.body.id}`)).body.entry?.map((e: any) => e.resource) ?? [];
      expect(persons.length).toBe(1);
      expect(persons[0].link.map((l: any) => l.target.reference).sort()).toEqual([`Patient/${x.body.id}`, `Patient/${y.body.id}`].sort());
    }
  });
});
