import type { Logger } from '../logger';
import type { Cache } from './cache';
import { MemoryCache } from './memory';
import { RedisCache } from './redis';
import { SafeCache } from './safe';

export async function openCache(redisUrl: string | undefined, ttlSeconds: number, log?: Logger): Promise<Cache> {
  if (!redisUrl) return new SafeCache(new MemoryCache(), ttlSeconds, log);
  const redis = new RedisCache(redisUrl);
  await redis.connect();
  return new SafeCache(redis, ttlSeconds, log);
}

export type { Cache };
