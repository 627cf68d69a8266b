import type { Bundle, Composition } from 'fhir/r4';
import { FhirError, issue, type Issue } from '../fhir/outcome';
import { FACILITY_TAG_SYSTEM, FEED_TAG_SYSTEM } from '../service/provenance';
import type { AnyResource } from '../store/types';
import { current, type Principal } from './context';
import { neededScope, permits, type Permission } from './scopes';

/**
 * The facility and scope rules, asked from the one place each thing happens (the write road,
 * the intake, the response writer), so no route carries its own copy. With no principal in
 * context (AUTH unset, or the gateway's own work) every rule lets the call through.
 */

export function facilityOf(r: { meta?: { tag?: { system?: string; code?: string }[] } } | undefined): string | undefined {
  return r?.meta?.tag?.find((t) => t.system === FACILITY_TAG_SYSTEM)?.code;
}

export function forbidden(message: string): FhirError {
  return new FhirError(403, message, 'forbidden');
}

/** 403 naming the scope that was needed. */
export function requirePermission(p: Principal, type: string, perm: Permission): void {
  if (type === 'AuditEvent' && !p.admin) throw forbidden('AuditEvents are readable by admin clients only');
  if (!permits(p.grant, type, perm)) throw forbidden(`this needs scope ${neededScope(type, perm)}`);
}

/** The facility a write made now is stamped with: the token's, else the configured default. */
export function writingFacility(fallback: string): string {
  return current()?.principal.facility ?? fallback;
}

/** Who may name a facility other than their own (X-Facility-Code): admins only. */
export function checkNamedFacility(p: Principal, named: string | undefined): void {
  if (named !== undefined && named !== p.facility && !p.admin) throw forbidden(`this client writes for facility ${p.facility}, not ${named}`);
}

/** Patient references a resource carries, for the audit trail's entity list. */
export function patientsOf(r: AnyResource | undefined): string[] {
  if (!r) return [];
  if (r.resourceType === 'Patient' && r.id) return [`Patient/${r.id}`];
  const out: string[] = [];
  for (const k of ['subject', 'patient', 'beneficiary']) {
    const ref = (r[k] as { reference?: string } | undefined)?.reference;
    if (typeof ref === 'string' && ref.startsWith('Patient/')) out.push(ref);
  }
  return out;
}

type Existing = (type: string, id: string) => Promise<AnyResource | undefined>;
interface Write {
  method: 'create' | 'update' | 'delete';
  resourceType: string;
  id: string;
  resource?: AnyResource;
}

function fromRest(r: AnyResource | undefined): boolean {
  const feed = r?.meta?.tag?.find((t) => t.system === FEED_TAG_SYSTEM)?.code;
  return feed === undefined || feed === 'rest';
}

/**
 * Every write, whatever road it came by (REST, transaction, intake): the token must carry the
 * letter for the type, and an update or delete may touch only the client's own facility's
 * resources (admins excepted, and writes in `vouched`).
 */
export async function checkWrites(writes: Write[], existing: Existing, vouched: ReadonlySet<string> = new Set()): Promise<void> {
  const state = current();
  if (!state) return;
  const p = state.principal;
  for (const w of writes) {
    if (w.method === 'create') {
      requirePermission(p, w.resourceType, 'c');
    } else {
      const before = await existing(w.resourceType, w.id);
      // An update that creates the resource is a create.
      requirePermission(p, w.resourceType, w.method === 'delete' ? 'd' : before ? 'u' : 'c');
      const owner = facilityOf(before);
      // Intake feeds are checked on their content instead (intakeFacilityIssue): their shared
      // resources (one Organization per MA_CSKCB) are written by every facility that names them.
      // `vouched`: writes a workflow rule already allowed across facilities (the receiving side of a referral Task).
      if (!p.admin && before && owner !== undefined && owner !== p.facility && fromRest(w.resource) && !vouched.has(`${w.resourceType}/${w.id}`)) {
        throw forbidden(`${w.resourceType}/${w.id} belongs to facility ${owner}; this client writes for ${p.facility}`);
      }
    }
    for (const ref of [...patientsOf(w.resource), ...(w.resourceType === 'Patient' ? [`Patient/${w.id}`] : [])]) state.patients.add(ref);
  }
}

/** An intake unit naming another facility than the sender's: the reason to reject the message. */
export function intakeFacilityIssue(unitFacility: string | undefined): Issue | undefined {
  const p = current()?.principal;
  if (!p || p.admin || !unitFacility || unitFacility === p.facility) return undefined;
  return issue('error', 'forbidden', `403: the content belongs to facility ${unitFacility}; this sender is facility ${p.facility}`);
}

/** Whether `p` may see `r` (scopes, AuditEvent, own-facility reads): the response writer's rule, also used for notifications. */
export function readable(p: Principal, r: AnyResource | undefined): boolean {
  if (!r?.resourceType || r.resourceType === 'OperationOutcome') return true;
  if (r.resourceType === 'AuditEvent' && !p.admin) return false;
  if (!permits(p.grant, r.resourceType, 'r') && !permits(p.grant, r.resourceType, 's')) return false;
  if (p.ownFacilityOnly && !p.admin) {
    const owner = facilityOf(r);
    if (owner !== undefined && owner !== p.facility) return false;
  }
  return true;
}

/**
 * What a response may show this client: a Bundle loses the entries of types it may not read
 * (`_include`, `_revinclude`, system searches, operations), a single resource of another
 * facility under AUTH_READ=own-facility is refused. Notes the patients shown, for the audit.
 */
export function viewFor(resource: unknown): unknown {
  const state = current();
  if (!state) return resource;
  const p = state.principal;
  const r = resource as AnyResource | undefined;
  if (r?.resourceType === 'Bundle') {
    const b = r as unknown as Bundle;
    if (!b.entry) return resource;
    // A document keeps its Composition (the gateway's own table of contents), pruned below.
    const document = b.type === 'document';
    const entry = b.entry.filter((e) => readable(p, e.resource as AnyResource | undefined) || (document && e.resource?.resourceType === 'Composition'));
    for (const e of entry) for (const ref of patientsOf(e.resource as AnyResource | undefined)) state.patients.add(ref);
    if (entry.length === b.entry.length) return resource;
    return { ...b, entry: document ? withheldSections(entry) : entry };
  }
  if (!readable(p, r)) throw forbidden(`${r!.resourceType}/${r!.id} is not readable by this client`);
  for (const ref of patientsOf(r)) state.patients.add(ref);
  return resource;
}

/** The facility tag a search is limited to: the client's own, under AUTH_READ=own-facility. */
export function visibleFacility(): { system: string; code: string } | undefined {
  const p = current()?.principal;
  return p && p.ownFacilityOnly && !p.admin ? { system: FACILITY_TAG_SYSTEM, code: p.facility } : undefined;
}

const WITHHELD_DIV = '<div xmlns="http://www.w3.org/1999/xhtml"><p>Withheld: outside the scopes of this client</p></div>';

/**
 * A document (an IPS `$summary`) that lost entries: its Composition's sections stop pointing
 * at them, and a section left with none is marked withheld, its narrative (which tells what
 * the entries said) replaced.
 */
function withheldSections(entry: NonNullable<Bundle['entry']>): Bundle['entry'] {
  const kept = new Set(entry.map((e) => `${e.resource?.resourceType}/${e.resource?.id}`));
  return entry.map((e) => {
    const c = e.resource as Composition | undefined;
    if (c?.resourceType !== 'Composition' || !c.section) return e;
    const section = c.section.map((sec) => {
      if (!sec.entry?.length) return sec;
      const refs = sec.entry.filter((r) => r.reference !== undefined && kept.has(r.reference));
      if (refs.length === sec.entry.length) return sec;
      const { entry: _gone, ...rest } = sec;
      return refs.length
        ? { ...sec, entry: refs }
        : { ...rest, text: { status: 'generated' as const, div: WITHHELD_DIV }, emptyReason: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/list-empty-reason', code: 'withheld', display: 'Information Withheld' }] } };
    });
    return { ...e, resource: { ...c, section } };
  });
}

/** The patients an answer sent without being parsed is about, for the request's AuditEvent. */
export function notePatients(patients: readonly string[] | undefined): void {
  const state = current();
  if (state && patients) for (const p of patients) state.patients.add(p);
}

/**
 * Whether a pre-serialised answer must be looked at before it is sent: under own-facility
 * reads, and for a Bundle (a cached `$summary`, …) when the client may not read every type.
 */
export function viewNeedsParse(json: () => string): boolean {
  const p = current()?.principal;
  if (!p) return false;
  if (p.ownFacilityOnly && !p.admin) return true;
  return !permits(p.grant, '*', 'r') && json().startsWith('{"resourceType":"Bundle"');
}

/**
 * The message log holds raw messages (patient data): a client sees its own facility's,
 * an admin any. Returns the facility a listing is limited to.
 */
export function messageLogFacility(requested: string | undefined): string | undefined {
  const p = current()?.principal;
  if (!p || p.admin) return requested;
  if (requested !== undefined && requested !== p.facility) throw forbidden(`this client reads the messages of facility ${p.facility} only`);
  return p.facility;
}

export function checkMessageFacility(facility: string): void {
  const p = current()?.principal;
  // 'unknown': a message whose facility could not be read; only admins look at those.
  if (p && !p.admin && facility !== p.facility) throw forbidden(`this message belongs to facility ${facility}`);
}
