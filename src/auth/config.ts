/**
 * The security settings, read from the environment with the rest of the configuration
 * (src/config.ts declares the variables and checks them in its one schema).
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
