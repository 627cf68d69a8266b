import { Client } from 'pg';
import { FhirError } from '../../src/fhir/outcome';
import { openDb } from '../../src/store/db';
import { client } from '../helpers/http';
import { createTestDatabase, startTestGateway, type TestGateway } from '../helpers/gateway';

/** Statements are bounded in time, and a read whose client has left stops running. */
const pgOnly = process.env.DATABASE_URL ? describe : describe.skip;

const dbUrl = (gw: TestGateway) => (gw.db as unknown as { pool: { options: { connectionString: string } } }).pool.options.connectionString;

/** Holds `resources` locked from another session, so that any search waits for as long as we like. */
async function lockResources(url: string): Promise<Client & { waiting(): Promise<number> }> {
  const c = new Client({ connectionString: url });
  await c.connect();
  await c.query('BEGIN');
  await c.query('LOCK TABLE resources IN ACCESS EXCLUSIVE MODE');
  return Object.assign(c, {
    async waiting() {
      const rows = await c.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'`);
      return rows.rows[0].n as number;
    },
  });
}

const until = async (cond: () => Promise<boolean>, ms: number) => {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
};

pgOnly('statement timeout and cancellation (postgres)', () => {
  test('a statement past DB_STATEMENT_TIMEOUT_MS is cancelled by the server: 503 timeout', async () => {
    const server = await createTestDatabase();
    const db = await openDb({ databaseUrl: server.url, dataDir: '', statementTimeoutMs: 300 });
    try {
      const start = Date.now();
      const err = await db.query('SELECT pg_sleep(5)').catch((e) => e);
      expect(err).toBeInstanceOf(FhirError);
      expect([err.status, err.issues[0].code]).toEqual([503, 'timeout']);
      expect(Date.now() - start).toBeLessThan(4000);
      expect(await db.query('SELECT 1 AS n')).toEqual([{ n: 1 }]);
    } finally {
      await db.close();
      await server.drop();
    }
  });

  test('over HTTP: a search waiting past the timeout answers 503 with Retry-After', async () => {
    const gw = await startTestGateway('postgres', { dbStatementTimeoutMs: 700 });
    const lock = await lockResources(dbUrl(gw));
    try {
      const r = await client(gw.fhir)('GET', '/Patient?name=x');
      expect(r.status).toBe(503);
      expect(r.body.issue[0].code).toBe('timeout');
      expect(r.headers.get('retry-after')).toMatch(/^\d+$/);
    } finally {
      await lock.query('ROLLBACK');
      await lock.end();
      await gw.stop();
    }
  });

  test('a search whose HTTP client left is cancelled in the database, not left to run to the timeout', async () => {
    const gw = await startTestGateway('postgres'); // the default 30 s statement timeout
    const lock = await lockResources(dbUrl(gw));
    let cancelled = false;
    try {
      const gone = new AbortController();
      const req = fetch(`${gw.fhir}/Patient?name=y`, { signal: gone.signal }).catch(() => undefined);
      expect(await until(async () => (await lock.waiting()) > 0, 10_000)).toBe(true);
      gone.abort();
      await req;
      cancelled = await until(async () => (await lock.waiting()) === 0, 5_000);
    } finally {
      await lock.query('ROLLBACK');
      await lock.end();
    }
    try {
      expect(cancelled).toBe(true);
      // The gateway is none the worse for it.
      expect((await client(gw.fhir)('GET', '/Patient?name=y')).status).toBe(200);
    } finally {
      await gw.stop();
    }
  });
});
