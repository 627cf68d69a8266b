import type { ElementDefinition, StructureDefinition } from 'fhir/r4';

/**
 * A constraint profile on a core resource type, written as its differential (the validator
 * builds the snapshot), at `http://example.org/StructureDefinition/<slug>`.
 */
export function testProfile(type: string, slug: string, elements: ElementDefinition[]): StructureDefinition {
  return {
    resourceType: 'StructureDefinition',
    url: `http://example.org/StructureDefinition/${slug}`,
    name: slug.replace(/(^|-)([a-z])/g, (_, _d: string, c: string) => c.toUpperCase()),
    status: 'draft',
    kind: 'resource',
    abstract: false,
    type,
    baseDefinition: `http://hl7.org/fhir/StructureDefinition/${type}`,
    derivation: 'constraint',
    differential: { element: [{ id: type, path: type }, ...elements] },
  };
}
