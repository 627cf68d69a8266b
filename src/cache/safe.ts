import type { Logger } from '../logger';
import type { Cache, CachedEntry } from './cache';

/**
 * Wraps a cache so that it can never fail a request: a failed get is a miss, a failed fill is
 * skipped, and a failed invalidation is kept (and those keys bypass the cache here) and retried
 * until it goes through, so an entry cached before Redis went away is not served after it
 * comes back. TTLs bound whatever is left.
 */
export class SafeCache implements Cache {
  private readonly pending = new Map<string, number>();
  private retryTimer: NodeJS.Timeout | undefined;
  readonly kind;

  constructor(
    private readonly inner: Cache,
    private readonly ttlSeconds: number,
    private readonly log?: Logger,
  ) {
    this.kind = inner.kind;
  }

  /** After a failure the cache is left alone for a moment, so an outage costs one timeout, not one per request. */
  private downUntil = 0;

  private get down(): boolean {
    return Date.now() < this.downUntil;
  }

  private trip(): void {
    this.downUntil = Date.now() + 1000;
  }

  async get(key: string): Promise<CachedEntry | undefined> {
    if (this.down || this.pending.has(key)) return undefined;
    try {
      return await this.inner.get(key);
    } catch {
      this.trip();
      return undefined;
    }
  }

  async put(key: string, version: number, payload: string, ttlSeconds: number): Promise<void> {
    if (this.down || this.pending.has(key)) return;
    try {
      await this.inner.put(key, version, payload, ttlSeconds);
    } catch {
      this.trip(); // a cache that cannot store is only slower
    }
  }

  async invalidate(entries: [string, number][], ttlSeconds: number): Promise<void> {
    try {
      if (this.down) throw new Error('cache marked down');
      await this.inner.invalidate(entries, ttlSeconds);
    } catch {
      this.trip();
      for (const [k, v] of entries) this.pending.set(k, Math.max(v, this.pending.get(k) ?? 0));
      this.log?.warn({ pending: this.pending.size }, 'cache invalidation deferred: cache unreachable');
      this.scheduleRetry();
    }
  }

  private scheduleRetry(): void {
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(async () => {
      this.retryTimer = undefined;
      const entries = [...this.pending];
      try {
        await this.inner.invalidate(entries, this.ttlSeconds);
        for (const [k, v] of entries) if (this.pending.get(k) === v) this.pending.delete(k);
      } catch {
        this.scheduleRetry();
      }
    }, 500);
    this.retryTimer.unref();
  }

  async close(): Promise<void> {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.inner.close();
  }
}
