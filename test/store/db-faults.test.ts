import { Client } from 'pg';
import { FhirError } from '../../src/fhir/outcome';
import { openDb, type Db } from '../../src/store/db';
import { Repository } from '../../src/store/repository';
import { client } from '../helpers/http';
import { createTestDatabase, startTestGateway } from '../helpers/gateway';

/** The server closing every connection (a restart, a failover) must not end the gateway process. */
const pgOnly = process.env.DATABASE_URL ? describe : describe.skip;

async function terminateOthers(url: string): Promise<number> {
  const c = new Client({ connectionString: url });
  await c.connect();
  const rows = (await c.query(`SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`)).rows;
  await c.end();
  return rows.length;
}

pgOnly('database connections terminated by the server', () => {
  let server: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: Db;
  let repo: Repository;
  beforeAll(async () => {
    server = await createTestDatabase();
    db = await openDb({ databaseUrl: server.url, dataDir: '' });
    repo = await Repository.open(db);
  });
  afterAll(async () => {
    await db.close();
    await server.drop();
  });

  test('open transactions fail with 503 transient, the process lives on, and the pool recovers', async () => {
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    let started = 0;
    // Each transaction holds its connection idle while it waits, as one does while a bundle validates.
    const txs = Array.from({ length: 5 }, (_, i) =>
      db.transaction(async (tx) => {
        await tx.query(`SELECT $1::int`, [i]);
        started++;
        await gate;
        await tx.query(`SELECT 1`);
      }),
    );
    const load = Array.from({ length: 20 }, (_, i) =>
      repo.write([{ method: 'create', resourceType: 'Patient', id: `load-${i}`, resource: { resourceType: 'Patient' } }]),
    );
    const all = Promise.allSettled([...txs, ...load]);
    while (started < 5) await new Promise((r) => setTimeout(r, 10));
    expect(await terminateOthers(server.url)).toBeGreaterThanOrEqual(5);
    // The server's goodbye reaches the idle clients now, while no query of theirs is running.
    await new Promise((r) => setTimeout(r, 300));
    open();
    const settled = await all;
    for (const s of settled.slice(0, 5)) {
      expect(s.status).toBe('rejected');
      const err = (s as PromiseRejectedResult).reason;
      expect(err).toBeInstanceOf(FhirError);
      expect((err as FhirError).status).toBe(503);
      expect((err as FhirError).issues[0]!.code).toBe('transient');
    }
    for (const s of settled.slice(5)) if (s.status === 'rejected') expect((s.reason as FhirError).status).toBe(503);

    // Broken clients were discarded, not lent out again.
    for (let i = 0; i < 12; i++) expect(await db.query<{ n: number }>(`SELECT 1 AS n`)).toEqual([{ n: 1 }]);
    await expect(db.transaction((tx) => tx.query(`SELECT 2 AS n`))).resolves.toEqual([{ n: 2 }]);
  });
});

pgOnly('a gateway under write load while the server drops its connections', () => {
  test('requests answer 2xx or 503, never 500, and the gateway serves afterwards', async () => {
    const gw = await startTestGateway('postgres');
    try {
      const call = client(gw.fhir);
      const url = (gw.db as unknown as { pool: { options: { connectionString: string } } }).pool.options.connectionString;
      const statuses: number[] = [];
      let stop = false;
      const writer = async (w: number) => {
        for (let i = 0; !stop; i++) {
          const bundle = { resourceType: 'Bundle', type: 'transaction', entry: [0, 1, 2].map((k) => ({ request: { method: 'POST', url: 'Patient' }, resource: { resourceType: 'Patient', name: [{ family: `W${w}-${i}-${k}` }] } })) };
          const r = await call('POST', '', bundle);
          statuses.push(r.status);
          if (r.status === 503) {
            expect(r.headers.get('retry-after')).toMatch(/^\d+$/);
            expect(r.body.issue[0].code).toBe('transient');
          }
        }
      };
      const writers = Array.from({ length: 6 }, (_, w) => writer(w));
      for (let round = 0; round < 4; round++) {
        await new Promise((r) => setTimeout(r, 250));
        await terminateOthers(url);
      }
      stop = true;
      await Promise.all(writers);
      expect(statuses.filter((s) => s !== 200 && s !== 503)).toEqual([]);
      expect((await call('POST', '/Patient', { resourceType: 'Patient', name: [{ family: 'After' }] })).status).toBe(201);
    } finally {
      await gw.stop();
    }
  });
});
