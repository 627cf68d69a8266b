import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { CodeSystem, CodeSystemConcept, Coding, ConceptMap } from 'fhir/r4';

/**
 * Code translation and lookup over the project's conformance resources in `profiles/`
 * (ConceptMaps and CodeSystems), read once on first use. Every format mapper translates
 * source codes here instead of carrying a private table, so a mapping change is a data change.
 */

export interface ConceptInfo {
  code: string;
  display?: string;
  /** Property values by property code (a property may repeat, e.g. `sex`). */
  properties: Record<string, (string | boolean | number)[]>;
}

interface Loaded {
  maps: Map<string, Map<string, Map<string, Coding[]>>>; // url → source system → code → targets
  systems: Map<string, Map<string, ConceptInfo>>; // url → code → concept
  rawSystems: Map<string, CodeSystem>;
}

let loaded: Loaded | undefined;
let profilesDir: string | undefined;

/** Where `profiles/` is: the repository root above this file, or PROFILES_DIR. */
export function defaultProfilesDir(): string {
  if (process.env.PROFILES_DIR) return process.env.PROFILES_DIR;
  let dir = __dirname;
  while (!existsSync(join(dir, 'profiles')) && dirname(dir) !== dir) dir = dirname(dir);
  return join(dir, 'profiles');
}

/** Point the lookup at another folder (tests); the next call reloads. */
export function useProfilesDir(dir: string): void {
  profilesDir = dir;
  loaded = undefined;
}

function flatten(concepts: CodeSystemConcept[] | undefined, into: Map<string, ConceptInfo>): void {
  for (const c of concepts ?? []) {
    const properties: ConceptInfo['properties'] = {};
    for (const p of c.property ?? []) {
      const v = p.valueCode ?? p.valueString ?? p.valueBoolean ?? p.valueInteger ?? p.valueDecimal;
      if (v !== undefined) (properties[p.code] ??= []).push(v);
    }
    into.set(c.code, { code: c.code, ...(c.display ? { display: c.display } : {}), properties });
    flatten(c.concept, into);
  }
}

function load(): Loaded {
  if (loaded) return loaded;
  const dir = profilesDir ?? defaultProfilesDir();
  const l: Loaded = { maps: new Map(), systems: new Map(), rawSystems: new Map() };
  for (const f of readdirSync(dir).sort()) {
    if (f.startsWith('ConceptMap-') && f.endsWith('.json')) {
      const cm = JSON.parse(readFileSync(join(dir, f), 'utf8')) as ConceptMap;
      const bySystem = new Map<string, Map<string, Coding[]>>();
      for (const g of cm.group ?? []) {
        const byCode = bySystem.get(g.source ?? '') ?? new Map<string, Coding[]>();
        bySystem.set(g.source ?? '', byCode);
        for (const e of g.element ?? []) {
          const targets = (e.target ?? [])
            .filter((t) => t.code && t.equivalence !== 'unmatched' && t.equivalence !== 'disjoint')
            .map((t): Coding => ({ system: g.target, code: t.code, ...(t.display ? { display: t.display } : {}) }));
          byCode.set(e.code ?? '', targets);
        }
      }
      if (cm.url) l.maps.set(cm.url, bySystem);
    } else if (f.startsWith('CodeSystem-') && f.endsWith('.json')) {
      const cs = JSON.parse(readFileSync(join(dir, f), 'utf8')) as CodeSystem;
      const byCode = new Map<string, ConceptInfo>();
      flatten(cs.concept, byCode);
      if (cs.url) {
        l.systems.set(cs.url, byCode);
        l.rawSystems.set(cs.url, { ...cs, concept: undefined });
      }
    }
  }
  loaded = l;
  return l;
}

/**
 * The first target of `sourceCode` in the ConceptMap with this canonical URL, or undefined when
 * the map does not know the code (or says it has no match). `sourceSystem` narrows to one group.
 */
export function translate(conceptMapUrl: string, sourceCode: string, sourceSystem?: string): Coding | undefined {
  return translateAll(conceptMapUrl, sourceCode, sourceSystem)[0];
}

export function translateAll(conceptMapUrl: string, sourceCode: string, sourceSystem?: string): Coding[] {
  const map = load().maps.get(conceptMapUrl);
  if (!map) throw new Error(`unknown ConceptMap ${conceptMapUrl}`);
  if (sourceSystem !== undefined) return (map.get(sourceSystem)?.get(sourceCode) ?? []).map((c) => ({ ...c }));
  for (const byCode of map.values()) {
    const hit = byCode.get(sourceCode);
    if (hit) return hit.map((c) => ({ ...c }));
  }
  return [];
}

/** A concept of a CodeSystem in `profiles/`, with its properties; undefined if not there. */
export function lookup(system: string, code: string): ConceptInfo | undefined {
  return load().systems.get(system)?.get(code);
}

/** Whether this project carries the CodeSystem (with or without its concepts). */
export function hasCodeSystem(system: string): boolean {
  return load().systems.has(system);
}

/** The CodeSystem's metadata (without concepts), e.g. to tell `complete` from `not-present` content. */
export function codeSystemInfo(system: string): CodeSystem | undefined {
  return load().rawSystems.get(system);
}

/** A Coding in a project CodeSystem with its display filled in when the system knows the code. */
export function coding(system: string, code: string): Coding {
  const display = lookup(system, code)?.display;
  return { system, code, ...(display ? { display } : {}) };
}

/** The code whose display is this text (e.g. the portal's `Nữ` → GIOI_TINH `2`); Unicode forms compared alike. */
export function codeByDisplay(system: string, display: string): string | undefined {
  const want = display.normalize('NFC').trim().toLowerCase();
  for (const c of load().systems.get(system)?.values() ?? []) if (c.display?.normalize('NFC').toLowerCase() === want) return c.code;
  return undefined;
}
