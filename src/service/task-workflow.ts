import type { Reference } from 'fhir/r4';
import { FhirError, issue } from '../fhir/outcome';
import { current } from '../auth/context';
import { facilityOf } from '../auth/rules';
import { FACILITY_TAG_SYSTEM, FEED_TAG_SYSTEM } from './provenance';
import type { AnyResource } from '../store/types';
import type { PendingWrite } from '../store/writer';

/**
 * The referral / teleconsultation workflow ("chuyển tuyến", "hội chẩn từ xa") as data: which
 * Task.status may follow which, and which side may make the move. The sending facility is the
 * Task's `requester`, the receiving one its `owner`.
 */
export type Side = 'requester' | 'owner';

export const TASK_TRANSITIONS: Readonly<Record<string, Readonly<Record<string, Side>>>> = {
  requested: { received: 'owner', cancelled: 'requester' },
  received: { accepted: 'owner', rejected: 'owner', cancelled: 'requester' },
  accepted: { 'in-progress': 'owner', cancelled: 'requester' },
  'in-progress': { completed: 'owner', cancelled: 'requester' },
  rejected: {},
  completed: {},
  cancelled: {},
};

/** The status a referral Task starts in when a client creates it (feeds may record any, e.g. a letter's `completed`). */
export const TASK_INITIAL = 'requested';

export const REFERRAL_CATEGORY = { system: 'http://snomed.info/sct', code: '3457005', display: 'Patient referral' };
export const CONSULTATION_CATEGORY = { system: 'http://snomed.info/sct', code: '11429006', display: 'Consultation' };

type ReadFn = (type: string, id: string) => Promise<AnyResource | undefined>;

function fromRest(r: AnyResource | undefined): boolean {
  const feed = r?.meta?.tag?.find((t) => t.system === FEED_TAG_SYSTEM)?.code;
  return feed === undefined || feed === 'rest';
}

/** The MA_CSKCB a Task side names: a logical identifier, or the provider-code of the Organization it references. */
async function facilityOfRef(ref: Reference | undefined, read: ReadFn): Promise<string | undefined> {
  if (!ref) return undefined;
  if (ref.identifier?.system === FACILITY_TAG_SYSTEM && ref.identifier.value) return ref.identifier.value;
  const m = /^Organization\/([A-Za-z0-9\-.]{1,64})$/.exec(ref.reference ?? '');
  if (!m) return undefined;
  const org = await read('Organization', m[1]!);
  const ids = (org?.identifier ?? []) as { system?: string; value?: string }[];
  return ids.find((i) => i.system === FACILITY_TAG_SYSTEM)?.value;
}

function allowedText(from: string): string {
  const next = Object.entries(TASK_TRANSITIONS[from] ?? {});
  return next.length ? next.map(([to, side]) => `${to} (by the ${side})`).join(', ') : 'none: the task is finished';
}

/** Who is writing: the client's facility under AUTH=smart (admins: the facility they write for), else the facility the write is stamped with. */
function actingFacility(w: PendingWrite): string | undefined {
  const p = current()?.principal;
  if (p && !p.admin) return p.facility;
  return facilityOf(w.resource);
}

/**
 * Checks every Task a client writes against the transition table and the sides: 409 naming the
 * allowed moves for a status that may not follow, 403 naming the side for a move made by the
 * other facility. Returns the Tasks it vouched for, so the general rule "only the writing
 * facility updates its resources" lets the receiving side move a Task the sender created.
 * Feed writes (a referral letter recording what already happened) are not checked.
 */
export async function checkTaskWrites(writes: PendingWrite[], read: ReadFn): Promise<Set<string>> {
  const vouched = new Set<string>();
  for (const w of writes) {
    if (w.resourceType !== 'Task' || w.method === 'delete' || !fromRest(w.resource)) continue;
    const key = `Task/${w.id}`;
    const before = w.method === 'create' ? undefined : await read('Task', w.id);
    const after = w.resource!;
    const to = String(after.status ?? '');
    const from = before ? String(before.status ?? '') : undefined;
    const actor = actingFacility(w);
    // The sides are those of the stored Task: a move may not also re-point who owns it.
    const sides = before ?? after;
    const requester = await facilityOfRef(sides.requester as Reference | undefined, read);
    const owner = await facilityOfRef(sides.owner as Reference | undefined, read);
    if (before) {
      const changed = (k: 'requester' | 'owner') => JSON.stringify(before[k] ?? null) !== JSON.stringify(after[k] ?? null);
      for (const k of ['requester', 'owner'] as const) {
        if (changed(k)) throw new FhirError(409, [issue('error', 'business-rule', `Task.${k} cannot change once the task exists`, `Task.${k}`)]);
      }
    }
    // Two answers racing (accept and reject): the second finds the version moved and gets 412.
    if (before && w.ifMatch === undefined && before.meta?.versionId) w.ifMatch = Number(before.meta.versionId);
    const isSide = (side: Side) => (side === 'requester' ? requester : owner) === actor;
    if (from === undefined) {
      if (to !== TASK_INITIAL && requester !== undefined) {
        throw new FhirError(409, [issue('error', 'business-rule', `a new Task starts as '${TASK_INITIAL}', not '${to}'`, 'Task.status')]);
      }
      if (requester !== undefined && actor !== undefined && !isSide('requester')) {
        throw new FhirError(403, [issue('error', 'forbidden', `only the requester (facility ${requester}) creates this Task; this write is for facility ${actor}`, 'Task.requester')]);
      }
      continue;
    }
    if (from === to) {
      // Notes, outputs, businessStatus: either side, nobody else.
      if (actor !== undefined && (requester !== undefined || owner !== undefined) && !isSide('requester') && !isSide('owner')) {
        throw new FhirError(403, [issue('error', 'forbidden', `Task/${w.id} is between facilities ${requester ?? '?'} and ${owner ?? '?'}; this write is for facility ${actor}`)]);
      }
      vouched.add(key);
      continue;
    }
    const side = TASK_TRANSITIONS[from]?.[to];
    if (!side) {
      throw new FhirError(409, [issue('error', 'business-rule', `Task status cannot go from '${from}' to '${to}'; allowed from '${from}': ${allowedText(from)}`, 'Task.status')]);
    }
    const sideFacility = side === 'requester' ? requester : owner;
    if (sideFacility !== undefined && actor !== undefined && sideFacility !== actor) {
      throw new FhirError(403, [issue('error', 'forbidden', `only the ${side} (facility ${sideFacility}) moves this Task to '${to}'; this write is for facility ${actor}`, 'Task.status')]);
    }
    vouched.add(key);
  }
  return vouched;
}
