import { ConsecutiveBreaker, ConstantBackoff, circuitBreaker, handleAll, retry } from 'cockatiel';
import type { Logger } from '../logger';
import type { Cache, CachedEntry, LostInvalidations } from './cache';

/**
 * Wraps a cache so that it can never fail a request: a failed get is a miss, a failed fill is
 * skipped, and a failed invalidation is kept (and those keys bypass the cache here) and retried
 * until it goes through. A failed invalidation is also recorded in the database before the
 * write answers, so that other instances stop trusting older entries even if this one dies
 * before its retry succeeds. TTLs bound whatever is left.
 */
export class SafeCache implements Cache {
  private readonly pending = new Map<string, number>();
  /** After a failure the cache is left alone for a second, so an outage costs one timeout, not one per request. */
  private readonly breaker = circuitBreaker(handleAll, { halfOpenAfter: 1000, breaker: new ConsecutiveBreaker(1) });
  private readonly retrying = retry(handleAll, { maxAttempts: Number.MAX_SAFE_INTEGER, backoff: new ConstantBackoff(500) });
  private flushing: Promise<void> | undefined;
  private readonly closing = new AbortController();
  readonly kind;

  constructor(
    private readonly inner: Cache,
    private readonly ttlSeconds: number,
    private readonly log?: Logger,
    private readonly lost?: LostInvalidations,
  ) {
    this.kind = inner.kind;
  }

  async get(key: string): Promise<CachedEntry | undefined> {
    if (this.pending.has(key)) return undefined;
    return this.breaker.execute(() => this.inner.get(key)).catch(() => undefined);
  }

  async put(key: string, version: number, payload: string, ttlSeconds: number): Promise<void> {
    if (this.pending.has(key)) return;
    // a cache that cannot store is only slower
    await this.breaker.execute(() => this.inner.put(key, version, payload, ttlSeconds)).catch(() => undefined);
  }

  async invalidate(entries: [string, number][], ttlSeconds: number): Promise<void> {
    try {
      await this.breaker.execute(() => this.inner.invalidate(entries, ttlSeconds));
    } catch {
      for (const [k, v] of entries) this.pending.set(k, Math.max(v, this.pending.get(k) ?? 0));
      this.log?.warn({ pending: this.pending.size }, 'cache invalidation deferred: cache unreachable');
      // The database is up (the write just committed there); if this fails too, the retry below still runs.
      await this.lost?.record().catch((err: Error) => this.log?.error({ err: err.message }, 'could not record a lost cache invalidation'));
      this.flush();
    }
  }

  /** Delivers the pending invalidations, retrying every half second until Redis takes them. */
  private flush(): void {
    if (this.flushing) return;
    this.flushing = this.retrying
      .execute(async () => {
        const entries = [...this.pending];
        await this.breaker.execute(() => this.inner.invalidate(entries, this.ttlSeconds));
        for (const [k, v] of entries) if (this.pending.get(k) === v) this.pending.delete(k);
      }, this.closing.signal)
      .catch(() => undefined)
      .finally(() => {
        this.flushing = undefined;
        if (this.pending.size > 0 && !this.closing.signal.aborted) this.flush(); // added while the last batch was in flight
      });
  }

  async close(): Promise<void> {
    this.closing.abort();
    await this.inner.close();
  }
}
