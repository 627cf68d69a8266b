import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { connectWithin, redisClient } from '../cache/redis-client';
import type { LookupQuery, PortalAnswer } from './map';

/**
 * The lookup cache: the portal's answer per (identifier, name, birth date) with the time it was
 * fetched, kept for as long as it may serve as a stale answer. Card data is patient data: keys
 * are keyed hashes, and with a key configured the values are AES-256-GCM encrypted in Redis.
 */

export interface CachedAnswer {
  answer: PortalAnswer;
  /** Epoch milliseconds of the portal's answer. */
  fetchedAt: number;
}

export interface LookupCache {
  readonly kind: 'redis' | 'memory';
  get(key: string): Promise<CachedAnswer | undefined>;
  put(key: string, value: CachedAnswer, ttlSeconds: number): Promise<void>;
  close(): Promise<void>;
}

/** Keys computed, by normalised query: an HMAC's set-up was a tenth of a cached lookup's time. */
const keys = new LRUCache<string, { secret: Buffer | undefined; key: string }>({ max: 10_000 });

/** A cache key that names no identifier: HMAC of the normalised query. */
export function lookupKey(q: LookupQuery, secret: Buffer | undefined): string {
  const text = [q.identifier, q.name.toLowerCase(), q.birthdate].join('\u001f');
  const known = keys.get(text);
  if (known && known.secret === secret) return known.key;
  const key = createHmac('sha256', secret ?? 'fhir-gateway:lookup').update(text).digest('base64url');
  keys.set(text, { secret, key });
  return key;
}

export class MemoryLookupCache implements LookupCache {
  readonly kind = 'memory' as const;
  private readonly lru = new LRUCache<string, CachedAnswer>({ max: 50_000 });

  async get(key: string): Promise<CachedAnswer | undefined> {
    return this.lru.get(key);
  }

  async put(key: string, value: CachedAnswer, ttlSeconds: number): Promise<void> {
    this.lru.set(key, value, { ttl: ttlSeconds * 1000 });
  }

  async close(): Promise<void> {}
}

const PREFIX = 'fhir:lookup:';
/** Opened entries kept, in UTF-16 code units of their sealed text (some 4,000 cards). */
const OPENED_MAX_CHARS = 16 * 1024 * 1024;

/** AES-256-GCM with a random 96-bit IV; the Redis key is bound in as associated data. */
export function seal(key: Buffer, aad: string, plain: string): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv).setAAD(Buffer.from(aad));
  const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
  return `g1:${Buffer.concat([iv, c.getAuthTag(), body]).toString('base64')}`;
}

export function open(key: Buffer, aad: string, sealed: string): string {
  const raw = Buffer.from(sealed.slice(3), 'base64');
  const d = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12)).setAAD(Buffer.from(aad));
  d.setAuthTag(raw.subarray(12, 28));
  return Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString('utf8');
}

/**
 * Redis, with the read cache's conventions (src/cache/redis.ts): no offline queue, every
 * command bounded, failures are misses. A lookup must not wait on a Redis that went away.
 */
export class RedisLookupCache implements LookupCache {
  readonly kind = 'redis' as const;
  private readonly client;
  /**
   * The last text read per key and what it opened to: a card asked again reads the same text,
   * and decrypting and parsing it again was part of the third of a cached lookup's CPU that
   * its own work took (with mapping and serialising, see src/lookup/service.ts). Redis stays the
   * truth (the text is compared every time), so another gateway's write is seen at once.
   */
  private readonly opened = new LRUCache<string, { raw: string; entry: CachedAnswer }>({ maxSize: OPENED_MAX_CHARS, sizeCalculation: (o) => o.raw.length + 1 });

  constructor(
    url: string,
    private readonly secret: Buffer | undefined,
    // Longer than the read cache's 250 ms: a miss here costs a portal call of seconds, or a 503 when it is down.
    private readonly commandTimeoutMs = 500,
  ) {
    // Bounded here (bounded()), not by node-redis's command timeout: that one times a command out
    // only while it waits to be written, and its timer signal, fired after every command, was
    // 8 % of a cached lookup's CPU (measured with --cpu-prof under bench:lookup).
    this.client = redisClient(url);
  }

  async connect(): Promise<void> {
    await connectWithin(this.client);
  }

  private bounded<T>(p: Promise<T>): Promise<T | undefined> {
    let timer: NodeJS.Timeout;
    const t = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), this.commandTimeoutMs);
    });
    return Promise.race([p.catch(() => undefined), t]).finally(() => clearTimeout(timer));
  }

  async get(key: string): Promise<CachedAnswer | undefined> {
    const raw = await this.bounded(this.client.get(PREFIX + key));
    if (!raw) return undefined;
    const known = this.opened.get(key);
    if (known?.raw === raw) return known.entry;
    try {
      // An entry written in the clear is not trusted once a key is set, nor a sealed one without it.
      if (this.secret ? !raw.startsWith('g1:') : raw.startsWith('g1:')) return undefined;
      const entry = JSON.parse(this.secret ? open(this.secret, PREFIX + key, raw) : raw) as CachedAnswer;
      this.opened.set(key, { raw, entry });
      return entry;
    } catch {
      return undefined;
    }
  }

  async put(key: string, value: CachedAnswer, ttlSeconds: number): Promise<void> {
    const json = JSON.stringify(value);
    await this.bounded(this.client.set(PREFIX + key, this.secret ? seal(this.secret, PREFIX + key, json) : json, { EX: Math.max(1, Math.round(ttlSeconds)) }));
  }

  async close(): Promise<void> {
    if (this.client.isOpen) this.client.destroy();
  }
}

export async function openLookupCache(redisUrl: string | undefined, secret: Buffer | undefined): Promise<LookupCache> {
  if (!redisUrl) return new MemoryLookupCache();
  const c = new RedisLookupCache(redisUrl, secret);
  await c.connect();
  return c;
}
