import { MemoryCache } from '../../src/cache/memory';
import { RedisCache } from '../../src/cache/redis';
import type { Cache } from '../../src/cache/cache';
import { RedisProcess, freePort, redisTestsEnabled } from '../helpers/redis';

/**
 * The version-aware contract both caches keep: a fill never overwrites a newer version or an
 * invalidation marker, so a reader that fetched an old version just before a write cannot put
 * it back after the write's invalidation.
 */
async function contract(cache: Cache) {
  await cache.put('Patient/1', 1, 'v1', 60);
  expect(await cache.get('Patient/1')).toEqual({ version: 1, payload: 'v1' });
  await cache.invalidate([['Patient/1', 2]], 60);
  expect(await cache.get('Patient/1')).toBeUndefined();
  await cache.put('Patient/1', 1, 'stale v1', 60); // the late, stale fill
  expect(await cache.get('Patient/1')).toBeUndefined();
  await cache.put('Patient/1', 2, 'v2', 60);
  expect(await cache.get('Patient/1')).toEqual({ version: 2, payload: 'v2' });
  await cache.invalidate([['Patient/1', 1]], 60); // an old invalidation arriving late changes nothing
  expect(await cache.get('Patient/1')).toEqual({ version: 2, payload: 'v2' });
}

test('memory cache keeps the version contract', async () => {
  await contract(new MemoryCache());
});

test('memory cache evicts the least recently used entry', async () => {
  const c = new MemoryCache(2);
  await c.put('a', 1, 'a', 60);
  await c.put('b', 1, 'b', 60);
  await c.get('a');
  await c.put('c', 1, 'c', 60);
  expect(await c.get('b')).toBeUndefined();
  expect(await c.get('a')).toBeDefined();
});

(redisTestsEnabled('redis cache contract') ? test : test.skip)('redis cache keeps the version contract', async () => {
  const redis = new RedisProcess(await freePort());
  await redis.start();
  const c = new RedisCache(redis.url);
  await c.connect();
  try {
    await contract(c);
  } finally {
    await c.close();
    await redis.stop();
  }
});

test('memory cache entries expire after their TTL', async () => {
  const c = new MemoryCache();
  await c.put('Patient/1', 1, 'v1', 0.05);
  expect(await c.get('Patient/1')).toBeDefined();
  await new Promise((r) => setTimeout(r, 120));
  expect(await c.get('Patient/1')).toBeUndefined();
});
