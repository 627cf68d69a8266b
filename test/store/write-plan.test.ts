import type { Db, Queryable } from '../../src/store/db';
import { writeAll } from '../../src/store/writer';
import { STORES, openTestStore } from '../helpers/gateway';

/**
 * An update replaces the old index rows of the resources it writes. Those rows must be found
 * through the (resource_type, id) indexes: a sequential scan makes every update cost as much as
 * the whole index table, so a store slows down as it fills. A few thousand rows are enough for
 * the planner to prefer a scan when it over-estimates how many resources are being replaced.
 */
describe.each(STORES)('update plans (%s store)', (store) => {
  let db: Db;
  let close: () => Promise<void>;
  const N = 20_000;

  beforeAll(async () => {
    ({ db, close } = await openTestStore(store));
    await db.query(`INSERT INTO resources (resource_type, id, version_id, last_updated, deleted, content)
      SELECT 'Observation', 'o' || g, 1, now(), false, jsonb_build_object('resourceType', 'Observation', 'id', 'o' || g, 'status', 'final') FROM generate_series(1, ${N}) g`);
    for (const [table, cols, values] of [
      ['sp_token', 'system, code', `'http://loinc.org', '8302-' || (g % 97)`],
      ['sp_quantity', 'value, system, code, unit', `g % 200, 'http://unitsofmeasure.org', 'cm', 'cm'`],
      ['sp_number', 'value', `g % 10`],
      ['sp_string', 'norm, exact', `'text' || g, 'Text' || g`],
      ['sp_date', 'lo, hi', `now(), now()`],
      ['sp_reference', 'target_type, target_id', `'Patient', 'p' || (g % 500)`],
      ['sp_uri', 'value', `'urn:fhir-gateway:rest:local'`],
    ]) {
      await db.query(`INSERT INTO ${table} (resource_type, id, param, ${cols}) SELECT 'Observation', 'o' || g, 'p', ${values} FROM generate_series(1, ${N}) g`);
    }
    await db.query('ANALYZE');
  }, 120_000);
  afterAll(() => close());

  test('replacing one resource reads its old index rows through the indexes', async () => {
    const plans: string[] = [];
    // Every statement of the write runs as usual, but the one that writes is explained first.
    const explaining: Queryable = {
      async query<T>(sql: string, params?: unknown[]): Promise<T[]> {
        if (/DELETE FROM sp_/.test(sql)) {
          const rows = await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`, params);
          plans.push(rows.map((r) => r['QUERY PLAN']).join('\n'));
        }
        return db.query<T>(sql, params);
      },
    };
    const [result] = await writeAll(explaining, [{ method: 'update', resourceType: 'Observation', id: 'o4242', resource: { resourceType: 'Observation', id: 'o4242', status: 'amended' } as never }]);
    expect(result!.version.versionId).toBe(2);
    expect(plans).toHaveLength(1);
    expect(plans[0]).not.toMatch(/Seq Scan on (sp_|resources)/);
    expect(plans[0]).toMatch(/sp_quantity_res/);
    // The old rows are gone and the new ones are in.
    const [q] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM sp_quantity WHERE resource_type = 'Observation' AND id = 'o4242'`);
    expect(q!.n).toBe(0);
    const [s] = await db.query<{ code: string }>(`SELECT code FROM sp_token WHERE resource_type = 'Observation' AND id = 'o4242' AND param = 'status'`);
    expect(s!.code).toBe('amended');
  });
});
