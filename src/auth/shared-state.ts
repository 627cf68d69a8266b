import { connectWithin, redisClient } from '../cache/redis-client';

/**
 * What every gateway instance must see alike: assertion ids already used, and each client's
 * token bucket. In Redis when REDIS_URL is set; in process otherwise. If Redis is away the
 * instance falls back to its own memory rather than stop serving (replay protection then holds
 * per instance until Redis is back).
 */
export interface SharedState {
  readonly kind: 'redis' | 'memory';
  /** true the first time `key` is claimed before it expires; false for a repeat. */
  claimOnce(key: string, ttlSeconds: number): Promise<boolean>;
  /** Takes one token from `key`'s bucket; `retryAfter` seconds when it is empty. */
  take(key: string, burst: number, perSecond: number): Promise<{ ok: boolean; retryAfter: number }>;
  close(): Promise<void>;
}

class MemoryState implements SharedState {
  readonly kind = 'memory' as const;
  private readonly used = new Map<string, number>();
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private sweptAt = Date.now();

  async claimOnce(key: string, ttlSeconds: number): Promise<boolean> {
    const now = Date.now();
    if (now - this.sweptAt > 60_000) {
      for (const [k, until] of this.used) if (until <= now) this.used.delete(k);
      this.sweptAt = now;
    }
    const until = this.used.get(key);
    if (until !== undefined && until > now) return false;
    this.used.set(key, now + ttlSeconds * 1000);
    return true;
  }

  async take(key: string, burst: number, perSecond: number): Promise<{ ok: boolean; retryAfter: number }> {
    return takeLocal(this.buckets, key, burst, perSecond);
  }

  async close(): Promise<void> {}
}

function takeLocal(buckets: Map<string, { tokens: number; at: number }>, key: string, burst: number, perSecond: number): { ok: boolean; retryAfter: number } {
  const now = Date.now();
  const b = buckets.get(key) ?? { tokens: burst, at: now };
  b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * perSecond);
  b.at = now;
  buckets.set(key, b);
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return { ok: true, retryAfter: 0 };
  }
  return { ok: false, retryAfter: Math.max(1, Math.ceil((1 - b.tokens) / perSecond)) };
}

// Refill by elapsed time, take one if there is one; the bucket expires once it would be full again.
const TAKE = `
local b = redis.call('HMGET', KEYS[1], 't', 'at')
local burst = tonumber(ARGV[1]); local rate = tonumber(ARGV[2]); local now = tonumber(ARGV[3])
local tokens = tonumber(b[1]) or burst; local at = tonumber(b[2]) or now
tokens = math.min(burst, tokens + (now - at) / 1000 * rate)
local ok = 0
if tokens >= 1 then tokens = tokens - 1; ok = 1 end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return {ok, tostring(tokens)}`;

class RedisState implements SharedState {
  readonly kind = 'redis' as const;
  private readonly client;
  private readonly fallback = new MemoryState();

  constructor(url: string) {
    this.client = redisClient(url, 250);
  }

  async connect(): Promise<void> {
    await connectWithin(this.client);
  }

  async claimOnce(key: string, ttlSeconds: number): Promise<boolean> {
    try {
      return (await this.client.set(`fhir:auth:${key}`, '1', { NX: true, EX: Math.max(1, Math.ceil(ttlSeconds)) })) === 'OK';
    } catch {
      return this.fallback.claimOnce(key, ttlSeconds);
    }
  }

  async take(key: string, burst: number, perSecond: number): Promise<{ ok: boolean; retryAfter: number }> {
    try {
      const [ok, tokens] = (await this.client.eval(TAKE, { keys: [`fhir:rl:${key}`], arguments: [String(burst), String(perSecond), String(Date.now())] })) as [number, string];
      return ok === 1 ? { ok: true, retryAfter: 0 } : { ok: false, retryAfter: Math.max(1, Math.ceil((1 - Number(tokens)) / perSecond)) };
    } catch {
      return this.fallback.take(key, burst, perSecond);
    }
  }

  async close(): Promise<void> {
    // close() waits for replies a stopped server will never send; destroy() does not.
    if (this.client.isOpen) this.client.destroy();
  }
}

export async function openSharedState(redisUrl: string | undefined): Promise<SharedState> {
  if (!redisUrl) return new MemoryState();
  const s = new RedisState(redisUrl);
  await s.connect();
  return s;
}
