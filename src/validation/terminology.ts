import type { CodeSystem, CodeSystemConcept, ValueSet, ValueSetExpansionContains } from 'fhir/r4';
import { definitionResources } from '../fhir/definitions';

/**
 * Code sets for bindings, without a terminology server: the R4 expansions shipped in the spec
 * package first, else the ValueSet's compose when it only lists codes or includes whole code
 * systems that are known here. Anything else (filters, SNOMED, LOINC…) cannot be expanded and
 * is not checked.
 */
export interface CodeSet {
  url: string;
  name: string;
  /** `system|code` pairs. */
  pairs: Set<string>;
  codes: Set<string>;
  systems: Set<string>;
}

const valueSets = new Map<string, ValueSet>();
const codeSystems = new Map<string, CodeSystem>();
const sets = new Map<string, CodeSet | null>();
let expansions: Map<string, ValueSet> | undefined;
let loaded = false;

function load(): void {
  if (loaded) return;
  loaded = true;
  expansions = new Map();
  for (const vs of definitionResources<ValueSet>('valueset-expansions', 'ValueSet')) expansions.set(vs.url!, vs);
  for (const b of ['valuesets', 'v2-valuesets', 'v3-valuesets']) {
    for (const vs of definitionResources<ValueSet>(b, 'ValueSet')) if (!valueSets.has(vs.url!)) valueSets.set(vs.url!, vs);
    for (const cs of definitionResources<CodeSystem>(b, 'CodeSystem')) if (!codeSystems.has(cs.url!)) codeSystems.set(cs.url!, cs);
  }
}

/** Registrations in order, with what each replaced, so a caller can undo its own. */
const journal: (() => void)[] = [];

export function registerValueSet(vs: ValueSet): void {
  load();
  const url = vs.url!;
  const previous = valueSets.get(url);
  const previousExpansion = expansions!.get(url);
  journal.push(() => {
    if (previous) valueSets.set(url, previous);
    else valueSets.delete(url);
    if (previousExpansion) expansions!.set(url, previousExpansion);
  });
  valueSets.set(url, vs);
  if (vs.expansion) expansions!.set(url, vs);
  else expansions!.delete(url);
  sets.clear();
}

export function registerCodeSystem(cs: CodeSystem): void {
  load();
  const url = cs.url!;
  const previous = codeSystems.get(url);
  journal.push(() => (previous ? codeSystems.set(url, previous) : codeSystems.delete(url)));
  codeSystems.set(url, cs);
  sets.clear();
}

export function terminologyMark(): number {
  return journal.length;
}

export function rollbackTerminology(mark: number): void {
  while (journal.length > mark) journal.pop()!();
  sets.clear();
}

export function knownValueSet(url: string): boolean {
  load();
  return valueSets.has(url.split('|')[0]!);
}

export function codeSystem(url: string): CodeSystem | undefined {
  load();
  return codeSystems.get(url);
}

function addContains(set: CodeSet, list: ValueSetExpansionContains[] | undefined): void {
  for (const c of list ?? []) {
    if (c.code && !c.abstract) {
      set.codes.add(c.code);
      set.pairs.add(`${c.system}|${c.code}`);
      if (c.system) set.systems.add(c.system);
    }
    addContains(set, c.contains);
  }
}

function addConcepts(set: CodeSet, system: string, list: CodeSystemConcept[] | undefined): void {
  for (const c of list ?? []) {
    set.codes.add(c.code);
    set.pairs.add(`${system}|${c.code}`);
    addConcepts(set, system, c.concept);
  }
}

function fromCompose(vs: ValueSet, set: CodeSet, depth: number): boolean {
  if (depth > 8 || !vs.compose || vs.compose.exclude?.length) return false;
  for (const inc of vs.compose.include) {
    if (inc.filter?.length) return false;
    for (const ref of inc.valueSet ?? []) {
      const inner = valueSets.get(ref.split('|')[0]!);
      if (!inner || !fromCompose(inner, set, depth + 1)) return false;
    }
    if (!inc.system) continue;
    set.systems.add(inc.system);
    if (inc.concept?.length) {
      for (const c of inc.concept) {
        set.codes.add(c.code);
        set.pairs.add(`${inc.system}|${c.code}`);
      }
    } else {
      const cs = codeSystems.get(inc.system);
      if (!cs || cs.content !== 'complete') return false;
      addConcepts(set, inc.system, cs.concept);
    }
  }
  return true;
}

/** The code set of a ValueSet canonical (version suffix ignored), or undefined if unknown. */
export function codeSet(canonical: string): CodeSet | undefined {
  const url = canonical.split('|')[0]!;
  let set = sets.get(url);
  if (set === undefined) {
    load();
    const vs = valueSets.get(url);
    const exp = expansions!.get(url);
    set = { url, name: vs?.name ?? exp?.name ?? url, pairs: new Set(), codes: new Set(), systems: new Set() };
    // the shipped expansion is only trusted when the compose is closed over known code systems
    // (the Mime Types expansion, for one, lists a handful of an open-ended grammar)
    if (!vs || !fromCompose(vs, set, 0)) set = null;
    else if (exp?.expansion) addContains(set, exp.expansion.contains);
    sets.set(url, set);
  }
  return set ?? undefined;
}
