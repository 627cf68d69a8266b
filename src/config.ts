import { loadSecurityConfig, type SecurityConfig } from './auth/config';
import type { Hl7SourceConfig } from './ingest/hl7v2/config';

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
  /** MLLP listener port; -1 turns the listener off, 0 picks a free port. */
  mllpPort: number;
  mllpHost: string;
  /** Settings of the HL7 v2 source(s): facility, legacy charset, assigning authorities (JSON in HL7_CONFIG). */
  hl7: Hl7SourceConfig;
  /** WADO-RS base URL of the PACS, written as the ImagingStudy's Endpoint. */
  dicomWadoRsBase?: string;
  /** Seconds a cached read stays valid even without an invalidation (a safety net, not the mechanism). */
  cacheTtlSeconds: number;
  /** AUTH, AUTH_CLIENTS_FILE, AUTH_SIGNING_KEY_FILE, AUTH_READ, AUDIT_QUEUE_MAX, RATE_LIMIT_*, CORS_ORIGINS, MLLP_TLS_* (see src/auth/config.ts). */
  security: SecurityConfig;
}

function int(v: string | undefined, fallback: number, name: string): number {
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer`);
  return n;
}

function json<T>(v: string | undefined, name: string): T | undefined {
  if (!v) return undefined;
  try {
    return JSON.parse(v) as T;
  } catch {
    throw new Error(`${name} must be JSON`);
  }
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
    mllpPort: env.MLLP_PORT === 'off' ? -1 : int(env.MLLP_PORT, 2575, 'MLLP_PORT'),
    mllpHost: env.MLLP_HOST || '127.0.0.1',
    hl7: json<Hl7SourceConfig>(env.HL7_CONFIG, 'HL7_CONFIG') ?? {},
    dicomWadoRsBase: env.DICOM_WADO_RS_BASE || undefined,
    cacheTtlSeconds: int(env.CACHE_TTL_SECONDS, 300, 'CACHE_TTL_SECONDS'),
    security: loadSecurityConfig(env),
  };
}
