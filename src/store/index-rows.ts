import { dateRange, MAX_TIME, MIN_TIME, iso } from '../fhir/dates';
import { parseReference } from '../fhir/reference';
import { searchParamsFor, type SearchParam } from '../fhir/search-parameters';
import { normalizeText } from '../fhir/text';

/**
 * Resource → the rows of the search index, one per indexed value. Pure: the store decides
 * how to write them. Values are told apart by their JSON shape (a CodeableConcept has
 * `coding`, an Identifier `value`, a Period `start`/`end`, …), which is what FHIRPath returns.
 */
export interface IndexRows {
  string: [param: string, norm: string, exact: string][];
  token: [param: string, system: string | null, code: string | null, display: string | null][];
  date: [param: string, lo: string, hi: string][];
  number: [param: string, value: number][];
  quantity: [param: string, value: number, system: string | null, code: string | null, unit: string | null][];
  reference: [param: string, targetType: string | null, targetId: string | null, url: string | null][];
  uri: [param: string, value: string][];
}

export const INDEX_TABLES = ['string', 'token', 'date', 'number', 'quantity', 'reference', 'uri'] as const;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
// Index values are capped: a multi-megabyte string would bloat the index and btree keys have a size limit.
const MAX_INDEXED = 512;
const cap = (s: string) => (s.length > MAX_INDEXED ? s.slice(0, MAX_INDEXED) : s);

export function emptyRows(): IndexRows {
  return { string: [], token: [], date: [], number: [], quantity: [], reference: [], uri: [] };
}

export function indexResource(resource: Obj, localBases: string[] = []): IndexRows {
  const rows = emptyRows();
  const type = resource.resourceType as string;
  for (const sp of searchParamsFor(type).values()) {
    let values: unknown[];
    try {
      values = sp.evaluate(resource);
    } catch {
      // An expression that cannot evaluate on this instance indexes nothing; validation reports bad shape.
      continue;
    }
    for (const v of values) addValue(rows, sp, v, localBases);
    if (sp.type === 'string' && NAME_PARAMS.has(sp.code) && PERSON_TYPES.has(type)) addNameWords(rows, sp, values);
  }
  return rows;
}

/**
 * Marks a row that holds one word of a longer name, not a whole value: `:exact` compares whole
 * values only and `_sort` ignores these rows. FHIR strings are never empty, so it is unambiguous.
 */
const WORD_ROW = '';

/** Where names are people's names: these types' HumanName parameters (the migration names the same). */
const PERSON_TYPES = new Set(['Patient', 'Person', 'Practitioner', 'RelatedPerson']);
const NAME_PARAMS = new Set(['name', 'phonetic', 'given', 'family']);

/**
 * People are called by the last word of their given name ("Thị Thu Hương" → "Hương"), so every
 * word of a HumanName (and of a `given`/`family` value) gets a row of its own: `name=huong` and
 * `given=thu` match any word start, still case- and accent-insensitively. One row per distinct word.
 * The migration that back-fills stored names applies the same rule in SQL: keep them together.
 */
function addNameWords(rows: IndexRows, sp: SearchParam, values: unknown[]): void {
  const parts = values.flatMap(stringsOf);
  const seen = new Set<string>();
  for (const s of parts) {
    const norm = normalizeText(s);
    if (!norm.includes(' ')) continue; // a one-word value is already its own whole-value row
    for (const w of norm.split(' ')) {
      if (seen.has(w)) continue;
      seen.add(w);
      rows.string.push([sp.code, cap(w), WORD_ROW]);
    }
  }
}

function addValue(rows: IndexRows, sp: SearchParam, v: unknown, localBases: string[]): void {
  const p = sp.code;
  switch (sp.type) {
    case 'string':
      for (const s of stringsOf(v)) rows.string.push([p, cap(normalizeText(s)), cap(s)]);
      return;
    case 'token':
      tokensOf(p, v, rows);
      return;
    case 'date': {
      const r = rangeOf(v);
      if (r) rows.date.push([p, iso(r.lo), iso(r.hi)]);
      return;
    }
    case 'number':
      if (typeof v === 'number') rows.number.push([p, v]);
      return;
    case 'quantity':
      if (isObj(v) && typeof v.value === 'number') {
        if (typeof v.currency === 'string') rows.quantity.push([p, v.value, 'urn:iso:std:iso:4217', v.currency, v.currency]);
        else rows.quantity.push([p, v.value, str(v.system), str(v.code), str(v.unit)]);
      }
      return;
    case 'reference':
      referencesOf(sp, v, rows, localBases);
      return;
    case 'uri':
      if (typeof v === 'string') rows.uri.push([p, cap(v)]);
      return;
  }
}

function stringsOf(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (!isObj(v)) return [];
  const out: string[] = [];
  // HumanName and Address: every part is searchable, as is the whole text.
  for (const k of ['text', 'family', 'given', 'prefix', 'suffix', 'line', 'city', 'district', 'state', 'postalCode', 'country']) {
    const x = v[k];
    if (typeof x === 'string') out.push(x);
    else if (Array.isArray(x)) for (const y of x) if (typeof y === 'string') out.push(y);
  }
  return out;
}

function tokensOf(p: string, v: unknown, rows: IndexRows): void {
  if (typeof v === 'string' || typeof v === 'boolean' || typeof v === 'number') {
    rows.token.push([p, null, cap(String(v)), null]);
    return;
  }
  if (!isObj(v)) return;
  if (Array.isArray(v.coding) || typeof v.text === 'string') {
    // CodeableConcept: each coding, and the text for :text searches.
    const text = str(v.text);
    const codings = Array.isArray(v.coding) ? v.coding.filter(isObj) : [];
    for (const c of codings) rows.token.push([p, str(c.system), str(c.code), str(c.display)]);
    if (text) rows.token.push([p, null, null, cap(text)]);
    return;
  }
  if ('code' in v) {
    rows.token.push([p, str(v.system), str(v.code), str(v.display)]); // Coding
    return;
  }
  if ('value' in v) {
    // Identifier (system|value) or ContactPoint (phone|number).
    const typeText = isObj(v.type) ? str(v.type.text) : null;
    rows.token.push([p, str(v.system), typeof v.value === 'string' ? cap(v.value) : null, typeText]);
  }
}

function rangeOf(v: unknown): { lo: number; hi: number } | undefined {
  if (typeof v === 'string') return dateRange(v);
  if (!isObj(v)) return undefined;
  if ('start' in v || 'end' in v) {
    // Period: an open end is unbounded on that side.
    const s = typeof v.start === 'string' ? dateRange(v.start) : undefined;
    const e = typeof v.end === 'string' ? dateRange(v.end) : undefined;
    if (!s && !e) return undefined;
    return { lo: s?.lo ?? MIN_TIME, hi: e?.hi ?? MAX_TIME };
  }
  if (Array.isArray(v.event)) {
    // Timing: from the first event to the last.
    const rs = v.event.map((x) => (typeof x === 'string' ? dateRange(x) : undefined)).filter((x) => x !== undefined);
    if (rs.length === 0) return undefined;
    return { lo: Math.min(...rs.map((r) => r.lo)), hi: Math.max(...rs.map((r) => r.hi)) };
  }
  return undefined;
}

function referencesOf(sp: SearchParam, v: unknown, rows: IndexRows, localBases: string[]): void {
  const p = sp.code;
  if (typeof v === 'string') {
    // canonical or uri used as a reference
    rows.reference.push([p, null, null, cap(v)]);
    return;
  }
  if (!isObj(v)) return;
  if (typeof v.reference === 'string' && !v.reference.startsWith('#')) {
    const r = parseReference(v.reference, localBases);
    if (sp.resolveIs && r.type !== sp.resolveIs) return;
    rows.reference.push([p, r.type ?? null, r.url ? null : (r.id ?? null), r.url ? cap(r.url) : null]);
  }
  // Reference.identifier is searchable with the :identifier modifier.
  if (isObj(v.identifier)) tokensOf(`${p}:identifier`, v.identifier, rows);
}
