import { openDb } from '../../src/store/db';
import { Repository } from '../../src/store/repository';

/** The embedded engine has no autovacuum; the store stands in for it so the planner has statistics. */
test('the embedded store gathers planner statistics after writes, and only then', async () => {
  const db = await openDb({ dataDir: 'memory://' });
  try {
    await Repository.open(db);
    await db.query(`INSERT INTO sp_token (resource_type, id, param, code) SELECT 'Patient', 'p' || g, 'gender', 'male' FROM generate_series(1, 5000) g`);
    const tuples = async () => (await db.query<{ n: number }>(`SELECT reltuples::int AS n FROM pg_class WHERE relname = 'sp_token'`))[0]!.n;
    expect(await tuples()).toBeLessThanOrEqual(0); // never analysed
    expect(await db.maintain()).toBe(true);
    expect(await tuples()).toBe(5000);
    expect(await db.maintain()).toBe(false); // nothing written since
  } finally {
    await db.close();
  }
});
