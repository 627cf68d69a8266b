import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { gunzipSync } from 'node:zlib';
import type { EdgeHandler } from '../auth';
import type { Guard } from '../auth/guard';
import type { Logger } from '../logger';
import { findOperation } from '../operations';
import { parseOperationInput, type FhirOperation, type OperationServices } from '../operations/operation';
import { checkType, hasIdShape, parseQueryString } from '../service/resources';
import type { RawParams } from '../store/search/query';
import { RETRY_AFTER_SECONDS, cancelReadsOnClose, errorAnswer } from './app';
import { versionHeaders } from './fhir-router';
import { formatFor, visible } from './format';
import { instrument, type Metrics } from './metrics';

/**
 * A path in front of Express for the two requests a connected facility makes most and waits on:
 * a plain read of a resource (`GET /fhir/{type}/{id}`, mostly answered from the cache) and the
 * operations that declare `fastPath` (`Coverage/$lookup`, asked at every reception desk).
 * Express's routing and response helpers cost such a request more than its own work (bench:read:
 * bare Express answers about a fifth of what bare node:http does). This path runs the very same steps, in
 * the same order, on node's request and response: metrics, edge headers, the security guard
 * (token, rate, scope, audit), read cancellation, the read or the operation (its own parameter
 * check and handler), the view rules. Anything it does not handle exactly as Express would
 * (another method, a body, a `_format` or other `_` parameter, an Accept other than JSON, a
 * conditional read, a malformed id or query) goes to Express untouched.
 */

type Step = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => unknown;

export interface FastPathDeps {
  metrics: Metrics;
  log: Logger;
  /** The security layer's edge headers (helmet, CORS), as mounted in the app. */
  edge: EdgeHandler[];
  /** The security guard, when AUTH=smart. */
  guard?: Guard;
  services: OperationServices;
}

type FastRequest = { kind: 'operation'; op: FhirOperation; type: string; params: RawParams } | { kind: 'read'; type: string; id: string };

const TYPE_AND_NEXT = /^\/fhir\/([A-Z][A-Za-z]*)\/([^/]+)$/;
const OPERATION = /^\$[A-Za-z][A-Za-z-]*$/;
/** Served by routers of their own in front of the FHIR router (AuditEvent: src/auth/audit-search.ts). */
const OWN_ROUTERS = new Set(['AuditEvent']);

/** What a request asks of the fast path (a read, or a fast-path operation), or undefined when Express should answer it. */
export function fastRequest(req: IncomingMessage): FastRequest | undefined {
  if (req.method !== 'GET') return undefined;
  const h = req.headers;
  if (h['transfer-encoding'] !== undefined || (h['content-length'] !== undefined && h['content-length'] !== '0')) return undefined;
  const url = req.url ?? '';
  const q = url.indexOf('?');
  const m = TYPE_AND_NEXT.exec(q < 0 ? url : url.slice(0, q));
  if (!m) return undefined;
  const [, type, next] = m as unknown as [string, string, string];
  let params: RawParams;
  try {
    params = parseQueryString(q < 0 ? '' : url.slice(q + 1));
  } catch {
    return undefined; // Express says what is wrong with the query
  }
  if (params.some(([name]) => name.startsWith('_'))) return undefined;
  if (formatFor(undefined, h.accept) !== 'json') return undefined;
  if (OPERATION.test(next)) {
    const op = findOperation(next.slice(1), 'type', type);
    return op?.fastPath ? { kind: 'operation', op, type, params } : undefined;
  }
  // Conditional reads (a 304 may be due) and the types other routers serve stay with Express.
  if (!hasIdShape(next) || OWN_ROUTERS.has(type) || h['if-none-match'] !== undefined || h['if-modified-since'] !== undefined) return undefined;
  return { kind: 'read', type, id: next };
}

function send(res: ServerResponse, status: number, json: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/fhir+json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(json));
  res.end(json);
}

/** A request listener: the fast path for what it handles, the Express app for the rest. */
export function withFastPath(app: RequestListener, deps: FastPathDeps): RequestListener {
  const steps: Step[] = [instrument(deps.metrics, deps.log), ...deps.edge, ...(deps.guard ? [deps.guard] : []), cancelReadsOnClose];

  const fail = (res: ServerResponse, err: unknown) => {
    const { status, outcome } = errorAnswer(err, deps.log);
    if (res.headersSent) return;
    if (status === 503) res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
    send(res, status, JSON.stringify(outcome));
  };

  const answer = async (req: IncomingMessage, res: ServerResponse, f: FastRequest) => {
    if (f.kind === 'read') {
      const v = await deps.services.resources.read(f.type, f.id);
      versionHeaders(res, v);
      const seen = visible(undefined, { json: v.json });
      return send(res, 200, seen.json ?? JSON.stringify(seen.resource));
    }
    checkType(f.type); // a read checks its own
    const input = parseOperationInput(f.op.definition, f.params, undefined);
    const lang = req.headers['accept-language'];
    const out = await f.op.handle({ ...input, resourceType: f.type, ...(lang ? { acceptLanguage: lang } : {}) }, deps.services);
    for (const [k, v] of Object.entries(out.headers ?? {})) res.setHeader(k, v);
    const seen = 'resource' in out ? visible(out.resource) : visible(undefined, out);
    send(res, out.status ?? 200, seen.json ?? (seen.gzip ? gunzipSync(seen.gzip).toString('utf8') : JSON.stringify(seen.resource)));
  };

  return (req, res) => {
    const f = fastRequest(req);
    if (!f) return app(req, res);
    let i = 0;
    // A step that answers (a refused token) does not call next, and the chain ends there.
    const next = (err?: unknown): void => {
      if (err) return fail(res, err);
      const step = steps[i++];
      try {
        const r = step ? step(req, res, next) : answer(req, res, f);
        if (r instanceof Promise) r.catch((e: unknown) => fail(res, e));
      } catch (e) {
        fail(res, e);
      }
    };
    next();
  };
}
