import { createHash } from 'node:crypto';

/**
 * Resource ids derived from (facility, source identifier): sending the same record again
 * yields the same id, so the store updates instead of duplicating. The id is a name-based
 * UUID (RFC 4122 version 5 layout over SHA-1) so it is a valid FHIR id and looks like one.
 */
export function deterministicId(facility: string, resourceType: string, ...sourceKey: string[]): string {
  const h = createHash('sha1').update([facility, resourceType, ...sourceKey].join('\u001f')).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}
