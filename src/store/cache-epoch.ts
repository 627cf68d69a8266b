import type { LostInvalidations } from '../cache/cache';
import type { Queryable } from './db';

/**
 * A sequence, not a row: `nextval` never waits for a lock and is not undone by a rollback, so
 * recording a lost invalidation costs a writer almost nothing even while many writers record.
 */
export function lostInvalidationsIn(db: Queryable): LostInvalidations {
  return {
    async count() {
      const [row] = await db.query<{ n: number }>(`SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS n FROM cache_epoch`);
      return Number(row?.n ?? 0);
    },
    async record() {
      await db.query(`SELECT nextval('cache_epoch')`);
    },
  };
}
