import { client } from '../helpers/http';
import { createTestDatabase, startTestGateway, type TestGateway } from '../helpers/gateway';
import { startChildGateway, type ChildGateway } from '../helpers/process';
import { RedisProcess, freePort, redisTestsEnabled } from '../helpers/redis';

/**
 * Two gateway processes on one PostgreSQL and one Redis — this test's process and a child
 * process running the compiled gateway — and Redis going away under them. Needs a PostgreSQL
 * server (DATABASE_URL) and Redis (REDIS_URL, and redis-server for a private one); CI has both.
 */
const run = redisTestsEnabled('two gateways, Redis paused and stopped', { database: true }) ? describe : describe.skip;

run('shared cache across gateways, and Redis outages', () => {
  let redis: RedisProcess;
  let a: TestGateway;
  let b: ChildGateway;
  let dropDb: () => Promise<void>;

  beforeAll(async () => {
    redis = new RedisProcess(await freePort());
    await redis.start();
    const db = await createTestDatabase();
    dropDb = db.drop;
    a = await startTestGateway('postgres', { redisUrl: redis.url }, db.url);
    b = await startChildGateway({ DATABASE_URL: db.url, REDIS_URL: redis.url });
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await redis?.stop();
    await dropDb?.();
  });

  test('a write through one gateway is read back through the other at once', async () => {
    const A = client(a.fhir);
    const B = client(b.fhir);
    const c = await A('POST', '/Patient', { resourceType: 'Patient', gender: 'female' });
    const id = c.body.id;
    expect((await B('GET', `/Patient/${id}`)).body.gender).toBe('female'); // B caches version 1
    for (const g of ['male', 'other', 'unknown']) {
      await A('PUT', `/Patient/${id}`, { resourceType: 'Patient', id, gender: g });
      const r = await B('GET', `/Patient/${id}`);
      expect(r.body.gender).toBe(g);
    }
    await B('DELETE', `/Patient/${id}`);
    expect((await A('GET', `/Patient/${id}`)).status).toBe(410);
    // search goes to the database, so it agrees too
    const s = await B('POST', '/Patient', { resourceType: 'Patient', gender: 'other', identifier: [{ system: 'urn:t', value: 'ab' }] });
    expect((await A('GET', '/Patient?identifier=urn:t|ab')).body.entry[0].resource.id).toBe(s.body.id);
  });

  test('Redis going away never fails a read, and no stale read survives its return', async () => {
    const A = client(a.fhir);
    const B = client(b.fhir);
    const id = (await A('POST', '/Patient', { resourceType: 'Patient', gender: 'female' })).body.id;
    expect((await B('GET', `/Patient/${id}`)).body.gender).toBe('female'); // cached in Redis

    redis.pause(); // unreachable: commands time out
    const t0 = Date.now();
    const r = await B('GET', `/Patient/${id}`);
    expect(r.status).toBe(200);
    expect(Date.now() - t0).toBeLessThan(2000);
    // a write during the outage cannot invalidate Redis; A keeps the key pending
    await A('PUT', `/Patient/${id}`, { resourceType: 'Patient', id, gender: 'male' });
    expect((await A('GET', `/Patient/${id}`)).body.gender).toBe('male');

    redis.resume();
    // the pending invalidation is retried; B must not serve the cached 'female' for long
    let seen = '';
    for (let i = 0; i < 40 && seen !== 'male'; i++) {
      await new Promise((res) => setTimeout(res, 100));
      seen = (await B('GET', `/Patient/${id}`)).body.gender;
    }
    expect(seen).toBe('male');

    await redis.stop(); // gone entirely
    for (let i = 0; i < 5; i++) expect((await B('GET', `/Patient/${id}`)).status).toBe(200);
    expect((await A('PUT', `/Patient/${id}`, { resourceType: 'Patient', id, gender: 'other' })).status).toBe(200);
    expect((await B('GET', `/Patient/${id}`)).body.gender).toBe('other');
    await redis.start(); // back, empty
    expect((await B('GET', `/Patient/${id}`)).body.gender).toBe('other');
  });
});
