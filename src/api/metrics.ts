import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../logger';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics; labels carry routes and statuses, never ids or parameters. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({ name: 'fhir_gateway_http_requests_total', help: 'HTTP requests', labelNames: ['method', 'route', 'status'], registers: [registry] });
  const duration = new Histogram({
    name: 'fhir_gateway_http_request_duration_seconds',
    help: 'HTTP request duration',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [registry],
  });
  return { registry, requests, duration };
}

export type Metrics = ReturnType<typeof createMetrics>;

/** The audit trail's backlog and its failed batch writes (each retried), read when scraped. */
export function auditMetrics(registry: Registry, trail: { pending: number; written: number; failures: number }): void {
  new Gauge({ name: 'fhir_gateway_audit_pending', help: 'audit records queued, not yet written', registers: [registry], collect() { this.set(trail.pending); } });
  new Gauge({ name: 'fhir_gateway_audit_written', help: 'audit records written since start', registers: [registry], collect() { this.set(trail.written); } });
  new Gauge({ name: 'fhir_gateway_audit_write_failures', help: 'audit batch writes that failed (and were retried) since start', registers: [registry], collect() { this.set(trail.failures); } });
}

/** The route pattern, not the URL: URLs carry ids and search values, which are patient data. */
export function routeLabel(url: string): string {
  const segs = url.split('?')[0]!.split('/').filter(Boolean);
  if (segs[0] !== 'fhir') return segs.slice(0, 2).join('/') || '/';
  const [, type, id, third] = segs;
  if (!type) return 'fhir';
  if (type.startsWith('$') || type === 'metadata' || type === '_history') return `fhir/${type}`;
  if (!id) return 'fhir/:type';
  if (id.startsWith('$') || id === '_history' || id === '_search') return `fhir/:type/${id}`;
  return third ? `fhir/:type/:id/${third.startsWith('$') ? third : '_history'}` : 'fhir/:type/:id';
}

/** Counts and times every request when it finishes (the first step of every path, fast or not). */
export function instrument(metrics: Metrics, log: Logger) {
  return function instrumented(req: IncomingMessage, res: ServerResponse, next: () => void): void {
    const start = process.hrtime.bigint();
    // Express rewrites req.url inside routers; the URL as received is read once, here.
    const url = req.url ?? '/';
    res.on('finish', () => {
      const route = routeLabel(url);
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      metrics.requests.inc({ method: req.method ?? '', route, status: String(res.statusCode) });
      metrics.duration.observe({ method: req.method ?? '', route }, seconds);
      if (res.statusCode >= 500) log.error({ method: req.method, route, status: res.statusCode, ms: Math.round(seconds * 1000) }, 'request failed');
      else log.debug({ method: req.method, route, status: res.statusCode, ms: Math.round(seconds * 1000) }, 'request');
    });
    next();
  };
}
