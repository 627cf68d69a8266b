import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CodeSystem, Measure, Questionnaire, StructureDefinition, ValueSet } from 'fhir/r4';
import { hasErrors, issue, type Issue } from '../fhir/outcome';
import { setInvariantHooks } from './invariants';
import { definitionsMark, registerStructureDefinition, rollbackDefinitions } from './model';
import { clearProfiles, globalsMark, registerGlobalProfile, rollbackGlobals } from './profile-model';
import { checkAgainstProfile } from './profiles';
import { measures } from './measure-report';
import { ipsConformanceResources } from './packages';
import { questionnaires } from './questionnaire';
import { clearSnapshots } from './snapshot';
import { codeSet, registerCodeSystem, registerValueSet, rollbackTerminology, terminologyMark } from './terminology';
import { DEFAULT_POLICY, Walk, walkResource, type ValidationPolicy } from './walk';

export { skippedInvariants } from './invariants';
export type { ValidationPolicy } from './walk';

// memberOf() and conformsTo() in invariants are answered here, where the whole validator is in
// reach; conformsTo() nests at most a few levels (a profile may test itself).
let conformsDepth = 0;
setInvariantHooks({
  memberOf: (value, url) => {
    const set = codeSet(url);
    if (!set) return undefined;
    if (typeof value === 'string') return set.codes.has(value);
    const v = value as { system?: unknown; code?: unknown; coding?: unknown };
    const codings = Array.isArray(v?.coding) ? (v.coding as { system?: unknown; code?: unknown }[]) : [v];
    return codings.some((c) => c && typeof c.code === 'string' && (typeof c.system === 'string' ? set.pairs.has(`${c.system}|${c.code}`) : set.codes.has(c.code)));
  },
  conformsTo: (value, url) => {
    if (conformsDepth > 4 || typeof value !== 'object' || value === null) return undefined;
    conformsDepth++;
    try {
      const rt = (value as { resourceType?: unknown }).resourceType;
      if (typeof rt === 'string') {
        const base = url === `http://hl7.org/fhir/StructureDefinition/${rt}`;
        return !hasErrors(validateResource(value, base ? undefined : { profiles: [url] }));
      }
      const w = new Walk();
      return checkAgainstProfile(w, value as Record<string, unknown>, url) ? !hasErrors(w.issues) : undefined;
    } finally {
      conformsDepth--;
    }
  },
});

export interface ValidateOptions extends Partial<ValidationPolicy> {
  /** Canonical URLs of profiles to check besides the ones in `meta.profile`. */
  profiles?: string[];
}

/**
 * Validates one resource (any JSON value is accepted: bad input yields issues, never a throw).
 * Synchronous; definitions are compiled on first use per type and kept.
 * Issues follow the HL7 Java validator: severity, code, message, FHIRPath location.
 */
/** The policy for resources the gateway maps from source messages itself (see ValidationPolicy). */
export const MAPPED_POLICY: ValidateOptions = { narrativeExpected: false };

export function validateResource(resource: unknown, options?: ValidateOptions): Issue[] {
  ensureLocalProfiles();
  const w = new Walk();
  if (options) {
    const { profiles: _p, ...policy } = options;
    w.policy = { ...DEFAULT_POLICY, ...Object.fromEntries(Object.entries(policy).filter(([, v]) => v !== undefined)) };
  }
  try {
    walkResource(w, resource, false, options?.profiles);
  } catch (e) {
    const msg = e instanceof RangeError ? 'Resource too deeply nested or too large to validate' : `Validation failed: ${(e as Error).message}`;
    w.issues.push(issue('error', 'too-costly', msg));
  }
  return w.issues;
}

/**
 * Loads and compiles ahead of time what the first validations would (the definition bundles,
 * the given resource types, the terminology), so a server can pay it at boot, not on its first
 * write. Returns the milliseconds spent.
 */
export function warmUpValidator(resourceTypes: string[] = ['Patient', 'Encounter', 'Observation', 'Condition', 'Bundle']): number {
  const t = process.hrtime.bigint();
  ensureLocalProfiles();
  for (const rt of resourceTypes) validateResource({ resourceType: rt, id: 'warm-up', status: 'unknown', gender: 'unknown' });
  return Number(process.hrtime.bigint() - t) / 1e6;
}

/**
 * Makes a StructureDefinition, ValueSet, CodeSystem or Questionnaire known to the validator, or
 * an ImplementationGuide's global profiles; a Bundle registers each entry.
 */
export function registerConformanceResource(res: unknown): void {
  const r = res as { resourceType?: string; entry?: { resource?: unknown }[]; url?: string };
  if (!r || typeof r !== 'object' || !r.resourceType) return;
  if (r.resourceType === 'Bundle') for (const e of r.entry ?? []) registerConformanceResource(e.resource);
  else if (r.resourceType === 'StructureDefinition' && r.url) registerStructureDefinition(r as StructureDefinition);
  else if (r.resourceType === 'ValueSet' && r.url) registerValueSet(r as ValueSet);
  else if (r.resourceType === 'CodeSystem' && r.url) registerCodeSystem(r as CodeSystem);
  else if (r.resourceType === 'Questionnaire' && r.url) questionnaires.register(r as Questionnaire);
  else if (r.resourceType === 'Measure' && r.url) measures.register(r as Measure);
  else if (r.resourceType === 'ImplementationGuide') {
    for (const g of (r as { global?: { type?: string; profile?: string }[] }).global ?? []) if (g.type && g.profile) registerGlobalProfile(g.type, g.profile);
  }
}

/**
 * Runs `fn` with extra conformance resources known, then forgets them again (a test case's
 * supporting profiles must not leak into the next one).
 */
export function withConformanceResources<T>(resources: unknown[], fn: () => T): T {
  ensureLocalProfiles();
  const d = definitionsMark();
  const t = terminologyMark();
  const q = questionnaires.mark();
  const m = measures.mark();
  const g = globalsMark();
  try {
    for (const r of resources) registerConformanceResource(r);
    clearProfiles();
    clearSnapshots();
    return fn();
  } finally {
    clearProfiles();
    clearSnapshots();
    rollbackDefinitions(d);
    rollbackTerminology(t);
    questionnaires.rollback(q);
    measures.rollback(m);
    rollbackGlobals(g);
  }
}

let localLoaded = false;
/** The IPS package's conformance resources and those committed in the project's `profiles/` folder, loaded once. */
function ensureLocalProfiles(): void {
  if (localLoaded) return;
  localLoaded = true;
  const dir = [join(__dirname, '..', '..', 'profiles'), join(__dirname, '..', '..', '..', 'profiles')].find((d) => existsSync(d));
  for (const r of ipsConformanceResources()) registerConformanceResource(r);
  if (!dir) return;
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.json')).sort()) {
    try {
      registerConformanceResource(JSON.parse(readFileSync(join(dir, f), 'utf8')));
    } catch {
      // a broken file in profiles/ must not stop validation of everything else
    }
  }
}
