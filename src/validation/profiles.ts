import type { ElementDefinition } from 'fhir/r4';
import { compileConstraints, holds, resourceConformsTo, type Invariant } from './invariants';
import { isKnownType, structureDefinitionByUrl, type ElementRule } from './model';
import { coreElement, globalProfilesFor, itemsOf, lastSegment, loadProfile, maxOf, typeOfKey, type Item, type PNode, type Profile } from './profile-model';
import { matchesFixed, matchesPattern, describe } from './patterns';
import { hasNarrativeControl, narrativeControlIssues } from './narrative';
import { conformsTo, sliceMatches, slicingSupported } from './slicing';
import { referencedType } from './references';
import { checkCodedValue } from './values';
import type { Walk } from './walk';

/**
 * Validation against profiles (meta.profile, or asked for): the profile's snapshot (or one
 * built from its differential) walked beside the instance. The base walk has already checked
 * the base type, so only what a profile adds is reported: tighter cardinality, fixed and
 * pattern values, narrower types and bindings, its own invariants, slices (by value, pattern,
 * type, profile or existence, open or closed) and the profiles of types and extensions.
 * Must-support is documentation for implementers; it is not enforced.
 */
// ---- the walk ----

export interface ProfileRun {
  w: Walk;
  profile: Profile;
  depth: number;
  /** Inside a resource within the resource (contained, Bundle entry), its element paths start at its type: `Patient.contained.name` is `Practitioner.name`. */
  rebase?: { from: string; to: string };
}

function report(run: ProfileRun, msg: string, severity: 'error' | 'warning' = 'error', code: 'structure' | 'value' | 'invariant' | 'code-invalid' = 'structure'): void {
  run.w.report(severity, code, msg);
}

const unknownProfiles = new WeakMap<Walk, Set<string>>();
/** Once per element and URL, though a derived profile and its base both name it. */
function reportUnknownProfile(run: ProfileRun, url: string, message = `Unknown profile ${url}`): void {
  let seen = unknownProfiles.get(run.w);
  if (!seen) unknownProfiles.set(run.w, (seen = new Set()));
  const key = `${run.w.location()} ${message}`;
  if (seen.has(key)) return;
  seen.add(key);
  report(run, message);
}

/** One instance element (resource root, object or primitive) against one profile element. */
export function checkNode(run: ProfileRun, node: PNode, value: unknown, typeCode: string | undefined): void {
  if (++run.depth > 64) return;
  const def = node.def;
  checkValue(run, def, value, typeCode);
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const obj = value as Record<string, unknown>;
    // Below a resource inside this one, %resource is that resource (on the element itself it is
    // still the outer one); a contained resource keeps the container as %rootResource, a Bundle
    // entry or Parameters resource is its own root.
    const saved = run.w.vars;
    const savedBase = run.rebase;
    if (typeof obj.resourceType === 'string' && obj !== saved.resource) {
      run.w.vars = { resource: obj, rootResource: def.path.endsWith('.contained') ? saved.rootResource : obj };
      run.rebase = { from: `${def.path}.`, to: `${obj.resourceType}.` };
    }
    for (const [name, group] of node.children) {
      if (!group.base) continue;
      checkChildren(run, obj, name, group.base, group.slices);
    }
    // a profile on the element's type (an extension definition, SimpleQuantity…) applies as
    // well; when several are listed, conforming to any one of them is enough
    for (const t of def.type ?? []) {
      if (def.type!.length > 1 && typeCode && t.code !== typeCode) continue;
      const loaded = (t.profile ?? []).map((url) => [url, loadProfile(url)] as const);
      // A profile that names a type profile nobody can find cannot be checked; extensions are
      // left out (an unknown extension is the extension checks' business).
      if (t.code !== 'Extension') for (const [url, p] of loaded) if (!p) reportUnknownProfile(run, url);
      const candidates = loaded.map(([, p]) => p).filter((p): p is Profile => !!p && p !== run.profile);
      if (!candidates.length) continue;
      if (candidates.length === 1) {
        checkNode({ w: run.w, profile: candidates[0]!, depth: run.depth }, candidates[0]!.root, value, typeCode);
        continue;
      }
      if (candidates.some((p) => conformsTo(run, value, p.url))) continue;
      report(run, `Unable to find a match for the specified profile among choices: ${candidates.map((p) => p.url).join(', ')}`);
      for (const c of candidates) checkNode({ w: run.w, profile: c, depth: run.depth }, c.root, value, typeCode);
    }
    run.w.vars = saved;
    run.rebase = savedBase;
  }
  run.depth--;
}

function checkChildren(run: ProfileRun, obj: Record<string, unknown>, name: string, base: PNode, slices: PNode[]): void {
  const def = base.def;
  const items = itemsOf(obj, name);
  const core = coreElement(def.base?.path);
  const min = def.min ?? 0;
  const max = maxOf(def.max);
  const path = def.path;
  // each profile reports its own cardinality, even where it repeats the base (as Java does)
  if (items.length < min) report(run, `${path}: minimum required = ${min}, but only found ${items.length} (from ${run.profile.label})`);
  if (items.length > max) report(run, `${path}: max allowed = ${max}, but found ${items.length} (from ${run.profile.label})`);
  const allowed = def.type?.map((t) => t.code);
  const counts = new Map<PNode, number>();
  for (const it of items) {
    const typeCode = typeOfKey(it.key, name) ?? def.type?.[0]?.code;
    run.w.push('.');
    run.w.push(it.key);
    if (it.index >= 0) run.w.push(it.index);
    if (name.endsWith('[x]') && allowed && typeCode && !allowed.includes(typeCode)) {
      report(run, `The type '${typeCode}' is not allowed at this point by the profile ${run.profile.label} (allowed: ${allowed.join(', ')})`);
    }
    const rt = (it.value as { resourceType?: unknown } | null)?.resourceType;
    if (typeof rt === 'string' && allowed?.length && !allowed.some((a) => a === rt || a === 'Resource' || a === 'DomainResource')) {
      report(run, `The type '${rt}' is not valid - must be ${allowed.join(' or ')}`);
    }
    if (typeCode === 'Reference' && it.value) checkTargets(run, def, core, it.value as Record<string, unknown>);
    if (it.value === undefined && def.extension?.some((e) => e.url.endsWith('extension-ElementDefinition.mustHaveValue') && e.valueBoolean)) {
      report(run, `The element definition \`\`${def.path}\`\` in the profile '${run.profile.url}' requires that a value be present in this element`);
    }
    if (it.value === undefined && def.extension) checkValueAlternatives(run, def, obj, it);
    if (it.value !== undefined) {
      checkNode(run, base, it.value, typeCode);
      if (slices.length && slicingSupported(def)) {
        const slice = slices.find((s) => sliceMatches(run, def, s, it, name));
        if (slice) {
          counts.set(slice, (counts.get(slice) ?? 0) + 1);
          checkNode(run, slice, it.value, typeCode);
        } else if (name === 'extension' && run.profile.sd.type === 'Extension' && def.path === 'Extension.extension' && typeof (it.value as { url?: unknown }).url === 'string' && !(it.value as { url: string }).url.includes(':')) {
          report(run, `Sub-extension url '${(it.value as { url: string }).url}' is not defined by the Extension ${run.profile.label}`);
        } else if (def.slicing?.rules === 'closed') {
          report(run, `This element does not match any known slice defined in the profile ${run.profile.label} and slicing is CLOSED`);
        }
      }
    }
    if (it.index >= 0) run.w.pop();
    run.w.pop();
    run.w.pop();
  }
  for (const s of slicingSupported(def) ? slices : []) {
    const n = counts.get(s) ?? 0;
    const smin = s.def.min ?? 0;
    const smax = maxOf(s.def.max);
    const label = `${path}:${s.def.sliceName ?? lastSegment(s.def.id ?? '')}`;
    if (n < smin) report(run, `Slice '${label}': a matching slice is required, but not found (from ${run.profile.label})`);
    if (n > smax) report(run, `${label}: max allowed = ${smax}, but found ${n} (from ${run.profile.label})`);
  }
}

const VALUE_ALTERNATIVES = 'extension-ElementDefinition.valueAlternatives';
/** A primitive present without a value (extensions only) must carry one of the extensions the profile allows instead. */
function checkValueAlternatives(run: ProfileRun, def: ElementDefinition, obj: Record<string, unknown>, it: Item): void {
  const alternatives = def.extension!.filter((e) => e.url.endsWith(VALUE_ALTERNATIVES) && typeof e.valueCanonical === 'string').map((e) => e.valueCanonical!);
  if (!alternatives.length) return;
  const companion = obj[`_${it.key}`];
  const own = (it.index >= 0 && Array.isArray(companion) ? companion[it.index] : companion) as { extension?: { url?: unknown }[] } | null | undefined;
  const urls = (own?.extension ?? []).map((e) => e?.url);
  if (!alternatives.some((a) => urls.includes(a))) {
    report(run, `The element definition \`\`${def.path}\`\` in the profile '${run.profile.url}' requires that if a value is not present, the extension '${alternatives.join("' or '")}' must be present`);
  }
}

/** A Reference whose targets the profile narrows (targetProfile) to fewer types than the base. */
function checkTargets(run: ProfileRun, def: ElementDefinition, core: ElementDefinition | undefined, ref: Record<string, unknown>): void {
  const targets = (def.type ?? []).flatMap((t) => t.targetProfile ?? []);
  const coreTargets = (core?.type ?? []).flatMap((t) => t.targetProfile ?? []);
  if (!targets.length || targets.length >= coreTargets.length && coreTargets.every((t) => targets.includes(t))) return;
  const types = [
    ...new Set(
      targets.map((u) => {
        const sd = structureDefinitionByUrl(u);
        if (!sd) reportUnknownProfile(run, u, `Unable to resolve the profile reference '${u}'`);
        return sd?.type ?? u.split('/').pop()!;
      }),
    ),
  ];
  if (types.includes('Resource')) return;
  const s = typeof ref.reference === 'string' ? ref.reference : '';
  const { type } = referencedType(run.w, ref);
  if (type && isKnownType(type) && !types.includes(type)) {
    report(run, `The type '${type}' implied by the reference URL ${s} is not a valid Target for this element (must be one of [${types.join(', ')}])`);
    return;
  }
  const target = s && !s.startsWith('#') ? run.w.policy.resolveReference?.(s) : undefined;
  if (target && typeof target === 'object' && !targets.some((u) => resourceConformsTo(target, u) !== false)) {
    report(run, `Unable to find a profile match for ${s} among choices: ${targets.join(', ')}`);
  }
}

/** fixed/pattern, binding and invariants that the profile adds to one element. */
function checkValue(run: ProfileRun, def: ElementDefinition, value: unknown, typeCode: string | undefined): void {
  const core = coreElement(def.base?.path ?? def.path);
  for (const k of valueKeys(def)) {
    if (k.startsWith('fixed')) {
      const want = (def as unknown as Record<string, unknown>)[k];
      if (value === undefined || matchesFixed(value, want)) continue;
      if (typeof want === 'object' && want !== null && typeof value === 'object' && value !== null && !Array.isArray(want)) {
        const v = value as Record<string, unknown>;
        const fw = want as Record<string, unknown>;
        for (const key of Object.keys(v)) {
          if (key === 'id' || key === 'extension') continue;
          if (!(key in fw)) report(run, `The element ${key} is present in the instance but not allowed in the applicable fixed value specified in profile`, 'error', 'value');
          else if (!matchesFixed(v[key], fw[key])) report(run, `Value is '${describe(v[key])}' but is fixed to '${describe(fw[key])}' in the profile ${run.profile.label}`, 'error', 'value');
        }
        for (const key of Object.keys(fw)) if (!(key in v)) report(run, `Missing element '${key}' - required by fixed value assigned in profile ${run.profile.label}`, 'error', 'value');
      } else report(run, `Value is '${describe(value)}' but is fixed to '${describe(want)}' in the profile ${run.profile.label}`, 'error', 'value');
    } else if (k.startsWith('pattern')) {
      const want = (def as unknown as Record<string, unknown>)[k];
      if (value !== undefined && !matchesPattern(value, want)) report(run, `The pattern ${describe(want)} defined in the profile ${run.profile.label} not found`, 'error', 'value');
    }
  }
  checkLimits(run, def, value);
  if (value !== undefined && def.extension && hasNarrativeControl(def)) {
    for (const m of narrativeControlIssues(def, value, (run.w.vars.resource as { language?: unknown } | undefined)?.language, run.profile.label)) report(run, m);
  }
  const b = def.binding;
  if (b?.valueSet && b.strength === 'required' && value !== undefined && (b.valueSet !== core?.binding?.valueSet || core?.binding?.strength !== 'required')) {
    const code = typeCode ?? def.type?.[0]?.code ?? '';
    if (code === 'code' || code === 'Coding' || code === 'CodeableConcept') {
      checkCodedValue(run.w, { binding: { strength: b.strength, valueSet: b.valueSet }, typeCode: code } as ElementRule, value);
    }
  }
  const path = run.rebase && def.path.startsWith(run.rebase.from) ? run.rebase.to + def.path.slice(run.rebase.from.length) : def.path;
  const invs = ownInvariants(def, core, path);
  if (invs.length && value !== undefined && !run.w.tooDeep) {
    for (const inv of invs) {
      if (holds(inv, value, run.w.vars) === false) {
        run.w.report(inv.severity, 'invariant', `Constraint failed: ${inv.key}: '${inv.human}' (defined in ${run.profile.label})`);
      }
    }
  }
}

const keyCache = new WeakMap<ElementDefinition, string[]>();
/** The fixed[x], pattern[x], minValue[x] and maxValue[x] properties a definition carries. */
function valueKeys(def: ElementDefinition): string[] {
  let keys = keyCache.get(def);
  if (!keys) {
    keys = Object.keys(def).filter((k) => /^(fixed|pattern|minValue|maxValue)[A-Z]/.test(k));
    keyCache.set(def, keys);
  }
  return keys;
}

const ownCache = new WeakMap<ElementDefinition, Map<string, Invariant[]>>();
/** The invariants a profile element adds to its base element, compiled once per definition and path. */
function ownInvariants(def: ElementDefinition, core: ElementDefinition | undefined, path: string): Invariant[] {
  let byPath = ownCache.get(def);
  if (!byPath) ownCache.set(def, (byPath = new Map()));
  let invs = byPath.get(path);
  if (!invs) {
    const coreKeys = new Set((core?.constraint ?? []).map((c) => c.key));
    const own = (def.constraint ?? []).filter((c) => !coreKeys.has(c.key));
    invs = own.length ? compileConstraints({ ...def, constraint: own }, path.replace(/\[x\]$/, ''), undefined) : [];
    byPath.set(path, invs);
  }
  return invs;
}

/** minValue[x] / maxValue[x] / maxLength that a profile sets. */
function checkLimits(run: ProfileRun, def: ElementDefinition, value: unknown): void {
  if (value === undefined) return;
  const rec = def as unknown as Record<string, unknown>;
  const minLength = def.extension?.find((e) => e.url === 'http://hl7.org/fhir/StructureDefinition/minLength')?.valueInteger;
  if (typeof minLength === 'number' && typeof value === 'string' && value.length < minLength) {
    report(run, `Value '${value}' is shorter than permitted minimum length of ${minLength}`, 'error', 'value');
  }
  if (typeof def.maxLength === 'number' && typeof value === 'string' && value.length > def.maxLength) {
    report(run, `value is longer than permitted maximum length of ${def.maxLength}`, 'error', 'value');
  }
  for (const k of valueKeys(def)) {
    const min = k.startsWith('minValue');
    if (!min && !k.startsWith('maxValue')) continue;
    const bound = rec[k];
    const cmp = compareLimit(value, bound);
    if (cmp === undefined) continue;
    if (min && cmp < 0) report(run, `value is less than permitted minimum value of ${describe(bound)}`, 'error', 'value');
    if (!min && cmp > 0) report(run, `value is greater than permitted maximum value of ${describe(bound)}`, 'error', 'value');
  }
}

function compareLimit(value: unknown, bound: unknown): number | undefined {
  if (typeof value === 'number' && typeof bound === 'number') return value - bound;
  if (typeof value === 'string' && typeof bound === 'string') return value < bound ? -1 : value > bound ? 1 : 0;
  const v = value as { value?: unknown; code?: unknown; unit?: unknown };
  const b = bound as { value?: unknown; code?: unknown; unit?: unknown };
  if (v && b && typeof v.value === 'number' && typeof b.value === 'number' && (v.code ?? v.unit) === (b.code ?? b.unit)) return v.value - b.value;
  return undefined;
}

// ---- entry points ----

/** Any element (an extension against its definition, say) against a profile of its type. */
export function checkAgainstProfile(w: Walk, value: Record<string, unknown>, url: string): boolean {
  const p = loadProfile(url);
  if (!p) return false;
  checkNode({ w, profile: p, depth: 0 }, p.root, value, undefined);
  return true;
}

/** A resource against one profile URL; false when the profile cannot be found. */
export function validateAgainstProfile(w: Walk, resource: Record<string, unknown>, url: string): boolean {
  const p = loadProfile(url);
  if (!p) return false;
  if (p.sd.type !== resource.resourceType) {
    w.report('error', 'structure', `The profile ${p.label} is for ${p.sd.type} resources, not ${String(resource.resourceType)}`);
    return true;
  }
  checkNode({ w, profile: p, depth: 0 }, p.root, resource, undefined);
  return true;
}

/**
 * Profiles named in meta.profile or asked for by the caller. A requested profile that cannot be
 * found is an error (the caller asked for a check that cannot run); an unknown meta.profile is a
 * warning, as the Java validator reports it.
 */
export function validateProfiles(w: Walk, resource: unknown, requested: string[] | undefined): void {
  const res = resource as Record<string, unknown> & { meta?: { profile?: unknown } };
  if (typeof res !== 'object' || res === null || typeof res.resourceType !== 'string') return;
  const declared = Array.isArray(res.meta?.profile) ? (res.meta.profile as unknown[]).filter((p): p is string => typeof p === 'string') : [];
  const seen = new Set<string>();
  const global = globalProfilesFor(res.resourceType).map((u) => [u, true] as const);
  for (const [url, asked] of [...(requested ?? []).map((u) => [u, true] as const), ...global, ...declared.map((u) => [u, false] as const)]) {
    if (seen.has(url)) continue;
    seen.add(url);
    if (!validateAgainstProfile(w, res, url)) {
      w.report(asked ? 'error' : 'warning', asked ? 'not-found' : 'informational', `Profile reference '${url}' has not been checked because it could not be found`);
    }
  }
}
