import type { ElementDefinition, ElementDefinitionSlicingDiscriminator } from 'fhir/r4';
import { structureDefinitionByUrl, type ElementRule } from './model';
import { itemsOf, loadProfile, typeOfKey, type Item, type PNode } from './profile-model';
import { checkNode, type ProfileRun } from './profiles';
import { matchesFixed, matchesPattern } from './patterns';
import { referencedType } from './references';
import { checkCodedValue } from './values';
import { Walk } from './walk';

/**
 * Which slice an instance value belongs to, by the slicing's discriminators: value and pattern
 * (fixed/pattern values or a required binding at the path), type, profile, exists.
 */

/**
 * Discriminators that need extension() or ofType(), or resolve() anywhere but at the end, are
 * not evaluated: no slice check then.
 */
export function slicingSupported(def: ElementDefinition): boolean {
  return (def.slicing?.discriminator ?? []).every((d) => /^[A-Za-z0-9_.$\[\]]+(?:\.resolve\(\))?$/.test(d.path));
}

const RESOLVE = '.resolve()';
/** `item.resolve()` as a type or profile discriminator: the slice's targetProfile decides. */
function resolvedMatches(run: ProfileRun, slice: PNode, d: ElementDefinitionSlicingDiscriminator, it: Item): boolean {
  const refPath = d.path.replace(/^\$this\./, '').slice(0, -RESOLVE.length);
  const targetUrls = (descendant(slice, refPath) ?? slice).def.type?.flatMap((t) => t.targetProfile ?? []) ?? [];
  // what the instance itself tells (contained, Bundle entry, the URL): nothing is fetched
  const targets = valuesAt(it.value, refPath)
    .filter((r): r is Record<string, unknown> => typeof r === 'object' && r !== null)
    .map((r) => referencedType(run.w, r));
  if (d.type === 'type') {
    const types = targetUrls.map((u) => structureDefinitionByUrl(u)?.type ?? u.split('/').pop()!);
    return targets.some((t) => t.type !== undefined && types.includes(t.type));
  }
  if (d.type === 'profile') return targets.some((t) => t.resource !== undefined && targetUrls.some((u) => conformsTo(run, t.resource, u)));
  return true;
}

function descendant(node: PNode, path: string): PNode | undefined {
  if (path === '$this') return node;
  const segs = path.split('.');
  const fixes = (n: PNode) => Object.keys(n.def).some((k) => k.startsWith('fixed') || k.startsWith('pattern'));
  const walk = (cur: PNode, i: number): PNode | undefined => {
    if (i === segs.length) return cur;
    const g: { base?: PNode; slices: PNode[] } | undefined = cur.children.get(segs[i]!) ?? cur.children.get(`${segs[i]}[x]`);
    if (!g) return undefined;
    const viaBase = g.base ? walk(g.base, i + 1) : undefined;
    if (viaBase && fixes(viaBase)) return viaBase;
    // The fixed value may sit inside a nested slice: the bp profile discriminates components on
    // code.coding.code, fixed at component:SystolicBP.code.coding:SBPCode.code.
    for (const slice of g.slices) {
      const r = walk(slice, i + 1);
      if (r && fixes(r)) return r;
    }
    return viaBase;
  };
  return walk(node, 0);
}

/** Values at a discriminator path, with the JSON key each came from (for choice types). */
function valuesAt(value: unknown, path: string): unknown[] {
  return keyedValuesAt(value, path).map((i) => i.value);
}

function keyedValuesAt(value: unknown, path: string): Item[] {
  if (path === '$this') return [{ key: '', index: -1, value }];
  let items: Item[] = [{ key: '', index: -1, value }];
  for (const seg of path.split('.')) {
    const next: Item[] = [];
    for (const it of items) {
      if (typeof it.value !== 'object' || it.value === null) continue;
      const o = it.value as Record<string, unknown>;
      let found = itemsOf(o, seg);
      if (!found.length && !seg.endsWith('[x]')) found = itemsOf(o, `${seg}[x]`);
      for (const i of found) if (i.value !== undefined) next.push(i);
    }
    items = next;
  }
  return items;
}

export function sliceMatches(run: ProfileRun, sliced: ElementDefinition, slice: PNode, it: Item, name: string): boolean {
  const discs: ElementDefinitionSlicingDiscriminator[] = sliced.slicing?.discriminator ?? [];
  if (!discs.length) {
    // no discriminator (or extension slicing written without one): match by extension url or by type
    const t = slice.def.type?.[0];
    if (t?.code === 'Extension' && t.profile?.[0]) return (it.value as { url?: unknown }).url === t.profile[0];
    return typeOfKey(it.key, name) === undefined || slice.def.type?.some((x) => x.code === typeOfKey(it.key, name)) === true;
  }
  return discs.every((d) => discriminatorMatches(run, slice, d, it, name));
}

function discriminatorMatches(run: ProfileRun, slice: PNode, d: ElementDefinitionSlicingDiscriminator, it: Item, name: string): boolean {
  const path = d.path.replace(/^\$this\./, '');
  if (path.endsWith(RESOLVE)) return resolvedMatches(run, slice, d, it);
  if (path === 'url' && slice.def.type?.[0]?.code === 'Extension' && slice.def.type[0].profile?.[0]) {
    return (it.value as { url?: unknown }).url === slice.def.type[0].profile[0];
  }
  const target = descendant(slice, path);
  const values = valuesAt(it.value, path);
  switch (d.type) {
    case 'value':
    case 'pattern': {
      if (!target) return true;
      const rec = target.def as unknown as Record<string, unknown>;
      const k = Object.keys(rec).find((x) => x.startsWith('fixed') || x.startsWith('pattern'));
      if (k) return values.some((v) => (k.startsWith('fixed') ? matchesFixed(v, rec[k]) : matchesPattern(v, rec[k])));
      const b = target.def.binding;
      if (b?.valueSet && b.strength === 'required') {
        return values.some((v) => {
          const probe = new Walk();
          checkCodedValue(probe, { binding: { strength: 'required', valueSet: b.valueSet! }, typeCode: target.def.type?.[0]?.code ?? 'code' } as ElementRule, v);
          return probe.issues.length === 0;
        });
      }
      return true;
    }
    case 'type': {
      const codes = (target ?? slice).def.type?.map((t) => t.code) ?? [];
      if (path === '$this' || path === '') {
        const t = typeOfKey(it.key, name) ?? (it.value as { resourceType?: string }).resourceType;
        return t === undefined || codes.includes(t);
      }
      const base = path.split('.').pop()!;
      return keyedValuesAt(it.value, path).some((v) => codes.includes(typeOfKey(v.key, `${base.replace(/\[x\]$/, '')}[x]`) ?? (v.value as { resourceType?: string }).resourceType ?? ''));
    }
    case 'exists': {
      const must = (target?.def.min ?? 0) > 0;
      const never = target?.def.max === '0';
      return must ? values.length > 0 : never ? values.length === 0 : true;
    }
    case 'profile': {
      const urls = (target ?? slice).def.type?.flatMap((t) => [...(t.profile ?? []), ...(t.targetProfile ?? [])]) ?? [];
      return values.some((v) => urls.some((u) => conformsTo(run, v, u)));
    }
    default:
      return true;
  }
}

/** Whether a value validates against a profile with no errors (used to pick a slice). */
export function conformsTo(run: ProfileRun, value: unknown, url: string): boolean {
  const p = loadProfile(url);
  if (!p) return false;
  const rt = (value as { resourceType?: string }).resourceType;
  if (rt && p.sd.type !== rt) return false;
  const before = run.w.issues.length;
  checkNode({ w: run.w, profile: p, depth: run.depth }, p.root, value, rt);
  const ok = !run.w.issues.slice(before).some((i) => i.severity === 'error' || i.severity === 'fatal');
  run.w.issues.length = before;
  return ok;
}
