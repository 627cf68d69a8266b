import { z } from 'zod';
import type { Hl7SourceConfig } from './ingest/hl7v2/config';
import type { SearchLimits } from './store/search/query';
import type { SecurityConfig } from './auth/config';
import { DEFAULT_WEIGHTS, type MatchWeights } from './mpi/score';

/** Accepts `10mb`, `512kb`, or a byte count. */
export function parseSize(v: string): number {
  const m = /^(\d+)\s*(b|kb|mb|gb)?$/i.exec(v.trim());
  if (!m) throw new Error(`invalid size: ${v}`);
  const unit = (m[2] ?? 'b').toLowerCase();
  return Number(m[1]) * ({ b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 } as Record<string, number>)[unit]!;
}

/** The environment variable each setting is read from. */
const variables = new Map<z.ZodType, string>();

/** A setting read from the environment variable `name`; an empty value counts as unset. */
function fromEnv<T extends z.ZodType>(name: string, schema: T) {
  const s = z.preprocess((v) => (v === '' ? undefined : v), schema);
  variables.set(s, name);
  return s;
}

const uint = (max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .regex(/^\d+$/, 'must be a non-negative integer')
    .transform(Number)
    .refine((n) => n <= max, `must be at most ${max}`);
const port = () => uint(65535);
const size = () =>
  z.string().transform((v, ctx) => {
    try {
      return parseSize(v);
    } catch {
      ctx.addIssue({ code: 'custom', message: `must be a size such as 10mb, 512kb or a byte count (got '${v}')` });
      return z.NEVER;
    }
  });
const url = (schemes: string[]) =>
  z.string().refine((v) => schemes.some((s) => v.startsWith(`${s}://`)) && URL.canParse(v), `must be a ${schemes.join(' or ')} URL`);
const json = <T>() =>
  z.string().transform((v, ctx) => {
    try {
      return JSON.parse(v) as T;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be JSON' });
      return z.NEVER;
    }
  });

/**
 * Everything the gateway reads from its environment, in one place. Defaults give a working
 * gateway on a fresh machine: embedded store in ./data, in-process cache, loopback only.
 * Add a setting here; `Config` follows.
 */
const schema = z.object({
  port: fromEnv('PORT', port().default(8080)),
  host: fromEnv('HOST', z.string().default('127.0.0.1')),
  /** Folder of the embedded store (PGlite) when DATABASE_URL is not set; `memory://` keeps it in memory. */
  dataDir: fromEnv('DATA_DIR', z.string().default('./data')),
  databaseUrl: fromEnv('DATABASE_URL', url(['postgres', 'postgresql']).optional()),
  redisUrl: fromEnv('REDIS_URL', url(['redis', 'rediss']).optional()),
  logLevel: fromEnv('LOG_LEVEL', z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')),
  /** Largest request body accepted on the FHIR API, in bytes. */
  bodyLimit: fromEnv('BODY_LIMIT', size().default(parseSize('20mb'))),
  /** Largest message accepted on the intake endpoints (a province's claim export can be tens of MB). */
  ingestBodyLimit: fromEnv('INGEST_BODY_LIMIT', size().default(parseSize('100mb'))),
  /** Public base URL of the FHIR endpoint, used in Bundle links and Location headers. */
  baseUrl: fromEnv('BASE_URL', url(['http', 'https']).optional()),
  /** Facility recorded on resources written through the REST API when the client names none. */
  defaultFacility: fromEnv('DEFAULT_FACILITY', z.string().default('local')),
  /** MLLP listener port; `off` (-1) turns the listener off, 0 picks a free port. */
  mllpPort: fromEnv('MLLP_PORT', z.union([z.literal('off').transform(() => -1), port()]).default(2575)),
  mllpHost: fromEnv('MLLP_HOST', z.string().default('127.0.0.1')),
  /** Settings of the HL7 v2 source(s): facility, legacy charset, assigning authorities (JSON in HL7_CONFIG). */
  hl7: fromEnv('HL7_CONFIG', json<Hl7SourceConfig>().default({})),
  /** WADO-RS base URL of the PACS, written as the ImagingStudy's Endpoint. */
  dicomWadoRsBase: fromEnv('DICOM_WADO_RS_BASE', url(['http', 'https']).optional()),
  /** Institution Name (0008,0080) → MA_CSKCB, JSON: whose images a DICOM file holds. */
  dicomInstitutions: fromEnv('DICOM_INSTITUTIONS', json<unknown>().pipe(z.record(z.string(), z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'facility codes are 1-32 letters, digits, - or _'))).default({})),
  /** Seconds a cached read stays valid even without an invalidation (a safety net, not the mechanism). */
  cacheTtlSeconds: fromEnv('CACHE_TTL_SECONDS', uint().default(300)),
  /** Bounds on one search (also conditional criteria): parameters, values per parameter, chain links, includes. */
  searchMaxParams: fromEnv('SEARCH_MAX_PARAMS', uint().default(100)),
  searchMaxValues: fromEnv('SEARCH_MAX_VALUES', uint().default(100)),
  searchMaxChain: fromEnv('SEARCH_MAX_CHAIN', uint().default(4)),
  searchMaxIncludes: fromEnv('SEARCH_MAX_INCLUDES', uint().default(20)),
  /** PostgreSQL: longest a statement may run before the server cancels it, in ms (0: no limit). */
  dbStatementTimeoutMs: fromEnv('DB_STATEMENT_TIMEOUT_MS', uint().default(30_000)),
  /** PostgreSQL: longest wait for a connection (new or from the pool), in ms. */
  dbConnectTimeoutMs: fromEnv('DB_CONNECT_TIMEOUT_MS', uint().default(5_000)),
  /** Embedded store: PGlite in a worker thread, so a long statement does not stall HTTP and MLLP; `off` runs it in the gateway's thread. */
  embeddedWorker: fromEnv('EMBEDDED_WORKER', z.enum(['on', 'off']).default('on').transform((v) => v === 'on')),
  /** How often the intake takes up messages left `received` (0 turns the periodic pass off). */
  recoveryIntervalSeconds: fromEnv('RECOVERY_INTERVAL_SECONDS', uint().default(30)),
  /** How long a message may stay `received` (and unclaimed) before a recovery pass takes it up. */
  recoveryGraceSeconds: fromEnv('RECOVERY_GRACE_SECONDS', uint().default(60)),
  /** Attempts after which a message that keeps failing is quarantined with the reason. */
  /** Host header values trusted to name the gateway in links when BASE_URL is unset (comma-separated). */
  allowedHosts: fromEnv('ALLOWED_HOSTS', z.string().default('').transform((v) => v.split(',').map((h) => h.trim().toLowerCase()).filter(Boolean))),
  ingestMaxAttempts: fromEnv('INGEST_MAX_ATTEMPTS', uint().refine((n) => n >= 1, 'must be at least 1').default(5)),
  /** HL7 v2 over MLLP: ACK once the raw message is durable (`received`) or once stored (`stored`). */
  mllpAck: fromEnv('MLLP_ACK', z.enum(['received', 'stored']).default('received')),
  /** Per-sender exceptions, JSON keyed by MSH-3^MSH-4: {"HIS^79001":"stored"}. */
  mllpAckSenders: fromEnv('MLLP_ACK_SENDERS', json<Record<string, 'received' | 'stored'>>().default({}).refine((m) => typeof m === 'object' && m !== null && !Array.isArray(m) && Object.values(m).every((v) => v === 'received' || v === 'stored'), 'must be a JSON object of "received" or "stored" by MSH-3^MSH-4')),
  /** Messages processed at once by this process's background workers (0: none; recovery still runs). */
  ingestWorkers: fromEnv('INGEST_WORKERS', uint(256).default(4)),
  /** Received-but-unprocessed messages above which MLLP stops reading and HTTP intake answers 503 (0: no bound). */
  ingestBacklogMax: fromEnv('INGEST_BACKLOG_MAX', uint().default(10_000)),
  // Insurance card lookup (`Coverage/$lookup`): the VSS portal account and the lookup cache.
  /** Without it lookups answer from the Coverage resources the gateway holds. */
  vssBaseUrl: fromEnv('VSS_BASE_URL', url(['http', 'https']).optional()),
  vssUsername: fromEnv('VSS_USERNAME', z.string().default('')),
  vssPassword: fromEnv('VSS_PASSWORD', z.string().default('')),
  /** The staff member the portal records as doing the lookup (hoTenCb, cccdCb; mandatory since 08/2024). */
  vssOfficerName: fromEnv('VSS_OFFICER_NAME', z.string().default('')),
  vssOfficerCccd: fromEnv('VSS_OFFICER_CCCD', z.string().default('')),
  /** Production portals take both; the history endpoint takes form only. */
  vssBody: fromEnv('VSS_BODY', z.enum(['json', 'form']).default('json')),
  /** Whole budget of one portal call (token, retries, history included). */
  vssTimeoutMs: fromEnv('VSS_TIMEOUT_MS', uint().default(3000)),
  /** Portal calls in flight at once, across all facilities. */
  vssMaxConcurrent: fromEnv('VSS_MAX_CONCURRENT', uint().refine((n) => n >= 1, 'must be at least 1').default(10)),
  /** Lookups waiting for a free portal slot; past this a lookup is refused at once (a stale answer or 503). */
  vssQueueMax: fromEnv('VSS_QUEUE_MAX', uint().default(10_000)),
  /** Retries of one portal call after a connection failure or 5xx (jittered, inside VSS_TIMEOUT_MS). */
  vssRetries: fromEnv('VSS_RETRIES', uint(10).default(1)),
  /** Consecutive failed portal calls that open the circuit breaker. */
  vssBreakerFailures: fromEnv('VSS_BREAKER_FAILURES', uint().refine((n) => n >= 1, 'must be at least 1').default(5)),
  /** Pause of an open circuit before one call probes the portal again. */
  vssBreakerPauseMs: fromEnv('VSS_BREAKER_PAUSE_MS', uint().refine((n) => n >= 1, 'must be at least 1').default(10_000)),
  /** Plain JSON reads and GETs of hot operations (Coverage/$lookup) answered in front of Express, through the same steps (`off`: Express answers all). */
  fastPath: fromEnv('FAST_PATH', z.enum(['on', 'off']).default('on').transform((v) => v === 'on')),
  lookupFreshSeconds: fromEnv('LOOKUP_FRESH_SECONDS', uint().default(6 * 3600)),
  lookupStaleSeconds: fromEnv('LOOKUP_STALE_SECONDS', uint().default(7 * 86400)),
  /** 32 bytes (64 hex digits or base64); encrypts cached card data in Redis. */
  lookupCacheKey: fromEnv('LOOKUP_CACHE_KEY', z.string().optional().transform((v, ctx) => {
    if (!v) return undefined;
    const key = /^[0-9a-fA-F]{64}$/.test(v) ? Buffer.from(v, 'hex') : Buffer.from(v, 'base64');
    if (key.length === 32) return key;
    ctx.addIssue({ code: 'custom', message: 'must be 32 bytes: 64 hex digits or base64' });
    return z.NEVER;
  })),
  // Security (src/auth/): AUTH unset keeps the quick start open on loopback; `smart` turns every check on.
  auth: fromEnv('AUTH', z.enum(['smart', 'off']).optional()),
  authClientsFile: fromEnv('AUTH_CLIENTS_FILE', z.string().optional()),
  authSigningKeyFile: fromEnv('AUTH_SIGNING_KEY_FILE', z.string().optional()),
  /** `own-facility` limits reads to the client's facility; `all` lets scope decide. */
  authRead: fromEnv('AUTH_READ', z.enum(['all', 'own-facility']).default('all')),
  /** Access token lifetime; SMART says at most 300 s. */
  authTokenSeconds: fromEnv('AUTH_TOKEN_SECONDS', uint(300).refine((n) => n >= 1, 'must be at least 1').default(300)),
  /** AuditEvents waiting to be written; past this, requests get 503 instead of going unaudited. */
  auditQueueMax: fromEnv('AUDIT_QUEUE_MAX', uint().default(10_000)),
  /** Token bucket per client: burst size and refill per second (0 turns the limit off). */
  rateLimitBurst: fromEnv('RATE_LIMIT_BURST', uint().default(600)),
  rateLimitPerSecond: fromEnv('RATE_LIMIT_PER_SECOND', uint().default(200)),
  corsOrigins: fromEnv('CORS_ORIGINS', z.string().default('').transform((v) => v.split(',').map((o) => o.trim()).filter(Boolean))),
  mllpTlsCert: fromEnv('MLLP_TLS_CERT', z.string().optional()),
  mllpTlsKey: fromEnv('MLLP_TLS_KEY', z.string().optional()),
  mllpTlsCa: fromEnv('MLLP_TLS_CA', z.string().optional()),
  // Subscriptions (src/subscriptions/): rest-hook and websocket notifications of committed changes.
  /** Hosts a rest-hook may reach over plain http or inside the network (comma-separated); https to public hosts and loopback need none. */
  subscriptionAllowedHosts: fromEnv('SUBSCRIPTION_ALLOWED_HOSTS', z.string().default('').transform((v) => v.split(',').map((h) => h.trim().toLowerCase()).filter(Boolean))),
  /** How often a process looks for notifications other processes committed (its own are sent at once). */
  subscriptionPollMs: fromEnv('SUBSCRIPTION_POLL_MS', uint().refine((n) => n >= 10, 'must be at least 10').default(500)),
  /** First retry after a failed delivery; doubles per failure up to SUBSCRIPTION_RETRY_MAX_MS. */
  subscriptionRetryBaseMs: fromEnv('SUBSCRIPTION_RETRY_BASE_MS', uint().default(1000)),
  subscriptionRetryMaxMs: fromEnv('SUBSCRIPTION_RETRY_MAX_MS', uint().default(300_000)),
  /** Failures in a row after which the Subscription shows status `error` (deliveries go on). */
  subscriptionErrorAfter: fromEnv('SUBSCRIPTION_ERROR_AFTER', uint().refine((n) => n >= 1, 'must be at least 1').default(3)),
  /** Seconds of failing without one success after which the Subscription goes `off` and its queue is dropped. */
  subscriptionOffAfterSeconds: fromEnv('SUBSCRIPTION_OFF_AFTER_SECONDS', uint().default(86_400)),
  subscriptionTimeoutMs: fromEnv('SUBSCRIPTION_TIMEOUT_MS', uint().default(5000)),
  /** How long a crashed process's claim on a subscription's queue holds before another process delivers it. */
  subscriptionLeaseSeconds: fromEnv('SUBSCRIPTION_LEASE_SECONDS', uint().refine((n) => n >= 1, 'must be at least 1').default(30)),
  // Master patient index (src/mpi/).
  /** Match Patients on every write and keep a Person per individual (`off` turns it off). */
  mpi: fromEnv('MPI', z.enum(['on', 'off']).default('on').transform((v) => v === 'on')),
  /** Fellegi–Sunter weights and thresholds, merged over the defaults. */
  mpiWeights: fromEnv('MPI_WEIGHTS', json<Partial<MatchWeights>>().default({}).transform((w): MatchWeights => ({ ...DEFAULT_WEIGHTS, ...w }))),
});

type Settings = z.output<typeof schema>;
export type Config = Settings & {
  searchLimits: SearchLimits;
  lookup: LookupConfig;
  /** The AUTH_*, AUDIT_*, RATE_LIMIT_*, CORS_ORIGINS and MLLP_TLS_* settings, grouped for src/auth/. */
  security: SecurityConfig;
};

/** What the insurance lookup (src/lookup/) reads, grouped. */
export interface LookupConfig {
  vssBaseUrl?: string;
  vssUsername: string;
  vssPassword: string;
  officerName: string;
  officerCccd: string;
  body: 'json' | 'form';
  timeoutMs: number;
  maxConcurrent: number;
  queueMax: number;
  retries: number;
  breakerFailures: number;
  breakerPauseMs: number;
  freshSeconds: number;
  staleSeconds: number;
  cacheKey?: Buffer;
}

/** Settings several parts read together, grouped once here. */
function derive(s: Settings): Config {
  return {
    ...s,
    searchLimits: { maxParams: s.searchMaxParams, maxValues: s.searchMaxValues, maxChain: s.searchMaxChain, maxIncludes: s.searchMaxIncludes },
    lookup: {
      ...(s.vssBaseUrl ? { vssBaseUrl: s.vssBaseUrl } : {}),
      vssUsername: s.vssUsername,
      vssPassword: s.vssPassword,
      officerName: s.vssOfficerName,
      officerCccd: s.vssOfficerCccd,
      body: s.vssBody,
      timeoutMs: s.vssTimeoutMs,
      maxConcurrent: s.vssMaxConcurrent,
      queueMax: s.vssQueueMax,
      retries: s.vssRetries,
      breakerFailures: s.vssBreakerFailures,
      breakerPauseMs: s.vssBreakerPauseMs,
      freshSeconds: s.lookupFreshSeconds,
      staleSeconds: s.lookupStaleSeconds,
      ...(s.lookupCacheKey ? { cacheKey: s.lookupCacheKey } : {}),
    },
    security: {
      ...(s.auth ? { mode: s.auth } : {}),
      ...(s.authClientsFile ? { clientsFile: s.authClientsFile } : {}),
      ...(s.authSigningKeyFile ? { signingKeyFile: s.authSigningKeyFile } : {}),
      read: s.authRead,
      tokenSeconds: s.authTokenSeconds,
      auditQueueMax: s.auditQueueMax,
      rateBurst: s.rateLimitBurst,
      ratePerSecond: s.rateLimitPerSecond,
      corsOrigins: s.corsOrigins,
      ...(s.mllpTlsCert && s.mllpTlsKey ? { mllpTls: { cert: s.mllpTlsCert, key: s.mllpTlsKey, ...(s.mllpTlsCa ? { ca: s.mllpTlsCa } : {}) } } : {}),
    },
  };
}

/** Reads and checks the environment; one error lists every variable that is wrong. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const shape = schema.shape as Record<string, z.ZodType>;
  const input = Object.fromEntries(Object.entries(shape).map(([key, s]) => [key, env[variables.get(s)!]]));
  const parsed = schema.safeParse(input);
  const lines = (parsed.error?.issues ?? []).map((i) => {
    const name = variables.get(shape[String(i.path[0])]!) ?? String(i.path[0]);
    return `  ${name}: ${i.message}`; // not the value: a URL can carry a password
  });
  // Settings that are only right together.
  if (!env.MLLP_TLS_CERT !== !env.MLLP_TLS_KEY) lines.push('  MLLP_TLS_CERT, MLLP_TLS_KEY: give both or neither');
  if (parsed.success && lines.length === 0) return derive(parsed.data);
  throw new Error(`invalid environment:\n${lines.join('\n')}`);
}
