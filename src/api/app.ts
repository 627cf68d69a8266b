import express, { type NextFunction, type Request, type Response } from 'express';
import { FhirError, toOperationOutcome, issue } from '../fhir/outcome';
import type { Logger } from '../logger';
import { cancelledWith } from '../store/db';
import { fhirRouter, type FhirRouterDeps } from './fhir-router';
import { sendResource } from './format';
import type { Metrics } from './metrics';

export interface AppDeps extends FhirRouterDeps {
  log: Logger;
  metrics: Metrics;
  bodyLimit: number;
  ready(): Promise<void>;
  /** Extra routers mounted at the root (ingest endpoints). */
  extraRouters?: express.Router[];
  /** The security layer (src/auth): edge headers first, then its endpoints and guard before any data route. */
  security?: { edge: express.RequestHandler[]; routers: express.RequestHandler[] };
}

/** Seconds a client is asked to wait after a 503, about as long as a database restart or failover takes. */
const RETRY_AFTER_SECONDS = 5;

/** The route pattern, not the URL: URLs carry ids and search values, which are patient data. */
function routeLabel(req: Request): string {
  const segs = req.originalUrl.split('?')[0]!.split('/').filter(Boolean);
  if (segs[0] !== 'fhir') return segs.slice(0, 2).join('/') || '/';
  const [, type, id, third] = segs;
  if (!type) return 'fhir';
  if (type.startsWith('$') || type === 'metadata' || type === '_history') return `fhir/${type}`;
  if (!id) return 'fhir/:type';
  if (id.startsWith('$') || id === '_history' || id === '_search') return `fhir/:type/${id}`;
  return third ? `fhir/:type/:id/${third.startsWith('$') ? third : '_history'}` : 'fhir/:type/:id';
}

export function createApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');

  app.use((req, res, next) => {
    const start = process.hrtime.bigint();
    res.on('finish', () => {
      const route = routeLabel(req);
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      deps.metrics.requests.inc({ method: req.method, route, status: String(res.statusCode) });
      deps.metrics.duration.observe({ method: req.method, route }, seconds);
      if (res.statusCode >= 500) deps.log.error({ method: req.method, route, status: res.statusCode, ms: Math.round(seconds * 1000) }, 'request failed');
      else deps.log.debug({ method: req.method, route, status: res.statusCode, ms: Math.round(seconds * 1000) }, 'request');
    });
    next();
  });

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
  // A read whose client has left is cancelled in the database rather than left to run on.
  // (Writes are left to finish: their outcome is decided, answered or not.)
  app.use('/fhir', (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD' && !(req.method === 'POST' && req.path.endsWith('/_search'))) return next();
    const gone = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) gone.abort();
    });
    cancelledWith(gone.signal, next);
  });
  app.use('/fhir', fhirRouter(deps));

  app.use((req, res) => {
    res.status(404).type('application/fhir+json').send(JSON.stringify(toOperationOutcome([issue('error', 'not-found', `no route for ${req.method} ${req.path}`)])));
  });

  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    let status = 500;
    let outcome;
    if (err instanceof FhirError) {
      status = err.status;
      outcome = err.outcome();
    } else {
      const e = err as { type?: string; status?: number; limit?: number };
      if (e.type === 'entity.too.large') {
        status = 413;
        outcome = toOperationOutcome([issue('error', 'too-costly', `the body is larger than the limit of ${e.limit} bytes`)]);
      } else if (e.type === 'request.aborted' || e.type === 'encoding.unsupported' || (e.status && e.status >= 400 && e.status < 500)) {
        status = e.status ?? 400;
        outcome = toOperationOutcome([issue('error', 'invalid', 'the request body could not be read')]);
      } else {
        deps.log.error({ err: { name: (err as Error)?.name, message: (err as Error)?.message, stack: (err as Error)?.stack } }, 'unhandled error');
        outcome = toOperationOutcome([issue('fatal', 'exception', 'internal error')]);
      }
    }
    if (res.headersSent) return;
    // A 503 is the store being unreachable or overloaded for now: tell clients when to come back.
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
