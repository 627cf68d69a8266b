import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CompartmentDefinition } from 'fhir/r4';
import { examplesDir } from './definitions';

/**
 * The R4 Patient compartment as HL7 defines it (`CompartmentDefinition-patient`): for each
 * resource type, the search parameters whose Patient reference puts a resource in a patient's
 * compartment. `$everything` and `$summary` select by these rather than by a private list.
 */
let pairs: [type: string, param: string][] | undefined;

export function patientCompartmentParams(): [type: string, param: string][] {
  if (!pairs) {
    const def = JSON.parse(readFileSync(join(examplesDir(), 'CompartmentDefinition-patient.json'), 'utf8')) as CompartmentDefinition;
    pairs = (def.resource ?? []).flatMap((r) => (r.param ?? []).map((p) => [r.code, p] as [string, string]));
  }
  return pairs;
}

export function patientCompartmentTypes(): Set<string> {
  return new Set(patientCompartmentParams().map(([t]) => t));
}
