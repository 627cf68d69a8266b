import { createHash } from 'node:crypto';
import { v5 as uuidV5 } from 'uuid';

/**
 * This project's namespace for name-based ids (RFC 4122 §4.3). Drawn at random once; changing it
 * changes every id the gateway derives, so it never changes.
 */
export const ID_NAMESPACE = '0a088d77-8554-41fa-acb5-0bd1e922a2b2';

/**
 * `v5`: true RFC 4122 version-5 UUIDs in ID_NAMESPACE. `legacy`: the first releases' ids (the
 * same SHA-1 layout over the bare name, no namespace), kept for databases that already hold
 * resources under them, so a re-sent record still updates its resource instead of duplicating it.
 */
export type IdScheme = 'legacy' | 'v5';

let scheme: IdScheme = 'v5';

/** Set once at start from the database (`settings.id_scheme`); tools without a database use v5. */
export function useIdScheme(s: IdScheme): void {
  scheme = s;
}

function legacyId(name: string): string {
  const h = createHash('sha1').update(name).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

/**
 * Resource ids derived from (facility, source identifier): sending the same record again
 * yields the same id, so the store updates instead of duplicating. A UUID, so it is a valid
 * FHIR id and looks like one.
 */
export function deterministicId(facility: string, resourceType: string, ...sourceKey: string[]): string {
  const name = [facility, resourceType, ...sourceKey].join('\u001f');
  return scheme === 'v5' ? uuidV5(name, ID_NAMESPACE) : legacyId(name);
}

/**
 * Ids of one referral whichever feed tells of it first: the claim's referral letter (XML13) and
 * an HL7 REF message name the same referral by the sending facility's MA_CSKCB and the
 * referral number (SO_CHUYENTUYEN, RF1-6), so both land on one ServiceRequest and one Task.
 */
export function referralId(resourceType: 'ServiceRequest' | 'Task', fromFacility: string, referralNumber: string): string {
  return deterministicId(fromFacility, resourceType, 'referral', referralNumber);
}
