import type { ElementDefinition, StructureDefinition } from 'fhir/r4';
import { isKnownType, structureDefinitionByUrl } from './model';

/**
 * The snapshot of a profile: the published one, or one built from its differential over the
 * base definition's snapshot. Each differential element either refines an element the base
 * has (same id) or adds one: a slice (`identifier:cccd`), or a child of a datatype the base
 * does not expand (`identifier.system`, taken from the Identifier definition).
 */
const cache = new Map<string, ElementDefinition[] | null>();

export function clearSnapshots(): void {
  cache.clear();
}

export function snapshotOf(sd: StructureDefinition, depth = 0): ElementDefinition[] | undefined {
  if (sd.snapshot?.element?.length) return sd.snapshot.element;
  const hit = cache.get(sd.url);
  if (hit !== undefined) return hit ?? undefined;
  cache.set(sd.url, null); // guards against a profile deriving from itself
  const base = sd.baseDefinition && depth < 16 ? structureDefinitionByUrl(sd.baseDefinition) : undefined;
  const baseSnap = base ? snapshotOf(base, depth + 1) : undefined;
  if (!baseSnap || !sd.differential?.element?.length) return undefined;
  const snap = generate(sd, baseSnap);
  cache.set(sd.url, snap);
  return snap;
}

/** Slice names removed: `Patient.identifier:cccd.system` → `Patient.identifier.system`. */
function unsliced(id: string): string {
  return id.replace(/:[^.]+/g, '');
}

function generate(sd: StructureDefinition, baseSnap: ElementDefinition[]): ElementDefinition[] {
  const rootType = sd.type;
  const byId = new Map<string, ElementDefinition>();
  const out: ElementDefinition[] = [];
  for (const e of baseSnap) {
    // a profile on a profile keeps ids; on a base type the root name is the type
    const id = e.id ?? e.path;
    const copy = { ...e, id, path: e.path };
    byId.set(id, copy);
    out.push(copy);
  }
  const active = new Map<string, string>();
  for (const d of sd.differential!.element) {
    const id = d.id ?? inferId(d, active);
    let target = byId.get(id);
    if (!target) {
      const renamed = byId.get(unsliced(id)) ? undefined : renamedChoice(byId, unsliced(id));
      const template = byId.get(unsliced(id)) ?? renamed ?? fromDatatype(byId, unsliced(id), rootType);
      if (!template) continue;
      // `payload:string.contentString` is the element `payload:string.content[x]`, one type only
      const asChoice = renamed ? id.replace(/\.([a-z][A-Za-z]*?)[A-Z][A-Za-z]*$/, '.$1[x]') : id;
      const existing = renamed ? byId.get(asChoice) : undefined;
      if (existing) {
        existing.type = renamed!.type;
        byId.set(id, existing);
        mergeInto(existing, { ...d, type: renamed!.type ?? d.type } as ElementDefinition);
        continue;
      }
      target = { ...template, id: asChoice, path: renamed ? template.path : d.path };
      if (renamed) byId.set(asChoice, target);
      delete target.slicing;
      // a new slice starts with the sliced element's definition, minus its slicing
      byId.set(id, target);
      out.push(target);
    }
    mergeInto(target, d);
  }
  return out;
}

/**
 * Older profiles give only paths: an element with a sliceName opens that slice for the
 * elements below its path that follow it, until the path is met again without a sliceName.
 */
function inferId(d: ElementDefinition, active: Map<string, string>): string {
  const parts = d.path.split('.');
  const out: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    const prefix = parts.slice(0, i + 1).join('.');
    const last = i === parts.length - 1;
    let seg = parts[i]!;
    if (last) {
      if (d.sliceName) active.set(prefix, d.sliceName);
      else active.delete(prefix);
      for (const k of [...active.keys()]) if (k.startsWith(`${prefix}.`)) active.delete(k);
      if (d.sliceName) seg += `:${d.sliceName}`;
    } else if (active.has(prefix)) seg += `:${active.get(prefix)}`;
    out.push(seg);
  }
  return out.join('.');
}

/** `Observation.valueQuantity` written for the `Observation.value[x]` element restricted to one type. */
function renamedChoice(byId: Map<string, ElementDefinition>, id: string): ElementDefinition | undefined {
  const m = /^(.*)\.([a-z][A-Za-z]*?)([A-Z][A-Za-z]*)$/.exec(id);
  if (!m) return undefined;
  const choice = byId.get(`${m[1]}.${m[2]}[x]`) ?? byId.get(unsliced(`${m[1]}.${m[2]}[x]`));
  if (!choice) return undefined;
  const code = m[3]!;
  const type = choice.type?.filter((t) => (t.code ?? '').toLowerCase() === code.toLowerCase());
  return { ...choice, type: type?.length ? type : choice.type };
}

function mergeInto(target: ElementDefinition, d: ElementDefinition): void {
  for (const [k, v] of Object.entries(d)) {
    if (k === 'id' || k === 'path') continue;
    if (k === 'constraint') target.constraint = [...(target.constraint ?? []), ...(v as ElementDefinition['constraint'] & object)];
    else (target as unknown as Record<string, unknown>)[k] = v;
  }
}

/**
 * An element below a datatype the base snapshot does not expand: found in that datatype's own
 * definition (`Patient.identifier.system` → `Identifier.system`), or below the element a
 * contentReference repeats.
 */
function fromDatatype(byId: Map<string, ElementDefinition>, path: string, rootType: string): ElementDefinition | undefined {
  const parts = path.split('.');
  for (let cut = parts.length - 1; cut >= 1; cut--) {
    const owner = byId.get(parts.slice(0, cut).join('.'));
    const rest = parts.slice(cut).join('.');
    if (owner?.contentReference) {
      // `Parameters.parameter.part` repeats `Parameters.parameter`: its children are that one's
      const found = byId.get(`${unsliced(owner.contentReference.slice(1))}.${rest}`);
      return found ? { ...found, id: path, path } : undefined;
    }
    const code = owner?.type?.length === 1 ? owner.type[0]!.code : undefined;
    if (!owner || !code) continue;
    const typeUrl = owner.type?.[0]?.profile?.[0] ?? `http://hl7.org/fhir/StructureDefinition/${code}`;
    const typeSd = structureDefinitionByUrl(typeUrl) ?? (isKnownType(code) ? structureDefinitionByUrl(`http://hl7.org/fhir/StructureDefinition/${code}`) : undefined);
    const snap = typeSd ? snapshotOf(typeSd) : undefined;
    if (!snap) return undefined;
    const found = snap.find((e) => unsliced(e.id ?? e.path) === `${snap[0]!.path}.${rest}`);
    return found ? { ...found, id: path, path } : undefined;
  }
  void rootType;
  return undefined;
}
