import { randomUUID } from 'node:crypto';
import type { AuditEvent } from 'fhir/r4';
import type { Logger } from '../logger';
import type { AuditRow } from '../store/audit-events';
import { asGateway, type Principal } from './context';

/**
 * The audit trail: one AuditEvent per request that touches patient data, shaped after IHE
 * Basic Audit Log Patterns. Requests only enqueue a row; a writer appends the queue to the
 * audit table in batches (every `intervalMs`, or at once when `batch` rows wait), and the
 * AuditEvent JSON is built when the trail is searched. The queue is bounded and the guard
 * answers 503 while it is full, so a request is refused rather than left unaudited. A batch
 * that fails stays queued and is tried again; failures are counted and logged, never dropped.
 * The gateway's own work (no principal) is not audited, so writing the trail never is.
 */
export interface AuditFacts {
  /** restful-interaction code: read, search-type, create, …; or `import` for intake. */
  interaction: string;
  action: 'C' | 'R' | 'U' | 'D' | 'E';
  status: number;
  principal: Principal;
  remoteAddress?: string;
  patients: Iterable<string>;
  /** The query string of a search, kept base64 as BALP asks. */
  query?: string;
  /** `Type/id` or `Type` the request was about. */
  target?: string;
  recorded: string;
}

const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
export const CLIENT_SYSTEM = 'urn:fhir-gateway:client';

function outcomeCode(status: number): AuditEvent['outcome'] {
  return status < 400 ? '0' : status < 500 ? '4' : '8';
}

/** Pure: one request's facts, as stored → its AuditEvent. */
export function auditEvent(f: AuditRow): AuditEvent {
  const intake = f.interaction === 'import';
  return {
    resourceType: 'AuditEvent',
    id: f.id,
    meta: { versionId: '1', lastUpdated: f.recorded },
    type: intake
      ? { system: DCM, code: '110107', display: 'Import' }
      : { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest', display: 'RESTful Operation' },
    subtype: [intake ? { system: DCM, code: '110107', display: 'Import' } : { system: 'http://hl7.org/fhir/restful-interaction', code: f.interaction }],
    action: f.action,
    recorded: f.recorded,
    outcome: outcomeCode(f.status),
    ...(f.status >= 400 ? { outcomeDesc: `HTTP ${f.status}` } : {}),
    agent: [
      {
        type: { coding: [{ system: DCM, code: '110153', display: 'Source Role ID' }] },
        who: { reference: `Device/${f.clientId}`, identifier: { system: CLIENT_SYSTEM, value: f.clientId } },
        requestor: true,
        ...(f.remoteAddress ? { network: { address: f.remoteAddress, type: '2' as const } } : {}),
      },
      {
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-RoleClass', code: 'PROV', display: 'healthcare provider' }] },
        who: { identifier: { system: 'http://fhir.ehealth.gov.vn/core/sid/provider-code', value: f.facility } },
        requestor: true,
      },
      {
        type: { coding: [{ system: DCM, code: '110152', display: 'Destination Role ID' }] },
        who: { display: 'fhir-gateway' },
        requestor: false,
      },
    ],
    source: { observer: { display: 'fhir-gateway' }, type: [{ system: 'http://terminology.hl7.org/CodeSystem/security-source-type', code: '4', display: 'Application Server' }] },
    entity: [
      ...f.patients.map((reference) => ({
        what: { reference },
        type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '1', display: 'Person' },
        role: { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '1', display: 'Patient' },
      })),
      ...(f.target && !f.target.startsWith('Patient/') ? [{ what: f.target.includes('/') ? { reference: f.target } : { display: f.target }, type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '2', display: 'System Object' } }] : []),
      ...(f.query !== undefined
        ? [{ type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '2', display: 'System Object' }, role: { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '24', display: 'Query' }, query: Buffer.from(f.query).toString('base64') }]
        : []),
    ],
  };
}

export type AuditWriter = (rows: AuditRow[]) => Promise<void>;

export function auditRow(f: AuditFacts): AuditRow {
  return {
    id: randomUUID(),
    recorded: f.recorded,
    interaction: f.interaction,
    action: f.action,
    status: f.status,
    clientId: f.principal.clientId,
    facility: f.principal.facility,
    ...(f.remoteAddress ? { remoteAddress: f.remoteAddress } : {}),
    patients: [...new Set(f.patients)],
    ...(f.target !== undefined ? { target: f.target } : {}),
    ...(f.query !== undefined ? { query: f.query } : {}),
  };
}

/** A statement may carry up to this many batches' rows when the queue has grown. */
const CATCH_UP_FACTOR = 10;

export class AuditTrail {
  private queue: AuditRow[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  /** Rows written, and batches that failed (each retried): for /metrics and the tests. */
  written = 0;
  failures = 0;

  constructor(
    private readonly write: AuditWriter,
    private readonly max: number,
    private readonly log: Logger,
    private readonly intervalMs = 500,
    private readonly batch = 2000,
  ) {}

  /** True while requests must be refused: the writer is this far behind. */
  full(): boolean {
    return this.queue.length >= this.max;
  }

  get pending(): number {
    return this.queue.length;
  }

  record(facts: AuditFacts): void {
    this.queue.push(auditRow(facts));
    if (this.queue.length >= this.batch && !this.flushing) {
      void this.flush();
      return;
    }
    // The timer is the gateway's own work, not the request's that happened to start it.
    this.timer ??= asGateway(() => setTimeout(() => void this.flush(), this.intervalMs));
  }

  /** Writes what is queued; what fails to write stays queued, is counted, and is tried again. */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.flushing = asGateway(async () => {
      try {
        // Full batches back to back; a remainder waits for the timer. Writing every few rows as
        // they came (while a statement was under way) cost a statement per 50 rows under load,
        // and the writer fell behind at 2,500 audited requests a second on the embedded store.
        for (let first = true; this.queue.length >= (first ? 1 : this.batch); first = false) {
          // Behind (a busy store takes longer per statement): bigger statements, so the writer
          // catches up instead of answering 503 while each small batch waits its turn.
          const chunk = this.queue.slice(0, this.batch * CATCH_UP_FACTOR);
          await this.write(chunk);
          this.queue.splice(0, chunk.length);
          this.written += chunk.length;
        }
      } catch (e) {
        this.failures++;
        this.log.error({ err: (e as Error).message, pending: this.queue.length, failures: this.failures }, 'audit events could not be written; retrying');
        this.timer ??= setTimeout(() => void this.flush(), this.intervalMs * 2);
      } finally {
        this.flushing = undefined;
        if (this.queue.length > 0) this.timer ??= setTimeout(() => void this.flush(), this.intervalMs);
      }
    });
    return this.flushing;
  }

  /** At shutdown: a few more tries, then whatever is still queued is reported by count (it is not silently gone). */
  async close(attempts = 3): Promise<void> {
    for (let i = 0; i < attempts && this.queue.length > 0; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, this.intervalMs));
      await this.flush();
    }
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.queue.length > 0) this.log.error({ lost: this.queue.length }, 'audit events could not be written before shutdown');
  }
}
