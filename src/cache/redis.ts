import { createClient } from 'redis';
import { decodeEntry, encodeEntry, type Cache, type CachedEntry } from './cache';

const PREFIX = 'fhir:r:';

// Set KEYS[1] to ARGV[2] unless it already holds a version above ARGV[1]; both fill and marker use it.
const SET_IF_NOT_NEWER = `
local cur = redis.call('GET', KEYS[1])
if cur then
  local v = tonumber(string.match(cur, '^(%d+)\\n'))
  if v and v > tonumber(ARGV[1]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1`;

/**
 * Redis-backed cache. Commands fail fast instead of queueing while Redis is away (no offline
 * queue, short timeout), so a read falls through to the database at once.
 */
export class RedisCache implements Cache {
  readonly kind = 'redis' as const;
  private readonly client;

  constructor(
    url: string,
    private readonly commandTimeoutMs = 250,
  ) {
    this.client = createClient({
      url,
      disableOfflineQueue: true,
      commandOptions: { timeout: commandTimeoutMs },
      socket: { connectTimeout: 1000, reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 1000) },
    });
    // Connection errors surface as failed commands; the client keeps reconnecting on its own.
    this.client.on('error', () => undefined);
  }

  async connect(): Promise<void> {
    await this.client.connect().catch(() => undefined);
  }

  /**
   * node-redis times a command out only while it waits to be written; a server that stops
   * answering after accepting it (paused, partitioned) would hang the request. Bound every call.
   */
  private bounded<T>(p: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('redis command timed out')), this.commandTimeoutMs);
    });
    p.catch(() => undefined);
    return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
  }

  async get(key: string): Promise<CachedEntry | undefined> {
    const e = decodeEntry(await this.bounded(this.client.get(PREFIX + key)));
    return e && !e.marker ? { version: e.version, payload: e.payload } : undefined;
  }

  private setIfNotNewer(key: string, version: number, raw: string, ttlSeconds: number) {
    return this.bounded(this.client.eval(SET_IF_NOT_NEWER, { keys: [PREFIX + key], arguments: [String(version), raw, String(Math.max(1, Math.round(ttlSeconds)))] }));
  }

  async put(key: string, version: number, payload: string, ttlSeconds: number): Promise<void> {
    await this.setIfNotNewer(key, version, encodeEntry(version, payload), ttlSeconds);
  }

  async invalidate(entries: [string, number][], ttlSeconds: number): Promise<void> {
    await Promise.all(entries.map(([k, v]) => this.setIfNotNewer(k, v, encodeEntry(v, ''), ttlSeconds)));
  }

  async close(): Promise<void> {
    // close() waits for replies a stopped server will never send; destroy() does not.
    if (this.client.isOpen) this.client.destroy();
  }
}
