import { createTestDatabase } from '../test/helpers/gateway';
import { startChildGateway } from '../test/helpers/process';
import { openDb } from '../src/store/db';
import { Repository } from '../src/store/repository';
import { summary, CHAOS_ENV } from './helpers/load';

/**
 * Two gateways starting at the same moment on an empty database: both run their migrations
 * safely. Processes boot at slightly different speeds, so the start-up step itself (opening
 * the store and migrating) is also raced directly, many times, where the timing is tight.
 */
test('two gateway processes starting together on an empty database: both start, 0 exits', async () => {
  const TRIALS = 2;
  let exits = 0;
  for (let t = 0; t < TRIALS; t++) {
    const db = await createTestDatabase();
    const results = await Promise.allSettled([0, 1].map(() => startChildGateway({ ...CHAOS_ENV, DATABASE_URL: db.url }, { readyTimeoutMs: 60_000 })));
    for (const r of results) {
      if (r.status === 'rejected') {
        exits++;
        process.stdout.write(`  ${(r.reason as Error).message}\n`);
      } else await r.value.kill('SIGKILL');
    }
    await db.drop();
  }
  summary('two gateway processes starting on an empty database', { trials: TRIALS, starts: TRIALS * 2 - exits, exits });
  expect(exits).toBe(0);
});

test('the start-up migration raced by two stores on an empty database: 0 failures', async () => {
  const TRIALS = 10;
  const failures: string[] = [];
  for (let t = 0; t < TRIALS; t++) {
    const server = await createTestDatabase();
    const dbs = await Promise.all([0, 1].map(() => openDb({ databaseUrl: server.url, dataDir: '' })));
    const results = await Promise.allSettled(dbs.map((db) => Repository.open(db)));
    for (const r of results) if (r.status === 'rejected') failures.push((r.reason as Error).message);
    await Promise.all(dbs.map((db) => db.close()));
    await server.drop();
  }
  summary('start-up migrations raced on an empty database', { trials: TRIALS, failures: failures.length });
  for (const f of new Set(failures)) process.stdout.write(`  ${f}\n`);
  expect(failures).toEqual([]);
});
