import type { Db } from '../../src/store/db';
import type { Repository } from '../../src/store/repository';
import { parseSearch } from '../../src/store/search/query';
import { orderBy, Params, whereClause } from '../../src/store/search/sql';
import { STORES, openTestStore } from '../helpers/gateway';

/**
 * Search stays index-backed at ~100k resources: the plans of typical searches use the index
 * tables' indexes, never a sequential scan of an index table. The rows are generated in SQL
 * (fast), shaped like what the indexer writes.
 */
describe.each(STORES)('search plans over 100k resources (%s store)', (store) => {
  let db: Db;
  let repo: Repository;
  let close: () => Promise<void>;
  const N = 100_000;

  beforeAll(async () => {
    ({ db, repo, close } = await openTestStore(store));
    await db.query(`INSERT INTO resources (resource_type, id, version_id, last_updated, deleted, content)
      SELECT 'Patient', 'p' || g, 1, now() - (g || ' seconds')::interval, false, jsonb_build_object('resourceType', 'Patient', 'id', 'p' || g)
      FROM generate_series(1, ${N}) g`);
    await db.query(`INSERT INTO sp_token (resource_type, id, param, system, code) SELECT 'Patient', 'p' || g, 'identifier', 'urn:mrn', 'MRN' || g FROM generate_series(1, ${N}) g`);
    await db.query(`INSERT INTO sp_token (resource_type, id, param, system, code) SELECT 'Patient', 'p' || g, 'gender', 'http://hl7.org/fhir/administrative-gender', CASE WHEN g % 2 = 0 THEN 'male' ELSE 'female' END FROM generate_series(1, ${N}) g`);
    await db.query(`INSERT INTO sp_string (resource_type, id, param, norm, exact) SELECT 'Patient', 'p' || g, 'family', 'nguyen' || g, 'Nguyễn' || g FROM generate_series(1, ${N}) g`);
    await db.query(`INSERT INTO sp_date (resource_type, id, param, lo, hi) SELECT 'Patient', 'p' || g, 'birthdate', timestamptz '1950-01-01' + (g || ' hours')::interval, timestamptz '1950-01-01' + ((g + 24) || ' hours')::interval FROM generate_series(1, ${N}) g`);
    await db.query(`INSERT INTO resources (resource_type, id, version_id, last_updated, deleted, content)
      SELECT 'Observation', 'o' || g, 1, now(), false, jsonb_build_object('resourceType', 'Observation', 'id', 'o' || g) FROM generate_series(1, ${N}) g`);
    await db.query(`INSERT INTO sp_reference (resource_type, id, param, target_type, target_id) SELECT 'Observation', 'o' || g, 'subject', 'Patient', 'p' || g FROM generate_series(1, ${N}) g`);
    // Statistics of every row (a target of 1,000 samples 300,000 rows), not of a random sample: with
    // every name starting 'nguyen', a sample's histogram put a prefix search at 11 to 505 rows from
    // run to run, and the plan with it.
    await db.query(`ALTER TABLE sp_string ALTER COLUMN norm SET STATISTICS 1000`);
    await db.query('ANALYZE');
  }, 300_000);
  afterAll(() => close());

  const plan = async (type: string, params: [string, string][]) => {
    const q = parseSearch(type, params);
    const p = new Params();
    const sql = `SELECT r.content FROM resources r WHERE ${whereClause(q, p)} ORDER BY ${orderBy(q.sort, p)} LIMIT 21`;
    const rows = await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${process.env.SHOW_PLANS ? 'ANALYZE ' : ''}${sql}`, p.values);
    return rows.map((r) => r['QUERY PLAN']).join('\n');
  };

  // Each search must be driven by the value index of its own table, not by walking resources.
  test.each([
    ['Patient', [['identifier', 'urn:mrn|MRN4242']], 'sp_token_code'],
    ['Patient', [['family', 'nguyen4242']], 'sp_string_norm'],
    ['Patient', [['birthdate', '1950-03-04']], 'sp_date_lo'],
    ['Patient', [['birthdate', 'lt1950-01-02']], 'sp_date_lo'],
    ['Observation', [['subject', 'Patient/p4242']], 'sp_reference_target'],
    ['Observation', [['subject:Patient.identifier', 'urn:mrn|MRN4242']], 'sp_token_code'],
  ] as [string, [string, string][], string][])('%s?%j uses %s', async (type, params, index) => {
    const p = await plan(type, params);
    if (process.env.SHOW_PLANS) console.log(p);
    expect(p).toMatch(new RegExp(`Index (Only )?Scan using ${index}|Bitmap Index Scan on ${index}`));
    expect(p).not.toMatch(/Seq Scan on sp_/);
    expect(p).not.toMatch(/Seq Scan on resources/);
  });

  test('and the search answers quickly through the repository', async () => {
    const t0 = performance.now();
    const r = await repo.search(parseSearch('Patient', [['identifier', 'urn:mrn|MRN777']]));
    expect(r.matches.map((m) => m.id)).toEqual(['p777']);
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});
