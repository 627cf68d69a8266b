import type { StructureDefinition } from 'fhir/r4';
import { definitionResources } from './definitions';
import type { Coding } from 'fhir/r4';

/**
 * `_summary` and `_elements`: which top-level elements a summary keeps comes from the
 * StructureDefinitions (`isSummary`), not from a list written here.
 */
let summaryElements: Map<string, Set<string>> | undefined;
let mandatoryElements: Map<string, Set<string>> | undefined;

function load(): void {
  summaryElements = new Map();
  mandatoryElements = new Map();
  for (const sd of definitionResources<StructureDefinition>('resources', 'StructureDefinition')) {
    if (sd.kind !== 'resource') continue;
    const summary = new Set<string>(['resourceType', 'id', 'meta']);
    const mandatory = new Set<string>(['resourceType', 'id', 'meta']);
    for (const el of sd.snapshot?.element ?? []) {
      const parts = el.path.split('.');
      if (parts.length !== 2) continue;
      const name = parts[1]!.replace('[x]', '');
      if (el.isSummary) summary.add(name);
      if ((el.min ?? 0) > 0) mandatory.add(name);
    }
    summaryElements.set(sd.type, summary);
    mandatoryElements.set(sd.type, mandatory);
  }
}

const SUBSETTED: Coding = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED', display: 'Resource encoded in summary mode' };

function keep(resource: Record<string, unknown>, names: (key: string) => boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(resource)) {
    const base = k.startsWith('_') ? k.slice(1) : k;
    // choice elements are stored as valueQuantity etc.; match on their declared prefix too
    if (names(base) || names(base.replace(/[A-Z].*$/, ''))) out[k] = v;
  }
  const meta = (out.meta ?? {}) as { tag?: Coding[] };
  out.meta = { ...meta, tag: [...(meta.tag ?? []).filter((t) => t.code !== 'SUBSETTED'), SUBSETTED] };
  return out;
}

export function applySummary(resource: Record<string, unknown>, mode: string | undefined, elements: string[] | undefined): Record<string, unknown> {
  if ((!mode || mode === 'false') && !elements) return resource;
  if (!summaryElements) load();
  const type = resource.resourceType as string;
  if (elements) {
    const wanted = new Set([...elements, ...(mandatoryElements!.get(type) ?? [])]);
    return keep(resource, (k) => wanted.has(k));
  }
  switch (mode) {
    case 'true': {
      const s = summaryElements!.get(type);
      return s ? keep(resource, (k) => s.has(k)) : resource;
    }
    case 'text': {
      const m = mandatoryElements!.get(type) ?? new Set<string>();
      return keep(resource, (k) => k === 'text' || m.has(k));
    }
    case 'data':
      return keep(resource, (k) => k !== 'text');
    default:
      return resource;
  }
}
