import type { Measure } from 'fhir/r4';
import { CanonicalRegistry } from './canonical-registry';
import { listOf } from '../fhir/json';
import type { Walk } from './walk';

/**
 * A MeasureReport against the Measure it reports on, when that Measure is known: the report's
 * groups and their populations must be the Measure's, matched by code (or by position when each
 * side has one group), and only a `subject-list` report lists subjects.
 */
export const measures = new CanonicalRegistry<Measure>();

type Json = Record<string, unknown>;
type Concept = { coding?: { system?: string; code?: string }[]; text?: string } | undefined;

function sameConcept(a: unknown, b: unknown): boolean {
  const ca = (a as Concept)?.coding ?? [];
  const cb = (b as Concept)?.coding ?? [];
  if (ca.some((x) => x.code !== undefined && cb.some((y) => x.system === y.system && x.code === y.code))) return true;
  return ca.length === 0 && cb.length === 0 && (a as Concept)?.text !== undefined && (a as Concept)?.text === (b as Concept)?.text;
}

/**
 * How many subjects `subjectResults` names: the entries of a contained List, or one when it
 * points straight at a subject; unknown for a List held elsewhere.
 */
function subjectCount(mr: Json, subjectResults: unknown): number | undefined {
  const ref = (subjectResults as { reference?: unknown } | undefined)?.reference;
  if (typeof ref !== 'string') return undefined;
  if (ref.startsWith('#')) {
    const list = listOf(mr.contained).find((c) => c.id === ref.slice(1));
    return list?.resourceType === 'List' ? listOf(list.entry).length : undefined;
  }
  return /(^|\/)List\/[^/]+$/.test(ref) ? undefined : 1;
}

const report = (w: Walk, path: (string | number)[], message: string) => w.reportAt(path, 'error', 'business-rule', message);

export function validateMeasureReport(w: Walk, mr: Json): void {
  const groups = listOf(mr.group);
  groups.forEach((g, gi) =>
    listOf(g.population).forEach((p, pi) => {
      if (mr.type !== 'subject-list' && p.subjectResults !== undefined) report(w, ['.group', gi, '.population', pi], "Reports where type is not 'subject-list' don't have subjects listed");
      const listed = subjectCount(mr, p.subjectResults);
      if (typeof p.count === 'number' && listed !== undefined && listed !== p.count) report(w, ['.group', gi, '.population', pi], `Mismatch between count ${p.count} and number of subjects ${listed}`);
    }),
  );
  const measure = typeof mr.measure === 'string' ? measures.get(mr.measure) : undefined;
  if (!measure) return;
  const defined = measure.group ?? [];
  const reported = new Set<number>();
  groups.forEach((g, gi) => {
    const mi = defined.length === 1 && groups.length === 1 ? 0 : g.code === undefined ? -1 : defined.findIndex((d) => sameConcept(d.code, g.code));
    if (mi < 0) {
      report(w, ['.group', gi], g.code === undefined ? 'Group should have a code that matches the group definition in the measure' : 'The code for this group has no match in the measure definition');
      return;
    }
    reported.add(mi);
    const populations = defined[mi]!.population ?? [];
    listOf(g.population).forEach((p, pi) => {
      if (!populations.some((d) => sameConcept(d.code, p.code))) report(w, ['.group', gi, '.population', pi], 'The code for this group population has no match in the measure definition');
    });
  });
  defined.forEach((d, mi) => {
    if (!reported.has(mi)) report(w, [], `The MeasureReport does not include a group for the group with code '${d.code?.coding?.[0]?.code ?? d.code?.text ?? ''}'`);
  });
}
