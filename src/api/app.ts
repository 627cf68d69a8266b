import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { OperationOutcome } from 'fhir/r4';
import type { EdgeHandler } from '../auth';
import { FhirError, toOperationOutcome, issue } from '../fhir/outcome';
import type { Logger } from '../logger';
import { cancelledWith } from '../store/db';
import { fhirRouter, type FhirRouterDeps } from './fhir-router';
import { sendResource } from './format';
import { instrument, type Metrics } from './metrics';

export interface AppDeps extends FhirRouterDeps {
  log: Logger;
  metrics: Metrics;
  bodyLimit: number;
  ready(): Promise<void>;
  /** Extra routers mounted at the root (ingest endpoints). */
  extraRouters?: express.Router[];
  /** The security layer (src/auth): edge headers first, then its endpoints and guard before any data route. */
  security?: { edge: EdgeHandler[]; routers: express.RequestHandler[] };
}

/** Seconds a client is asked to wait after a 503, about as long as a database restart or failover takes. */
export const RETRY_AFTER_SECONDS = 5;

export function createApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');

  app.use(instrument(deps.metrics, deps.log));

  for (const h of deps.security?.edge ?? []) app.use(h);

  app.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  app.get('/readyz', async (_req, res) => {
    try {
      await deps.ready();
      res.json({ status: 'ready' });
    } catch {
      res.status(503).json({ status: 'unavailable', reason: 'database unreachable' });
    }
  });
  app.get('/metrics', async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });

  for (const h of deps.security?.routers ?? []) app.use(h);
  // Ingest routers read their own (larger) bodies, so they come before the API's body limit.
  for (const r of deps.extraRouters ?? []) app.use(r);
  // Bodies are read raw (bounded) and parsed by the route that knows what it expects.
  app.use(express.raw({ type: () => true, limit: deps.bodyLimit }));
  app.use('/fhir', cancelReadsOnClose);
  app.use('/fhir', fhirRouter(deps));

  app.use((req, res) => {
    res.status(404).type('application/fhir+json').send(JSON.stringify(toOperationOutcome([issue('error', 'not-found', `no route for ${req.method} ${req.path}`)])));
  });

  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const { status, outcome } = errorAnswer(err, deps.log);
    if (res.headersSent) return;
    if (status === 503) res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
    try {
      // An OperationOutcome in the format the client asked for, when that is known and available.
      return sendResource(req, res, status, outcome);
    } catch {
      res.status(status).type('application/fhir+json').send(JSON.stringify(outcome));
    }
  });
  return app;
}

/**
 * A read whose client has left is cancelled in the database rather than left to run on.
 * (Writes are left to finish: their outcome is decided, answered or not.)
 */
export function cancelReadsOnClose(req: IncomingMessage, res: ServerResponse, next: () => void): void {
  if (req.method !== 'GET' && req.method !== 'HEAD' && !(req.method === 'POST' && (req.url ?? '').split('?')[0]!.endsWith('/_search'))) return next();
  let gone: AbortController | undefined;
  let left = false;
  res.on('close', () => {
    left = !res.writableFinished;
    if (left) gone?.abort();
  });
  const signal = () => {
    if (!gone) {
      gone = new AbortController();
      if (left) gone.abort();
    }
    return gone.signal;
  };
  cancelledWith(signal, next);
}

/**
 * The status and OperationOutcome for an error a request ended in: a FhirError says its own,
 * body-reading failures are the client's (413, 400), anything else is logged and a 500.
 * A 503 is the store being unreachable or overloaded for now: the caller adds Retry-After.
 */
export function errorAnswer(err: unknown, log: Logger): { status: number; outcome: OperationOutcome } {
  if (err instanceof FhirError) return { status: err.status, outcome: err.outcome() };
  const e = err as { type?: string; status?: number; limit?: number };
  if (e.type === 'entity.too.large') return { status: 413, outcome: toOperationOutcome([issue('error', 'too-costly', `the body is larger than the limit of ${e.limit} bytes`)]) };
  if (e.type === 'request.aborted' || e.type === 'encoding.unsupported' || (e.status && e.status >= 400 && e.status < 500)) {
    return { status: e.status ?? 400, outcome: toOperationOutcome([issue('error', 'invalid', 'the request body could not be read')]) };
  }
  log.error({ err: { name: (err as Error)?.name, message: (err as Error)?.message, stack: (err as Error)?.stack } }, 'unhandled error');
  return { status: 500, outcome: toOperationOutcome([issue('fatal', 'exception', 'internal error')]) };
}
