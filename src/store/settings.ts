import type { IdScheme } from '../ingest/ids';
import type { Queryable } from './db';

/**
 * The id scheme of this database, chosen at its first start under this code: a database that
 * already holds resources keeps the ids it was built with (`legacy`), a new one gets `v5`.
 * Two gateways starting at once agree: the first insert wins and both read it back.
 */
export async function idSchemeOf(db: Queryable): Promise<IdScheme> {
  await db.query(
    `INSERT INTO settings (key, value)
     SELECT 'id_scheme', CASE WHEN EXISTS (SELECT 1 FROM resources) THEN 'legacy' ELSE 'v5' END
     ON CONFLICT (key) DO NOTHING`,
  );
  const [row] = await db.query<{ value: string }>(`SELECT value FROM settings WHERE key = 'id_scheme'`);
  return row?.value === 'legacy' ? 'legacy' : 'v5';
}
