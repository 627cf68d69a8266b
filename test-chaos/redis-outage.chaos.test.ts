import { createTestDatabase } from '../test/helpers/gateway';
import { client } from '../test/helpers/http';
import { startChildGateway, type ChildGateway } from '../test/helpers/process';
import { RedisProcess, freePort } from '../test/helpers/redis';
import { sleep, summary, CHAOS_ENV } from './helpers/load';

/**
 * Two gateway processes on one PostgreSQL and one private Redis. Redis goes away (paused, or
 * stopped) while gateway A updates resources that B has cached; A is killed before Redis comes
 * back, so whatever A meant to invalidate later dies with it. Afterwards neither B nor a freshly
 * started gateway may serve an old version.
 */
const UPDATES = 20;

describe('Redis outages under two gateways, one of them killed', () => {
  let db: { url: string; drop(): Promise<void> };
  let redis: RedisProcess;
  const started: ChildGateway[] = [];
  const start = async (readyTimeoutMs = 60_000) => {
    const g = await startChildGateway({ ...CHAOS_ENV, DATABASE_URL: db.url, REDIS_URL: redis.url }, { readyTimeoutMs });
    started.push(g);
    return g;
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    redis = new RedisProcess(await freePort());
    await redis.start();
  });
  afterAll(async () => {
    for (const g of started) await g.kill('SIGKILL');
    await redis?.stop();
    await db?.drop();
  });

  test.each(['paused', 'stopped'] as const)('Redis %s: 0 stale reads after the outage', async (mode) => {
    const [a, b] = await Promise.all([start(), start()]);
    const A = client(a.fhir);
    const B = client(b.fhir);
    const ids: string[] = [];
    for (let i = 0; i < UPDATES; i++) ids.push((await A('POST', '/Patient', { resourceType: 'Patient', gender: 'female' })).body.id);
    for (const id of ids) expect((await B('GET', `/Patient/${id}`)).body.gender).toBe('female'); // now in Redis

    if (mode === 'paused') redis.pause();
    else await redis.stop();
    let updated = 0;
    for (const id of ids) if ((await A('PUT', `/Patient/${id}`, { resourceType: 'Patient', id, gender: 'male' })).status === 200) updated++;
    await a.kill('SIGKILL');
    if (mode === 'paused') redis.resume();
    else await redis.start();
    await sleep(2000); // past the circuit breaker's open time

    const c = await start();
    const C = client(c.fhir);
    let staleB = 0, staleC = 0;
    for (const id of ids) {
      if ((await B('GET', `/Patient/${id}`)).body?.gender !== 'male') staleB++;
      if ((await C('GET', `/Patient/${id}`)).body?.gender !== 'male') staleC++;
    }
    summary(`redis ${mode}, writer killed`, { updates: updated, staleOnSurvivor: staleB, staleOnFreshGateway: staleC, exits: [b, c].filter((g) => g.exit()).length });
    expect({ updated, staleB, staleC }).toEqual({ updated: UPDATES, staleB: 0, staleC: 0 });
    await Promise.all([b.kill('SIGKILL'), c.kill('SIGKILL')]);
  });

  test('a gateway starts while Redis is paused, and serves reads', async () => {
    redis.pause();
    const t0 = Date.now();
    try {
      const g = await start(30_000).catch((e: Error) => e);
      const ok = !(g instanceof Error) && (await fetch(`${g.fhir}/metadata`)).status === 200;
      summary('gateway start with Redis paused', { started: ok ? 1 : 0, seconds: Math.round((Date.now() - t0) / 1000) });
      expect(ok).toBe(true);
    } finally {
      redis.resume();
    }
  });
});
