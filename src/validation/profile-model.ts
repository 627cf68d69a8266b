import type { ElementDefinition, StructureDefinition } from 'fhir/r4';
import { isKnownType, structureDefinitionByUrl } from './model';
import { snapshotOf } from './snapshot';

/**
 * A profile as a tree for the profile walk: each element's children by name, with the unsliced
 * element and its slices; plus access to the base definitions (to tell what a profile adds) and
 * to an instance's values for a child name (choice names included).
 */
export interface PNode {
  def: ElementDefinition;
  /** child name (last path segment, slice name removed) → the unsliced element and its slices */
  children: Map<string, { base?: PNode; slices: PNode[] }>;
}

export interface Profile {
  url: string;
  label: string;
  sd: StructureDefinition;
  root: PNode;
}

const compiled = new Map<string, Profile | null>();

/** Profiles an ImplementationGuide declares global: they apply to every resource of the type. */
const globals: { type: string; profile: string }[] = [];
export function registerGlobalProfile(type: string, profile: string): void {
  globals.push({ type, profile });
}
export function globalProfilesFor(type: string): string[] {
  return globals.length ? globals.filter((g) => g.type === type).map((g) => g.profile) : [];
}
export function globalsMark(): number {
  return globals.length;
}
export function rollbackGlobals(mark: number): void {
  globals.length = mark;
}
export function clearProfiles(): void {
  compiled.clear();
}

export function lastSegment(id: string): string {
  let depth = 0;
  for (let i = id.length - 1; i >= 0; i--) {
    const c = id[i];
    if (c === '.' && depth === 0) return id.slice(i + 1);
    if (c === ']') depth++;
    if (c === '[') depth--;
  }
  return id;
}

function parentId(id: string): string {
  return id.slice(0, id.length - lastSegment(id).length - 1);
}

export function loadProfile(url: string): Profile | undefined {
  let p = compiled.get(url);
  if (p === undefined) {
    p = null;
    const sd = structureDefinitionByUrl(url);
    const snap = sd ? snapshotOf(sd) : undefined;
    if (sd && snap?.length) {
      const nodes = new Map<string, PNode>();
      const root: PNode = { def: snap[0]!, children: new Map() };
      nodes.set(snap[0]!.id ?? snap[0]!.path, root);
      for (const def of snap.slice(1)) {
        const id = def.id ?? def.path;
        const parent = nodes.get(parentId(id));
        if (!parent) continue;
        const seg = lastSegment(id);
        const colon = seg.indexOf(':');
        const name = colon >= 0 ? seg.slice(0, colon) : seg;
        const node: PNode = { def, children: new Map() };
        nodes.set(id, node);
        let group = parent.children.get(name);
        if (!group) parent.children.set(name, (group = { slices: [] }));
        if (colon >= 0) group.slices.push(node);
        else group.base = node;
      }
      p = { url, label: sd.version ? `${sd.url}|${sd.version}` : sd.url, sd, root };
    }
    compiled.set(url, p);
  }
  return p ?? undefined;
}

// ---- the base definitions, to tell what a profile adds ----

let coreIndex: Map<string, ElementDefinition> | undefined;
export function coreElement(path: string | undefined): ElementDefinition | undefined {
  if (!path) return undefined;
  coreIndex ??= new Map();
  let e = coreIndex.get(path);
  if (!e) {
    const type = path.split('.')[0]!;
    const sd = isKnownType(type) ? structureDefinitionByUrl(`http://hl7.org/fhir/StructureDefinition/${type}`) : undefined;
    for (const d of sd?.snapshot?.element ?? []) if (!d.id?.includes(':')) coreIndex.set(d.path, d);
    e = coreIndex.get(path);
  }
  return e;
}

export function maxOf(m: string | undefined): number {
  return m === undefined || m === '*' ? Infinity : Number(m);
}

// ---- instance access ----

export interface Item {
  key: string;
  index: number;
  value: unknown;
}

export function itemsOf(obj: Record<string, unknown>, name: string): Item[] {
  const out: Item[] = [];
  const add = (key: string) => {
    const v = obj[key];
    const comp = obj[`_${key}`];
    if (Array.isArray(v)) v.forEach((x, i) => x !== null && out.push({ key, index: i, value: x }));
    else if (v !== undefined && v !== null) out.push({ key, index: -1, value: v });
    else if (Array.isArray(comp)) comp.forEach((x, i) => x !== null && out.push({ key, index: i, value: undefined }));
    else if (comp !== undefined && comp !== null) out.push({ key, index: -1, value: undefined });
  };
  if (name.endsWith('[x]')) {
    const base = name.slice(0, -3);
    for (const k of Object.keys(obj)) {
      if (k.length > base.length && k.startsWith(base) && k.charCodeAt(base.length) >= 65 && k.charCodeAt(base.length) <= 90) add(k);
    }
  } else add(name);
  return out;
}

export function typeOfKey(key: string, name: string): string | undefined {
  if (!name.endsWith('[x]')) return undefined;
  const t = key.slice(name.length - 3);
  if (!t || !key.startsWith(name.slice(0, -3))) return undefined;
  return isKnownType(t) ? t : t[0]!.toLowerCase() + t.slice(1);
}
