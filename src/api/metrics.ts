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
