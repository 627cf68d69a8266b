import { decodeEntry, encodeEntry, type Cache, type CachedEntry } from './cache';

/** In-process LRU for a single gateway with no Redis configured. */
export class MemoryCache implements Cache {
  readonly kind = 'memory' as const;
  private readonly entries = new Map<string, { raw: string; expires: number }>();

  constructor(private readonly maxEntries = 10_000) {}

  private raw(key: string): string | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expires < Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return e.raw;
  }

  private store(key: string, raw: string, ttlSeconds: number): void {
    // Re-insert so Map order is recency order; the oldest is evicted first.
    this.entries.delete(key);
    this.entries.set(key, { raw, expires: Date.now() + ttlSeconds * 1000 });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  async get(key: string): Promise<CachedEntry | undefined> {
    const e = decodeEntry(this.raw(key));
    if (!e || e.marker) return undefined;
    const slot = this.entries.get(key)!;
    this.entries.delete(key);
    this.entries.set(key, slot);
    return { version: e.version, payload: e.payload };
  }

  async put(key: string, version: number, payload: string, ttlSeconds: number): Promise<void> {
    const cur = decodeEntry(this.raw(key));
    if (cur && cur.version > version) return;
    this.store(key, encodeEntry(version, payload), ttlSeconds);
  }

  async invalidate(entries: [string, number][], ttlSeconds: number): Promise<void> {
    for (const [key, version] of entries) {
      const cur = decodeEntry(this.raw(key));
      if (cur && cur.version > version) continue;
      this.store(key, encodeEntry(version, ''), ttlSeconds);
    }
  }

  async close(): Promise<void> {
    this.entries.clear();
  }
}
