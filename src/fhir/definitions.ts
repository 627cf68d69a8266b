import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Bundle, FhirResource, SearchParameter, StructureDefinition } from 'fhir/r4';

/**
 * The base R4 definitions come from the HL7 npm package `hl7.fhir.r4.examples@4.0.1`, which carries
 * the full definition set (hl7.fhir.r4.core is not published on npm). Loaded lazily, once.
 */
const packageDir = dirname(require.resolve('hl7.fhir.r4.examples/package.json'));

/** Canonical base of the core StructureDefinitions (and of HL7's own extensions). */
export const SD_BASE = 'http://hl7.org/fhir/StructureDefinition/';

const bundles = new Map<string, Bundle>();

/** One of the package's definition bundles, e.g. `resources`, `types`, `searchParams`, `valuesets`. */
export function definitionBundle(name: string): Bundle {
  let b = bundles.get(name);
  if (!b) {
    b = JSON.parse(readFileSync(join(packageDir, `Bundle-${name}.json`), 'utf8')) as Bundle;
    bundles.set(name, b);
  }
  return b;
}

export function definitionResources<T extends FhirResource>(name: string, resourceType: T['resourceType']): T[] {
  return (definitionBundle(name).entry ?? [])
    .map((e) => e.resource)
    .filter((r): r is T => r?.resourceType === resourceType);
}

let resourceTypes: Set<string> | undefined;

/** Names of every concrete R4 resource type. */
export function allResourceTypes(): Set<string> {
  if (!resourceTypes) {
    resourceTypes = new Set(
      definitionResources<StructureDefinition>('resources', 'StructureDefinition')
        .filter((sd) => sd.kind === 'resource' && !sd.abstract && sd.derivation === 'specialization')
        .map((sd) => sd.type),
    );
  }
  return resourceTypes;
}

export function isResourceType(t: string): boolean {
  return allResourceTypes().has(t);
}

export function searchParameterDefinitions(): SearchParameter[] {
  return definitionResources<SearchParameter>('searchParams', 'SearchParameter');
}

/** Path of an example instance shipped in the R4 package (tests and benchmarks use them). */
export function examplesDir(): string {
  return packageDir;
}
