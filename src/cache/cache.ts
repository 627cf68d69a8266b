/**
 * The read cache. Keys name a resource (`Patient/123`); each entry carries the version it holds.
 *
 * Invalidation writes a marker "version N exists" instead of deleting, and a fill is refused
 * when the entry already names a newer version. This closes the race where a reader fetched
 * version N-1 from the database just before a write and puts it in the cache just after the
 * write's invalidation. The marker lives in Redis, shared by every gateway instance.
 */
export interface CachedEntry {
  version: number;
  payload: string;
}

export interface Cache {
  readonly kind: 'redis' | 'memory';
  get(key: string): Promise<CachedEntry | undefined>;
  /** Stores `payload` as `version` unless the key already holds a newer version or marker. */
  put(key: string, version: number, payload: string, ttlSeconds: number): Promise<void>;
  /** Records that `version` is current, evicting anything older. */
  invalidate(entries: [key: string, version: number][], ttlSeconds: number): Promise<void>;
  close(): Promise<void>;
}

/** Entry encoding shared by the implementations: `<version>\n<payload>`; an empty payload is a marker. */
export function encodeEntry(version: number, payload: string): string {
  return `${version}\n${payload}`;
}

export function decodeEntry(raw: string | null | undefined): (CachedEntry & { marker: boolean }) | undefined {
  if (!raw) return undefined;
  const nl = raw.indexOf('\n');
  if (nl < 0) return undefined;
  const payload = raw.slice(nl + 1);
  return { version: Number(raw.slice(0, nl)), payload, marker: payload === '' };
}

/**
 * Invalidations some instance failed to deliver, counted in the database (a sequence) so the
 * count outlives the instance that lost them. The Redis cache uses the count as its epoch:
 * an entry written under an older count is never served.
 */
export interface LostInvalidations {
  count(): Promise<number>;
  record(): Promise<void>;
}
