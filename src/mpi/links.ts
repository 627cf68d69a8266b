import type { Person } from 'fhir/r4';
import { badRequest } from '../fhir/outcome';
import type { ResourceService } from '../service/resources';
import type { AnyResource } from '../store/types';
import { SYSTEMS } from './features';

/** Assurance levels that mean "the same individual"; level2 is only a candidate for review. */
const LINKED = new Set(['level3', 'level4']);

/**
 * The Patient records of the same individual as `Patient/{id}`: the id itself plus every Patient
 * a Person links to it at assurance level3 or level4, sorted, so the set is the same from any of them.
 */
export async function linkedPatientIds(resources: ResourceService, id: string): Promise<string[]> {
  const ids = new Set([id]);
  const people = await resources.search('Person', [['patient', `Patient/${id}`], ['_count', '50']]);
  for (const person of people.matches as unknown as Person[]) {
    const mine = person.link?.find((l) => l.target.reference === `Patient/${id}`);
    if (!mine || !LINKED.has(mine.assurance ?? 'level4')) continue;
    for (const l of person.link ?? []) {
      const m = /^Patient\/([A-Za-z0-9\-.]{1,64})$/.exec(l.target.reference ?? '');
      if (m && LINKED.has(l.assurance ?? 'level4')) ids.add(m[1]!);
    }
  }
  return [...ids].sort();
}

/**
 * The Patient records carrying `system|value` (CCCD, BHYT card, BHXH number, a facility's MA_BN).
 * A BHYT card changes with the beneficiary group; its last 10 characters (the BHXH number) do
 * not, so a card nobody has is looked up by its BHXH number. `param` names the parameter in errors.
 */
export async function patientsByIdentifier(resources: ResourceService, identifier: string, param: string): Promise<AnyResource[]> {
  const bar = identifier.indexOf('|');
  if (bar <= 0 || bar === identifier.length - 1) throw badRequest(`${param} '${identifier}' must be system|value`, param);
  const [system, value] = [identifier.slice(0, bar), identifier.slice(bar + 1)];
  let matches = (await resources.search('Patient', [['identifier', identifier], ['_count', '20']])).matches;
  if (matches.length === 0 && system === SYSTEMS.bhyt && value.length >= 10) {
    matches = (await resources.search('Patient', [['identifier', `${SYSTEMS.bhxh}|${value.slice(-10)}`], ['_count', '20']])).matches;
  }
  return [...matches].sort((a, b) => String(a.id).localeCompare(String(b.id)));
}
