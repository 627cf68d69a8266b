import { TimeoutStrategy, timeout } from 'cockatiel';
import { LRUCache } from 'lru-cache';
import { connectWithin, redisClient } from './redis-client';
import { decodeEntry, encodeEntry, type Cache, type CachedEntry, type LostInvalidations } from './cache';

const EPOCH_KEY = 'fhir:epoch';

// Entries live under `fhir:e<epoch>:<key>`: raising the epoch hides every older entry at once.
// ARGV: [epoch the caller knows, key, ...]. Every script first raises the epoch to what the
// caller knows, so the first instance that learns of a lost invalidation tells all the others.
const EPOCH = `
local e = tonumber(redis.call('GET', KEYS[1]) or '0')
local known = tonumber(ARGV[1])
if known > e then redis.call('SET', KEYS[1], known); e = known end
local k = 'fhir:e' .. e .. ':' .. ARGV[2]`;

const GET = `${EPOCH}
return {e, redis.call('GET', k) or false}`;

// Set the entry to ARGV[4] unless it holds a version above ARGV[3]; both fill and marker use it.
// A fill (ARGV[6]) is dropped if the epoch moved since its read began: it may hold a version
// whose invalidation was lost.
const SET_IF_NOT_NEWER = `${EPOCH}
if ARGV[6] == 'fill' and known ~= e then return 0 end
local cur = redis.call('GET', k)
if cur then
  local v = tonumber(string.match(cur, '^(%d+)\\n'))
  if v and v > tonumber(ARGV[3]) then return 0 end
end
redis.call('SET', k, ARGV[4], 'EX', ARGV[5])
return 1`;

/**
 * Redis-backed cache, shared by every gateway instance. Commands fail fast instead of queueing
 * while Redis is away (no offline queue, every call bounded), so a read falls through to the
 * database at once. The epoch follows the database's count of lost invalidations, polled, so
 * an instance that died holding undelivered invalidations cannot leave stale entries behind.
 */
export class RedisCache implements Cache {
  readonly kind = 'redis' as const;
  private readonly client;
  /** node-redis times a command out only while it waits to be written; a paused server would hang it. */
  private readonly bound;
  private epoch = 0;
  /** The epoch each key's last miss was read under, so its fill is checked against that one. */
  private readonly readEpochs = new LRUCache<string, number>({ max: 10_000 });
  private poll: NodeJS.Timeout | undefined;

  constructor(
    url: string,
    private readonly lost?: LostInvalidations,
    private readonly commandTimeoutMs = 250,
    private readonly pollMs = 500,
  ) {
    this.bound = timeout(commandTimeoutMs, TimeoutStrategy.Aggressive);
    this.client = redisClient(url);
  }

  /**
   * Learns the epoch and connects, waiting at most `waitMs`: a Redis that is down or paused at
   * start must not hold the gateway's start; the client goes on connecting in the background
   * (commands fail fast until it is ready).
   */
  async connect(waitMs = 1000): Promise<void> {
    await this.refreshEpoch();
    await connectWithin(this.client, waitMs);
    if (this.lost) {
      this.poll = setInterval(() => void this.refreshEpoch(), this.pollMs);
      this.poll.unref();
    }
  }

  private async refreshEpoch(): Promise<void> {
    const n = await this.lost?.count().catch(() => undefined);
    if (n !== undefined && n > this.epoch) this.epoch = n;
  }

  private call<T>(p: () => Promise<T>): Promise<T> {
    if (!this.client.isReady) return Promise.reject(new Error('redis not connected'));
    return this.bound.execute(() => {
      const q = p();
      q.catch(() => undefined); // a late failure after the timeout must not go unhandled
      return q;
    });
  }

  async get(key: string): Promise<CachedEntry | undefined> {
    const [e, raw] = (await this.call(() => this.client.eval(GET, { keys: [EPOCH_KEY], arguments: [String(this.epoch), key] }))) as [number, string | null];
    if (e > this.epoch) this.epoch = e;
    this.readEpochs.set(key, e);
    const entry = decodeEntry(raw);
    return entry && !entry.marker ? { version: entry.version, payload: entry.payload } : undefined;
  }

  private setIfNotNewer(epoch: number, key: string, version: number, raw: string, ttlSeconds: number, mode: 'fill' | 'mark') {
    const args = [String(epoch), key, String(version), raw, String(Math.max(1, Math.round(ttlSeconds))), mode];
    return this.call(() => this.client.eval(SET_IF_NOT_NEWER, { keys: [EPOCH_KEY], arguments: args }));
  }

  async put(key: string, version: number, payload: string, ttlSeconds: number): Promise<void> {
    const epoch = this.readEpochs.get(key) ?? this.epoch;
    this.readEpochs.delete(key);
    await this.setIfNotNewer(epoch, key, version, encodeEntry(version, payload), ttlSeconds, 'fill');
  }

  async invalidate(entries: [string, number][], ttlSeconds: number): Promise<void> {
    await Promise.all(entries.map(([k, v]) => this.setIfNotNewer(this.epoch, k, v, encodeEntry(v, ''), ttlSeconds, 'mark')));
  }

  async close(): Promise<void> {
    if (this.poll) clearInterval(this.poll);
    // close() waits for replies a stopped server will never send; destroy() does not.
    if (this.client.isOpen) this.client.destroy();
  }
}
