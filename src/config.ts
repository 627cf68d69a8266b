/**
 * Everything the gateway reads from its environment, in one place. Defaults give a working
 * gateway on a fresh machine: embedded store in ./data, in-process cache, loopback only.
 */
export interface Config {
  port: number;
  host: string;
  /** Folder of the embedded store (PGlite) when DATABASE_URL is not set; `memory://` keeps it in memory. */
  dataDir: string;
  databaseUrl?: string;
  redisUrl?: string;
  logLevel: string;
  /** Largest request body accepted on the FHIR API, in bytes. */
  bodyLimit: number;
  /** Largest message accepted on the intake endpoints (a province's claim export can be tens of MB). */
  ingestBodyLimit: number;
  /** Public base URL of the FHIR endpoint, used in Bundle links and Location headers. */
  baseUrl?: string;
  /** Facility recorded on resources written through the REST API when the client names none. */
  defaultFacility: string;
  mllpPort: number;
  mllpHost: string;
  /** Seconds a cached read stays valid even without an invalidation (a safety net, not the mechanism). */
  cacheTtlSeconds: number;
}

function int(v: string | undefined, fallback: number, name: string): number {
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer`);
  return n;
}

/** Accepts `10mb`, `512kb`, or a byte count. */
export function parseSize(v: string): number {
  const m = /^(\d+)\s*(b|kb|mb|gb)?$/i.exec(v.trim());
  if (!m) throw new Error(`invalid size: ${v}`);
  const unit = (m[2] ?? 'b').toLowerCase();
  return Number(m[1]) * ({ b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 } as Record<string, number>)[unit]!;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return {
    port: int(env.PORT, 8080, 'PORT'),
    host: env.HOST || '127.0.0.1',
    dataDir: env.DATA_DIR || './data',
    databaseUrl: env.DATABASE_URL || undefined,
    redisUrl: env.REDIS_URL || undefined,
    logLevel: env.LOG_LEVEL || 'info',
    bodyLimit: parseSize(env.BODY_LIMIT || '20mb'),
    ingestBodyLimit: parseSize(env.INGEST_BODY_LIMIT || '100mb'),
    baseUrl: env.BASE_URL || undefined,
    defaultFacility: env.DEFAULT_FACILITY || 'local',
    mllpPort: int(env.MLLP_PORT, 2575, 'MLLP_PORT'),
    mllpHost: env.MLLP_HOST || '127.0.0.1',
    cacheTtlSeconds: int(env.CACHE_TTL_SECONDS, 300, 'CACHE_TTL_SECONDS'),
  };
}
