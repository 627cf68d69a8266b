import { createTestDatabase } from '../test/helpers/gateway';
import { startChildGateway } from '../test/helpers/process';
import { summary } from './helpers/load';

/** Two gateways starting at the same moment on an empty database: both run their migrations safely. */
const TRIALS = 3;

test('two gateways starting together on an empty database: both start, 0 exits', async () => {
  let exits = 0;
  const reasons: string[] = [];
  for (let t = 0; t < TRIALS; t++) {
    const db = await createTestDatabase();
    const results = await Promise.allSettled([0, 1].map(() => startChildGateway({ DATABASE_URL: db.url }, { readyTimeoutMs: 60_000 })));
    for (const r of results) {
      if (r.status === 'rejected') {
        exits++;
        reasons.push((r.reason as Error).message);
      } else await r.value.kill('SIGKILL');
    }
    await db.drop();
  }
  summary('two gateways starting on an empty database', { trials: TRIALS, starts: TRIALS * 2 - exits, exits });
  for (const r of reasons) process.stdout.write(`  ${r}\n`);
  expect(exits).toBe(0);
});
