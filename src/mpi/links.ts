import type { Person } from 'fhir/r4';
import type { ResourceService } from '../service/resources';

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
