import type { ElementDefinition } from 'fhir/r4';
import { listOf } from '../fhir/json';
import { structureDefinitionByUrl } from './model';
import { describe } from './patterns';
import { snapshotOf } from './snapshot';
import type { Walk } from './walk';

/**
 * A profile's differential against its base, as far as building a snapshot from it would fail:
 * a renamed choice element must name one of the choice's types (`valueQuantity`, not
 * `valueBla`), a type's profile must be a profile of that type, and a fixed value cannot
 * change one the base already fixes.
 */
type Json = Record<string, unknown>;

const CHOICE_RENAMED = /^(.*)\.([a-z][A-Za-z]*?)([A-Z][A-Za-z]*)$/;

export function validateStructureDefinition(w: Walk, sd: Json): void {
  const diff = listOf((sd.differential as Json | undefined)?.element) as unknown as ElementDefinition[];
  if (!diff.length) return;
  const base = typeof sd.baseDefinition === 'string' ? structureDefinitionByUrl(sd.baseDefinition) : undefined;
  const baseSnap = base ? snapshotOf(base) : undefined;
  const basePaths = new Set((baseSnap ?? []).map((e) => e.path));
  diff.forEach((d, i) => {
    if (baseSnap && typeof d.path === 'string' && !basePaths.has(d.path)) checkChoicePath(w, d, basePaths, baseSnap);
    if (baseSnap) checkFixedKept(w, d, i, baseSnap, String(sd.baseDefinition));
    listOf(d.type).forEach((t, j) =>
      (Array.isArray(t.profile) ? (t.profile as unknown[]) : []).forEach((url, k) => {
        const profile = typeof url === 'string' ? structureDefinitionByUrl(url) : undefined;
        const anyResource = (t.code === 'Resource' || t.code === 'DomainResource') && profile?.kind === 'resource';
        if (profile && typeof t.code === 'string' && profile.type !== t.code && !anyResource) {
          w.reportAt(['.differential', '.element', i, '.type', j, '.profile', k], 'error', 'structure', `Profile ${url} is for type ${profile.type}, but the ${d.path} element has type ${t.code}`);
        }
      }),
    );
  });
}

function checkFixedKept(w: Walk, d: ElementDefinition, i: number, baseSnap: ElementDefinition[], baseUrl: string): void {
  const own = d as unknown as Json;
  const key = Object.keys(own).find((k) => k.startsWith('fixed'));
  if (!key) return;
  const inBase = baseSnap.find((e) => (e.id ?? e.path) === (d.id ?? d.path)) as unknown as Json | undefined;
  const fixed = inBase?.[key];
  if (fixed === undefined || JSON.stringify(fixed) === JSON.stringify(own[key])) return;
  w.reportAt(['.differential', '.element', i], 'error', 'value', `Value is '${describe(own[key])}' but is fixed to '${describe(fixed)}' in the profile , because the value must match the fixed value define in '${baseUrl}'`);
}

function checkChoicePath(w: Walk, d: ElementDefinition, basePaths: Set<string>, baseSnap: ElementDefinition[]): void {
  const m = CHOICE_RENAMED.exec(d.path);
  if (!m || d.type?.length) return;
  const choicePath = `${m[1]}.${m[2]}[x]`;
  if (!basePaths.has(choicePath)) return;
  const choice = baseSnap.find((e) => e.path === choicePath);
  const suffix = m[3]!.toLowerCase();
  if (choice?.type?.some((t) => (t.code ?? '').toLowerCase() === suffix)) return;
  w.report('error', 'structure', `Error generating Snapshot: The path must be '${choicePath}' not '${d.path}' when the type list is not constrained`);
}

