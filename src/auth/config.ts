/**
 * The security settings, read from the environment with the rest of the configuration.
 * `AUTH` unset keeps the quick start open on loopback; `AUTH=smart` turns every check on.
 */
export interface SecurityConfig {
  /** `smart`: SMART Backend Services tokens required; `off`: open on purpose; undefined: open, loopback only. */
  mode?: 'smart' | 'off';
  clientsFile?: string;
  signingKeyFile?: string;
  /** `own-facility` limits reads to the client's facility; `all` (default) lets scope decide. */
  read: 'all' | 'own-facility';
  /** Access token lifetime; SMART says at most 300 s. */
  tokenSeconds: number;
  /** AuditEvents waiting to be written; past this, requests get 503 instead of going unaudited. */
  auditQueueMax: number;
  /** Token bucket per client: burst size and refill per second (0 turns the limit off). */
  rateBurst: number;
  ratePerSecond: number;
  corsOrigins: string[];
  mllpTls?: { cert: string; key: string; ca?: string };
}

function num(v: string | undefined, fallback: number, name: string): number {
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number`);
  return n;
}

export function loadSecurityConfig(env: NodeJS.ProcessEnv): SecurityConfig {
  const mode = env.AUTH || undefined;
  if (mode !== undefined && mode !== 'smart' && mode !== 'off') throw new Error(`AUTH must be 'smart' or 'off' (got '${mode}')`);
  const read = env.AUTH_READ || 'all';
  if (read !== 'all' && read !== 'own-facility') throw new Error(`AUTH_READ must be 'all' or 'own-facility'`);
  const tokenSeconds = num(env.AUTH_TOKEN_SECONDS, 300, 'AUTH_TOKEN_SECONDS');
  if (tokenSeconds > 300 || tokenSeconds < 1) throw new Error('AUTH_TOKEN_SECONDS must be from 1 to 300');
  if ((env.MLLP_TLS_CERT && !env.MLLP_TLS_KEY) || (!env.MLLP_TLS_CERT && env.MLLP_TLS_KEY)) throw new Error('MLLP_TLS_CERT and MLLP_TLS_KEY go together');
  return {
    ...(mode ? { mode } : {}),
    ...(env.AUTH_CLIENTS_FILE ? { clientsFile: env.AUTH_CLIENTS_FILE } : {}),
    ...(env.AUTH_SIGNING_KEY_FILE ? { signingKeyFile: env.AUTH_SIGNING_KEY_FILE } : {}),
    read,
    tokenSeconds,
    auditQueueMax: num(env.AUDIT_QUEUE_MAX, 10_000, 'AUDIT_QUEUE_MAX'),
    rateBurst: num(env.RATE_LIMIT_BURST, 600, 'RATE_LIMIT_BURST'),
    ratePerSecond: num(env.RATE_LIMIT_PER_SECOND, 200, 'RATE_LIMIT_PER_SECOND'),
    corsOrigins: (env.CORS_ORIGINS ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    ...(env.MLLP_TLS_CERT && env.MLLP_TLS_KEY ? { mllpTls: { cert: env.MLLP_TLS_CERT, key: env.MLLP_TLS_KEY, ...(env.MLLP_TLS_CA ? { ca: env.MLLP_TLS_CA } : {}) } } : {}),
  };
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/**
 * Refuses an exposed, open gateway: a non-loopback HOST needs AUTH=smart, or AUTH=off said
 * out loud. Returns the warning to log when the gateway runs open.
 */
export function exposureCheck(host: string, sec: SecurityConfig): string | undefined {
  if (sec.mode === 'smart') return undefined;
  if (!LOOPBACK.has(host) && sec.mode !== 'off') {
    throw new Error(`HOST=${host} is reachable from the network: set AUTH=smart (or AUTH=off to run open on purpose)`);
  }
  return `AUTH is not set to smart: the API is open to anyone who can reach ${host} (no tokens, no facility checks, no audit trail)`;
}
