import { createHash } from 'node:crypto';
import { Agent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import axios, { type AxiosInstance } from 'axios';
import {
  BrokenCircuitError,
  BulkheadRejectedError,
  ConsecutiveBreaker,
  ExponentialBackoff,
  TaskCancelledError,
  TimeoutStrategy,
  bulkhead,
  circuitBreaker,
  handleWhen,
  retry,
  timeout,
  wrap,
} from 'cockatiel';
import type { LookupConfig } from '../config';
import { outcomeOf, portalBirthDate, type LookupQuery, type PortalAnswer, type VssCard, type VssVisit } from './map';

/**
 * The VSS portal adapter (reference §5.3): `/api/token/take`, `KQNhanLichSuKCB2024`,
 * `Lskcb2025`. One token for the whole gateway, renewed before it expires or once on a 401;
 * every call inside one time budget, a bulkhead, a circuit breaker and retries of connection
 * failures and 5xx (cockatiel). Errors carry a kind and a plain sentence, never the URL, whose
 * query string holds the account's credentials.
 */

export type PortalFailure = 'unreachable' | 'timeout' | 'http' | 'garbage' | 'upstream' | 'circuit-open' | 'busy';

/** The portal could not answer: the caller may fall back to a cached answer. */
export class PortalError extends Error {
  constructor(
    readonly kind: PortalFailure,
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** The portal refuses the gateway itself (account, officer): only the operator can fix it. */
export class PortalConfigError extends Error {}

interface Token {
  access: string;
  id: string;
  expiresAt: number;
}

const CONNECTION = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED', 'ETIMEDOUT', 'ERR_SOCKET_CONNECTION_TIMEOUT']);

/** An axios failure as a PortalError whose message names no URL, header or body. */
function portalError(e: unknown): Error {
  if (e instanceof PortalError || e instanceof PortalConfigError) return e;
  if (axios.isCancel(e) || e instanceof TaskCancelledError) return new PortalError('timeout', 'the portal did not answer in time');
  const code = (e as { code?: string }).code;
  if (code && CONNECTION.has(code)) return new PortalError('unreachable', `the portal could not be reached (${code})`);
  return new PortalError('unreachable', 'the portal could not be reached');
}

const retryable = (e: Error) => e instanceof PortalError && (e.kind === 'unreachable' || (e.kind === 'http' && (e.status ?? 0) >= 500));
const failing = (e: Error) => e instanceof PortalError || e instanceof TaskCancelledError || axios.isCancel(e);

export const md5Upper = (s: string) => createHash('md5').update(s, 'utf8').digest('hex').toUpperCase();

/** `expires_in` is documented as a UTC time; some gateways send seconds. Renew a minute early. */
function expiry(v: unknown, now: number): number {
  const at = typeof v === 'number' || (typeof v === 'string' && /^\d+$/.test(v)) ? now + Number(v) * 1000 : Date.parse(String(v));
  return (Number.isNaN(at) ? now + 10 * 60_000 : at) - 60_000;
}

export interface VssClientOptions extends Pick<LookupConfig, 'vssUsername' | 'vssPassword' | 'officerName' | 'officerCccd' | 'body' | 'timeoutMs' | 'maxConcurrent'>, Partial<Pick<LookupConfig, 'queueMax' | 'retries' | 'breakerFailures' | 'breakerPauseMs'>> {
  baseUrl: string;
}

export class VssClient {
  private readonly http: AxiosInstance;
  private token: Token | undefined;
  private tokenFlight: Promise<Token> | undefined;
  private readonly policy;
  private readonly passwordHash: string;
  private readonly agents: Agent[];

  constructor(private readonly opts: VssClientOptions) {
    this.passwordHash = md5Upper(opts.vssPassword);
    this.agents = [new Agent({ keepAlive: true, maxSockets: opts.maxConcurrent * 2 }), new HttpsAgent({ keepAlive: true, maxSockets: opts.maxConcurrent * 2 })];
    this.http = axios.create({
      baseURL: opts.baseUrl.replace(/\/$/, ''),
      responseType: 'text',
      transformResponse: [(d: unknown) => d],
      validateStatus: () => true,
      maxRedirects: 0,
      maxContentLength: 5 * 1024 * 1024,
      httpAgent: this.agents[0],
      httpsAgent: this.agents[1],
    });
    // Outermost first: the whole budget (queueing included), then the bulkhead, the breaker, the retries.
    this.policy = wrap(
      timeout(opts.timeoutMs, TimeoutStrategy.Aggressive),
      bulkhead(opts.maxConcurrent, opts.queueMax ?? 10_000),
      circuitBreaker(handleWhen(failing), { halfOpenAfter: opts.breakerPauseMs ?? 10_000, breaker: new ConsecutiveBreaker(opts.breakerFailures ?? 5) }),
      // maxAttempts counts retries; by default one: a second failure inside the budget is as good as a verdict.
      retry(handleWhen(retryable), { maxAttempts: opts.retries ?? 1, backoff: new ExponentialBackoff({ initialDelay: 50, maxDelay: 400 }) }),
    );
  }

  /** Drops the kept-alive connections to the portal. */
  close(): void {
    for (const a of this.agents) a.destroy();
  }

  /** The card (and with `history` its visits), or a PortalError / PortalConfigError. */
  async lookup(q: LookupQuery): Promise<PortalAnswer> {
    try {
      return await this.policy.execute(async ({ signal }) => {
        const fields = { maThe: q.identifier, hoTen: q.name, ngaySinh: portalBirthDate(q.birthdate), hoTenCb: this.opts.officerName, cccdCb: this.opts.officerCccd };
        const card = (await this.call('/api/egw/KQNhanLichSuKCB2024', fields, this.opts.body, signal)) as unknown as VssCard;
        const outcome = outcomeOf(card.maKetQua);
        if (outcome === 'gateway-configuration') throw new PortalConfigError(`the portal refused the gateway's lookup (maKetQua ${card.maKetQua})`);
        if (outcome === 'upstream-failure') throw new PortalError('upstream', `the portal answered maKetQua ${card.maKetQua}`);
        if (!q.history) return { card };
        // The 2025 history endpoint takes form bodies only (reference §5.3).
        const h = await this.call('/api/egw/Lskcb2025', fields, 'form', signal);
        const visits = h.dsLichSuKCB2025;
        if (outcomeOf(String(h.maKetQua)) === 'upstream-failure' || (visits != null && !Array.isArray(visits))) throw new PortalError('garbage', 'the portal answered the history with something unreadable');
        return { card, visits: (visits ?? []) as VssVisit[] };
      });
    } catch (e) {
      if (e instanceof BrokenCircuitError) throw new PortalError('circuit-open', 'the portal failed repeatedly; calls are paused before it is tried again');
      if (e instanceof BulkheadRejectedError) throw new PortalError('busy', 'too many portal calls are waiting');
      throw portalError(e);
    }
  }

  private async call(path: string, fields: Record<string, string>, format: 'json' | 'form', signal: AbortSignal, renewed = false): Promise<Record<string, unknown>> {
    const token = await this.currentToken();
    const params = { token: token.access, id_token: token.id, username: this.opts.vssUsername, password: this.passwordHash };
    let res;
    try {
      res = await this.http.post(path, format === 'json' ? JSON.stringify(fields) : new URLSearchParams(fields).toString(), {
        params,
        signal,
        headers: { 'content-type': format === 'json' ? 'application/json' : 'application/x-www-form-urlencoded', accept: 'application/json' },
      });
    } catch (e) {
      throw portalError(e);
    }
    const body = res.status < 500 ? parse(res.data) : undefined;
    if (res.status === 401 || body?.maKetQua === '401') {
      // The token may have been revoked or expired early: one renewal, then it is the account.
      if (renewed) throw new PortalConfigError('the portal refused the gateway account (401)');
      if (this.token === token) this.token = undefined;
      return this.call(path, fields, format, signal, true);
    }
    if (res.status >= 500) throw new PortalError('http', `the portal answered HTTP ${res.status}`, res.status);
    if (res.status !== 200) throw new PortalError('http', `the portal answered HTTP ${res.status}`, res.status);
    if (!body || typeof body.maKetQua !== 'string') throw new PortalError('garbage', 'the portal answered something that is not a lookup result');
    return body;
  }

  /** The one token, fetched by one caller while the others wait for it. */
  private currentToken(): Promise<Token> {
    if (this.token && this.token.expiresAt > Date.now()) return Promise.resolve(this.token);
    this.tokenFlight ??= this.takeToken().finally(() => {
      this.tokenFlight = undefined;
    });
    return this.tokenFlight;
  }

  private async takeToken(): Promise<Token> {
    let res;
    try {
      res = await this.http.post('/api/token/take', new URLSearchParams({ username: this.opts.vssUsername, password: this.passwordHash }).toString(), {
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        timeout: this.opts.timeoutMs,
      });
    } catch (e) {
      throw portalError(e);
    }
    if (res.status >= 500) throw new PortalError('http', `the portal's token service answered HTTP ${res.status}`, res.status);
    const body = parse(res.data);
    const key = body?.APIKey as Record<string, unknown> | undefined;
    if (res.status === 401 || (body && body.maKetQua !== '200' && body.maKetQua !== 200)) throw new PortalConfigError(`the portal refused the gateway account (token: ${res.status === 401 ? 'HTTP 401' : `maKetQua ${String(body?.maKetQua)}`})`);
    if (!key || typeof key.access_token !== 'string') throw new PortalError('garbage', "the portal's token service answered something unreadable");
    this.token = { access: key.access_token, id: String(key.id_token ?? ''), expiresAt: expiry(key.expires_in, Date.now()) };
    return this.token;
  }
}

function parse(data: unknown): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(String(data)) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
