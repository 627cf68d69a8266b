import { randomUUID } from 'node:crypto';
import type { AuditEvent } from 'fhir/r4';
import type { Logger } from '../logger';
import type { PendingWrite } from '../store/writer';
import type { WriteResult } from '../store/types';
import { asGateway, type Principal } from './context';

/**
 * The audit trail: one AuditEvent per request that touches patient data, shaped after IHE
 * Basic Audit Log Patterns. Requests only enqueue; a writer stores the queue in batches about
 * every half second. The queue is bounded and the guard answers 503 while it is full, so a
 * request is refused rather than left unaudited. AuditEvents are written by the gateway
 * itself (no principal), so writing them is never audited in turn.
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

/** Pure: the facts of one request → its AuditEvent. */
export function auditEvent(f: AuditFacts): AuditEvent {
  const intake = f.interaction === 'import';
  return {
    resourceType: 'AuditEvent',
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
        who: { reference: `Device/${f.principal.clientId}`, identifier: { system: CLIENT_SYSTEM, value: f.principal.clientId } },
        requestor: true,
        ...(f.remoteAddress ? { network: { address: f.remoteAddress, type: '2' as const } } : {}),
      },
      {
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-RoleClass', code: 'PROV', display: 'healthcare provider' }] },
        who: { identifier: { system: 'http://fhir.ehealth.gov.vn/core/sid/provider-code', value: f.principal.facility } },
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
      ...[...new Set(f.patients)].map((reference) => ({
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

export type AuditWriter = (writes: PendingWrite[]) => Promise<WriteResult[]>;

export class AuditTrail {
  private queue: AuditEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly write: AuditWriter,
    private readonly max: number,
    private readonly log: Logger,
    private readonly intervalMs = 500,
    private readonly batch = 500,
  ) {}

  /** True while requests must be refused: the writer is this far behind. */
  full(): boolean {
    return this.queue.length >= this.max;
  }

  get pending(): number {
    return this.queue.length;
  }

  record(facts: AuditFacts): void {
    this.queue.push(auditEvent(facts));
    // The timer is the gateway's own work, not the request's that happened to start it.
    this.timer ??= asGateway(() => setTimeout(() => void this.flush(), this.intervalMs));
  }

  /** Writes what is queued; what fails to write stays queued (and eventually turns requests away). */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.flushing = asGateway(async () => {
      try {
        while (this.queue.length > 0) {
          const chunk = this.queue.slice(0, this.batch);
          await this.write(chunk.map((ae) => { const id = randomUUID(); return { method: 'create' as const, resourceType: 'AuditEvent', id, resource: { ...ae, id } as never }; }));
          this.queue.splice(0, chunk.length);
        }
      } catch (e) {
        this.log.error({ err: (e as Error).message, pending: this.queue.length }, 'audit events could not be written; retrying');
        this.timer ??= setTimeout(() => void this.flush(), this.intervalMs * 2);
      } finally {
        this.flushing = undefined;
      }
    });
    return this.flushing;
  }

  async close(): Promise<void> {
    await this.flush();
    clearTimeout(this.timer);
  }
}
