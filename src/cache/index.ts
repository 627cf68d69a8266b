import type { Logger } from '../logger';
import type { Cache, LostInvalidations } from './cache';
import { MemoryCache } from './memory';
import { RedisCache } from './redis';
import { SafeCache } from './safe';

/** Never waits for Redis: a gateway starts with Redis down or paused and connects when it can. */
export async function openCache(redisUrl: string | undefined, ttlSeconds: number, log?: Logger, lost?: LostInvalidations): Promise<Cache> {
  if (!redisUrl) return new SafeCache(new MemoryCache(), ttlSeconds, log);
  const redis = new RedisCache(redisUrl, lost);
  await redis.connect();
  return new SafeCache(redis, ttlSeconds, log, lost);
}

export type { Cache };
