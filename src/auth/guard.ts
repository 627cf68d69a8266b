import type { IncomingMessage, ServerResponse } from 'node:http';
import { issue, toOperationOutcome } from '../fhir/outcome';
import type { AuditTrail } from './audit';
import { runAs, type RequestSecurity } from './context';
import { classify, patientsInUrl } from './interaction';
import { checkNamedFacility, requirePermission } from './rules';
import type { SharedState } from './shared-state';
import type { TokenService } from './tokens';

/**
 * The one middleware every /fhir and /ingest request passes under AUTH=smart: bearer token,
 * rate limit, audit capacity, scope for the interaction, the facility a write is made for;
 * then the request runs as its principal, and its AuditEvent is queued when it finishes.
 */
export interface GuardDeps {
  tokens: TokenService;
  state: SharedState;
  audit: AuditTrail;
  rateBurst: number;
  ratePerSecond: number;
}

function refuse(res: ServerResponse, status: number, code: 'login' | 'forbidden' | 'throttled' | 'transient', message: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/fhir+json; charset=utf-8');
  res.end(JSON.stringify(toOperationOutcome([issue('error', code, message)])));
}

/** Node's request and response, not Express's: the fast path in front of Express (src/api/fast-path.ts) runs it too. */
export type Guard = (req: IncomingMessage & { originalUrl?: string }, res: ServerResponse, next: () => void) => Promise<void>;

const single = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

export function guard(deps: GuardDeps): Guard {
  return async function securityGuard(req, res, next) {
    // Express rewrites req.url under a mount; originalUrl is the URL as received.
    const url = req.originalUrl ?? req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const what = classify(req.method ?? 'GET', path);
    if (!what || what.public) return next();

    const auth = req.headers.authorization;
    const token = auth && /^Bearer\s+/i.test(auth) ? auth.replace(/^Bearer\s+/i, '').trim() : undefined;
    const principal = token ? await deps.tokens.verify(token) : undefined;
    if (!principal) {
      res.setHeader('WWW-Authenticate', token ? 'Bearer realm="fhir-gateway", error="invalid_token"' : 'Bearer realm="fhir-gateway"');
      return refuse(res, 401, 'login', token ? 'the access token is not valid (expired, forged, or signed by a key this gateway does not know)' : 'an access token is needed: Authorization: Bearer <token>');
    }
    if (deps.ratePerSecond > 0) {
      const t = await deps.state.take(principal.clientId, deps.rateBurst, deps.ratePerSecond);
      if (!t.ok) {
        res.setHeader('Retry-After', String(t.retryAfter));
        return refuse(res, 429, 'throttled', `too many requests from client ${principal.clientId}; try again in ${t.retryAfter} s`);
      }
    }
    if (!what.unaudited && deps.audit.full()) {
      res.setHeader('Retry-After', '1');
      return refuse(res, 503, 'transient', 'the audit trail is behind; try again shortly');
    }
    // Registered before the checks: a refusal for want of scope or facility is audited too.
    const state: RequestSecurity = { principal, patients: new Set(patientsInUrl(what, q < 0 ? '' : url.slice(q + 1))) };
    if (!what.unaudited) {
      res.on('finish', () => {
        const location = res.getHeader('location');
        const created = typeof location === 'string' ? /\/(Patient\/[^/]+)\/_history\//.exec(location)?.[1] : undefined;
        if (created) state.patients.add(created);
        deps.audit.record({
          interaction: what.interaction,
          action: what.action,
          status: res.statusCode,
          principal,
          ...(req.socket.remoteAddress ? { remoteAddress: req.socket.remoteAddress } : {}),
          patients: state.patients,
          ...(what.interaction.startsWith('search') && q >= 0 ? { query: url.slice(q + 1) } : {}),
          ...(what.type ? { target: what.id ? `${what.type}/${what.id}` : what.type } : {}),
          recorded: new Date().toISOString(),
        });
      });
    }
    try {
      if (what.type && what.needs) requirePermission(principal, what.type, what.needs);
      else if (what.type === 'AuditEvent') requirePermission(principal, what.type, 's');
      if (req.method !== 'GET' && req.method !== 'HEAD') checkNamedFacility(principal, single(req.headers['x-facility-code']));
    } catch (e) {
      return refuse(res, 403, 'forbidden', (e as Error).message);
    }

    runAs(principal, next, state);
  };
}
