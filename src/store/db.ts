import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { Pool, types } from 'pg';

/**
 * One SQL dialect (PostgreSQL) behind two engines: a server through `pg`, or PGlite
 * (PostgreSQL compiled to WASM) in-process for the embedded default. Only this file knows which.
 */
export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
}

export interface Db extends Queryable {
  readonly kind: 'postgres' | 'embedded';
  /**
   * Runs `fn` in one database transaction: all of it commits or none of it does.
   * `relaxedCommit` lets the commit return before its WAL reaches disk; only for writes that
   * can be redone from something already durable (the intake's raw message log).
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>, opts?: { relaxedCommit?: boolean }): Promise<T>;
  /** Planner statistics and dead-row cleanup where no autovacuum does it; true if it ran. */
  maintain(): Promise<boolean>;
  close(): Promise<void>;
}

// bigint and numeric come back as strings from pg by default; counts are small, so parse them.
types.setTypeParser(20, (v) => Number(v));

class PgDb implements Db {
  readonly kind = 'postgres' as const;
  constructor(private readonly pool: Pool) {}

  async query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    return (await this.pool.query(sql, params)).rows as T[];
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>, opts?: { relaxedCommit?: boolean }): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query(opts?.relaxedCommit ? 'BEGIN; SET LOCAL synchronous_commit TO OFF' : 'BEGIN');
      const tx: Queryable = { query: async <R>(s: string, p: unknown[] = []) => (await client.query(s, p)).rows as R[] };
      const result = await fn(tx);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async maintain(): Promise<boolean> {
    return false; // the server's autovacuum does it
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

interface PGliteLike {
  query<T>(sql: string, params?: unknown[]): Promise<{ rows: T[] }>;
  transaction<T>(fn: (tx: { query<R>(sql: string, params?: unknown[]): Promise<{ rows: R[] }> }) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  waitReady: Promise<void>;
}

/** How often the embedded store refreshes planner statistics and reclaims dead rows, if it was written to. */
const MAINTENANCE_MS = 10 * 60_000;

class EmbeddedDb implements Db {
  readonly kind = 'embedded' as const;
  private written = false;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly pg: PGliteLike) {
    this.timer = setInterval(() => void this.maintain().catch(() => undefined), MAINTENANCE_MS).unref();
  }

  async query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    if (!/^\s*SELECT\b/i.test(sql)) this.written = true;
    return (await this.pg.query<T>(sql, params)).rows;
  }

  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    this.written = true;
    return this.pg.transaction((t) => fn({ query: async <R>(s: string, p: unknown[] = []) => (await t.query<R>(s, p)).rows }));
  }

  /**
   * PGlite runs PostgreSQL single-user, so autovacuum never runs: without this, the planner
   * never gets statistics and updated rows are never reclaimed. About a second per 30k
   * resources, during which other queries wait.
   */
  async maintain(): Promise<boolean> {
    if (!this.written) return false;
    this.written = false;
    await this.pg.query('VACUUM (ANALYZE)');
    return true;
  }

  close(): Promise<void> {
    clearInterval(this.timer);
    return this.pg.close();
  }
}

export async function openDb(opts: { databaseUrl?: string; dataDir: string; poolSize?: number }): Promise<Db> {
  if (opts.databaseUrl) {
    const pool = new Pool({ connectionString: opts.databaseUrl, max: opts.poolSize ?? 10 });
    // An idle client losing its server must not crash the process; the next query reports it.
    pool.on('error', () => undefined);
    return new PgDb(pool);
  }
  if (!opts.dataDir.startsWith('memory://')) mkdirSync(opts.dataDir, { recursive: true });
  const pg = new PGlite(opts.dataDir) as unknown as PGliteLike;
  await pg.waitReady;
  return new EmbeddedDb(pg);
}
