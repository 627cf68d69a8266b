import type { ElementDefinition, StructureDefinition } from 'fhir/r4';
import { extensionPackDefinition } from './packages';
import { definitionResources, SD_BASE } from '../fhir/definitions';
import { compileConstraints, type Invariant } from './invariants';
import { compilePrimitive, type PrimitiveRule } from './primitives';

/**
 * The element tree compiled from a StructureDefinition snapshot, once per type and on first
 * use: JSON property name → rule, so the walk over an instance is a hash lookup per property.
 */
export interface ElementRule {
  /** JSON property name (a choice element has one rule per type: valueString, valueQuantity…). */
  key: string;
  /** Definition path, e.g. `Observation.value[x]`; the FHIRPath base of its invariants. */
  path: string;
  min: number;
  max: number;
  /** JSON array or single value: fixed by the base definition, not by profiles. */
  array: boolean;
  typeCode: string;
  primitive?: PrimitiveRule;
  /** Children of a backbone element (or of a contentReference target), else the type's node. */
  node?: TypeNode;
  choiceBase?: string;
  binding?: { strength: string; valueSet: string };
  /** Allowed resource types of a Reference/canonical, undefined = any. */
  targets?: Set<string>;
  /** Invariants declared on this element that its type does not already carry. */
  invariants: Invariant[];
  def: ElementDefinition;
}

export interface TypeNode {
  /** Type name or backbone path, e.g. `Patient`, `Patient.contact`. */
  name: string;
  url: string;
  elements: Record<string, ElementRule>;
  /** Elements with min > 0, with every JSON key that satisfies them. */
  required: { path: string; min: number; keys: string[] }[];
  /** Choice groups: at most one of the keys may appear. */
  choices: { path: string; keys: string[] }[];
  /** Invariants of the type itself (root element constraints). */
  invariants: Invariant[];
  resource: boolean;
}

const FHIR_TYPE_EXT = 'http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type';

let byType: Map<string, StructureDefinition> | undefined;
const byUrl = new Map<string, StructureDefinition>();
const compiled = new Map<string, TypeNode>();
const primitives = new Map<string, PrimitiveRule>();

function index(): Map<string, StructureDefinition> {
  if (!byType) {
    byType = new Map();
    for (const bundle of ['types', 'resources']) {
      for (const sd of definitionResources<StructureDefinition>(bundle, 'StructureDefinition')) {
        byUrl.set(sd.url, sd);
        if (sd.derivation !== 'constraint' && sd.kind !== 'logical') byType.set(sd.type, sd);
      }
    }
  }
  return byType;
}

let othersLoaded = false;
/** Core R4's own extension definitions: superseded by the extension pack's where it has one. */
const coreExtensions = new WeakSet<StructureDefinition>();

/** Core profiles and extension definitions: loaded only when something names one. */
function loadOthers(): void {
  if (othersLoaded) return;
  othersLoaded = true;
  for (const bundle of ['profiles-others', 'extensions']) {
    for (const sd of definitionResources<StructureDefinition>(bundle, 'StructureDefinition')) {
      if (bundle === 'extensions') coreExtensions.add(sd);
      if (!byUrl.has(sd.url)) byUrl.set(sd.url, sd);
    }
  }
}

/** Registrations in order, with what each replaced, so a caller can undo its own. */
const journal: { url: string; previous: StructureDefinition | undefined }[] = [];

export function registerStructureDefinition(sd: StructureDefinition): void {
  index();
  journal.push({ url: sd.url, previous: byUrl.get(sd.url) });
  byUrl.set(sd.url, sd);
  compiledProfiles.clear();
}

export function definitionsMark(): number {
  return journal.length;
}

/** Undoes the registrations made since `mark`. */
export function rollbackDefinitions(mark: number): void {
  while (journal.length > mark) {
    const { url, previous } = journal.pop()!;
    if (previous) byUrl.set(url, previous);
    else byUrl.delete(url);
  }
  compiledProfiles.clear();
}

export function structureDefinitionByUrl(url: string): StructureDefinition | undefined {
  index();
  const bare = url.split('|')[0]!;
  let sd = byUrl.get(bare);
  if (!sd) {
    loadOthers();
    sd = byUrl.get(bare) ?? extensionPackDefinition(bare);
  }
  // HL7 maintains its extensions in the extension pack now; core R4's copies are older (some
  // have since been corrected, e.g. where structuredefinition-fhir-type may appear), and the
  // reference validator prefers the pack's too. Swapped once, on first use.
  if (sd && coreExtensions.has(sd)) {
    coreExtensions.delete(sd);
    const pack = extensionPackDefinition(bare);
    if (pack) byUrl.set(bare, (sd = pack));
  }
  return sd;
}

export function isKnownType(type: string): boolean {
  return index().has(type);
}

export function primitiveRule(type: string): PrimitiveRule | undefined {
  let p = primitives.get(type);
  if (!p) {
    const sd = index().get(type);
    if (!sd || sd.kind !== 'primitive-type') return undefined;
    p = compilePrimitive(sd);
    primitives.set(type, p);
  }
  return p;
}

/** The compiled node of a base type or resource, e.g. `HumanName`, `Patient`. */
export function typeNode(type: string): TypeNode | undefined {
  let n = compiled.get(type);
  if (!n) {
    const sd = index().get(type);
    if (!sd || !sd.snapshot || sd.kind === 'primitive-type') return undefined;
    n = compileStructure(sd);
    compiled.set(type, n);
  }
  return n;
}

const compiledProfiles = new Map<string, TypeNode>();
export function profileNode(url: string): TypeNode | undefined {
  let n = compiledProfiles.get(url);
  if (!n) {
    const sd = structureDefinitionByUrl(url);
    if (!sd?.snapshot) return undefined;
    n = compileStructure(sd);
    compiledProfiles.set(url, n);
  }
  return n;
}

function elementTypeCode(t: { code: string; extension?: { url: string; valueUrl?: string }[] }, resourceId: boolean): string {
  if (!t.code.startsWith('http://hl7.org/fhirpath/System.')) return t.code;
  // Resource.id is typed System.String in the snapshot, but the spec gives it the id lexical rule.
  if (resourceId) return 'id';
  return t.extension?.find((x) => x.url === FHIR_TYPE_EXT)?.valueUrl ?? 'string';
}

function parseMax(max: string | undefined): number {
  return max === undefined || max === '*' ? Infinity : Number(max);
}

/**
 * Builds the node tree of one snapshot. Slices (`:name` ids) are left to the profile layer:
 * here only the unsliced elements define the JSON shape.
 */
export function compileStructure(sd: StructureDefinition): TypeNode {
  const elements = (sd.snapshot?.element ?? []).filter((e) => !e.id?.includes(':'));
  const root = elements[0]!;
  const rootPath = root.path;
  const nodes = new Map<string, TypeNode>();
  const isResource = sd.kind === 'resource';
  const mk = (name: string, defs: ElementDefinition | undefined, own: boolean): TypeNode => ({
    name,
    url: sd.url,
    elements: Object.create(null) as Record<string, ElementRule>,
    required: [],
    choices: [],
    invariants: defs ? compileConstraints(defs, name, own ? undefined : sd.type) : [],
    resource: isResource && name === rootPath,
  });
  const top = mk(rootPath, root, true);
  nodes.set(rootPath, top);
  const contentRefs: { rule: ElementRule; target: string }[] = [];
  const isPrimitiveType = sd.kind === 'primitive-type';

  for (const def of elements.slice(1)) {
    const path = def.path;
    const dot = path.lastIndexOf('.');
    const parent = nodes.get(path.slice(0, dot));
    if (!parent) continue;
    let name = path.slice(dot + 1);
    if (isPrimitiveType && name === 'value') continue;
    const min = def.min ?? 0;
    const max = parseMax(def.max);
    const baseMax = parseMax(def.base?.max ?? def.max);
    const array = baseMax > 1 || (sd.derivation === 'constraint' ? false : max > 1);
    const binding = def.binding?.valueSet ? { strength: def.binding.strength, valueSet: def.binding.valueSet } : undefined;
    const types = def.type ?? [];
    const choice = name.endsWith('[x]');
    if (choice) name = name.slice(0, -3);
    const keys: string[] = [];
    const backbone = types.length === 1 && (types[0]!.code === 'BackboneElement' || types[0]!.code === 'Element') && !def.contentReference;
    if (def.contentReference) {
      const rule = mkRule(name, path, min, max, array, 'BackboneElement', def, binding, undefined);
      contentRefs.push({ rule, target: def.contentReference.slice(1) });
      parent.elements[name] = rule;
      keys.push(name);
    } else if (choice) {
      for (const t of types) {
        const code = elementTypeCode(t, false);
        const key = name + code[0]!.toUpperCase() + code.slice(1);
        const rule = mkRule(key, path, min, max, array, code, def, binding, t.targetProfile);
        rule.choiceBase = name;
        parent.elements[key] = rule;
        keys.push(key);
      }
      if (keys.length > 1) parent.choices.push({ path, keys });
    } else {
      const code = types.length ? elementTypeCode(types[0]!, isResource && path === `${rootPath}.id`) : 'Element';
      const targets = types.flatMap((t) => t.targetProfile ?? []);
      const rule = mkRule(name, path, min, max, array, code, def, binding, targets.length ? targets : undefined);
      if (backbone) {
        const child = mk(path, def, true);
        nodes.set(path, child);
        rule.node = child;
        rule.invariants = []; // the backbone node carries them
      }
      parent.elements[name] = rule;
      keys.push(name);
    }
    if (min > 0) parent.required.push({ path, min, keys });
  }
  for (const { rule, target } of contentRefs) rule.node = nodes.get(target);
  return top;
}

function mkRule(
  key: string,
  path: string,
  min: number,
  max: number,
  array: boolean,
  typeCode: string,
  def: ElementDefinition,
  binding: ElementRule['binding'],
  targetProfiles: string[] | undefined,
): ElementRule {
  let targets: Set<string> | undefined;
  if (targetProfiles && (typeCode === 'Reference' || typeCode === 'canonical')) {
    const names = targetProfiles.map((p) => (p.startsWith(SD_BASE) ? p.slice(SD_BASE.length) : (structureDefinitionByUrl(p)?.type ?? p)));
    if (!names.includes('Resource') && !names.includes('DomainResource')) targets = new Set(names);
  }
  const rule: ElementRule = {
    key,
    path,
    min,
    max,
    array,
    typeCode,
    binding,
    targets,
    invariants: compileConstraints(def, path, typeCode),
    def,
  };
  const prim = primitiveRule(typeCode);
  if (prim) rule.primitive = prim;
  return rule;
}
