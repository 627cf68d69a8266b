import { isResourceType } from '../../fhir/definitions';
import { badRequest, FhirError, issue, type Issue } from '../../fhir/outcome';
import { parseReference } from '../../fhir/reference';
import { searchParam, searchParamsFor, type SearchParam } from '../../fhir/search-parameters';

/**
 * A FHIR search, parsed and checked against the SearchParameter definitions: every criterion
 * knows its parameter's type, so the SQL builder never sees a raw string it has to interpret.
 */
export type Prefix = 'eq' | 'ne' | 'gt' | 'lt' | 'ge' | 'le' | 'sa' | 'eb' | 'ap';

export type Criterion =
  | { kind: 'param'; sp: SearchParam; modifier?: string; values: string[] }
  | { kind: 'missing'; sp: SearchParam | 'id' | 'lastUpdated'; missing: boolean }
  | { kind: 'id'; values: string[]; not?: boolean }
  | { kind: 'lastUpdated'; values: string[] }
  | { kind: 'chain'; sp: SearchParam; targetTypes: string[]; inner: Criterion[] /* OR over target types */ }
  | { kind: 'has'; sourceType: string; refParam: SearchParam; inner: Criterion }
  | { kind: 'type'; types: string[] };

export interface SortKey {
  param: SearchParam | '_id' | '_lastUpdated';
  desc: boolean;
}

export interface Include {
  sourceType: string;
  /** undefined means every reference parameter (`*`). */
  param?: SearchParam;
  targetType?: string;
  iterate: boolean;
}

export interface SearchQuery {
  /** undefined for a search across all types. */
  type?: string;
  criteria: Criterion[];
  sort: SortKey[];
  count: number;
  /** The `_count` asked for when it was more than MAX_COUNT (count is then MAX_COUNT). */
  countAsked?: number;
  offset: number;
  total: 'none' | 'estimate' | 'accurate';
  summary?: 'true' | 'false' | 'count' | 'data' | 'text';
  elements?: string[];
  include: Include[];
  revinclude: Include[];
  /** Parameters that were not understood and were ignored (reported back in the Bundle). */
  ignored: string[];
  /**
   * Set under AUTH_READ=own-facility: only resources tagged with this facility (the tag's
   * system and code), or with no facility, match, so `total` and paging count what is shown.
   */
  facility?: { system: string; code: string };
}

export const DEFAULT_COUNT = 20;
export const MAX_COUNT = 1000;

/** The warning a page carries when `_count` asked for more than one page may hold. */
export function countReducedIssue(asked: number): Issue {
  return issue('warning', 'informational', `_count=${asked} is more than the largest page (${MAX_COUNT}); ${MAX_COUNT} per page were returned`, '_count');
}
const RESULT_PARAMS = new Set(['_sort', '_count', '_offset', '_total', '_summary', '_elements', '_include', '_revinclude', '_include:iterate', '_revinclude:iterate', '_format', '_pretty', '_contained', '_containedType']);
const PREFIXES = new Set<Prefix>(['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap']);
const MODIFIERS: Record<string, Set<string>> = {
  string: new Set(['exact', 'contains', 'missing']),
  token: new Set(['not', 'text', 'missing', 'above', 'below']),
  date: new Set(['missing']),
  number: new Set(['missing']),
  quantity: new Set(['missing']),
  reference: new Set(['missing', 'identifier']),
  uri: new Set(['missing', 'above', 'below']),
};

/** Splits on commas that are not escaped with a backslash (the spec's OR separator). */
export function splitOr(v: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < v.length; i++) {
    if (v[i] === '\\' && i + 1 < v.length) {
      cur += v[i]! + v[i + 1]!;
      i++;
    } else if (v[i] === ',') {
      out.push(cur);
      cur = '';
    } else cur += v[i];
  }
  out.push(cur);
  return out;
}

export function unescapeValue(v: string): string {
  return v.replace(/\\([\\,$|])/g, '$1');
}

/**
 * A token value: `[system]|[code]`. `system` undefined: no bar, any system; '' : `|code`, no
 * system; `code` '': `system|`, any code.
 */
export function splitToken(raw: string): { system: string | undefined; code: string } {
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === '\\') i++;
    else if (raw[i] === '|') return { system: unescapeValue(raw.slice(0, i)), code: unescapeValue(raw.slice(i + 1)) };
  }
  return { system: undefined, code: unescapeValue(raw) };
}

/**
 * A reference value (unescaped): a bare id (its type from the modifier, when one is given), a
 * `Type/id`, or an absolute URL; undefined for anything else.
 */
export function referenceTarget(v: string, modifier: string | undefined): { type?: string; id: string } | { url: string } | undefined {
  if (/^[A-Za-z0-9\-.]{1,64}$/.test(v)) return { id: v, ...(modifier ? { type: modifier } : {}) };
  const r = parseReference(v);
  if (r.type && r.id && !r.url) return { type: r.type, id: r.id };
  return /^[a-z][a-z0-9+.-]*:/i.test(v) ? { url: v } : undefined;
}

export type RawParams = [name: string, value: string][];

/**
 * What one search may ask of the store. Each bound keeps a request from building a query that
 * runs for minutes (1,000 `name=` criteria, a chain 200 links long); real searches stay far below.
 */
export interface SearchLimits {
  /** Parameters in one search, result parameters included. */
  maxParams: number;
  /** Comma-separated values of one parameter. */
  maxValues: number;
  /** Links in a chain (`subject.organization.name` has 2), `_has` nesting counted alike. */
  maxChain: number;
  /** `_include` and `_revinclude` parameters together. */
  maxIncludes: number;
}

export const DEFAULT_SEARCH_LIMITS: SearchLimits = { maxParams: 100, maxValues: 100, maxChain: 4, maxIncludes: 20 };

const tooCostly = (msg: string, name?: string) => new FhirError(400, [issue('error', 'too-costly', msg, name)]);

/** Refuses a search over the limits before any of it is parsed, so that parsing is bounded too. */
function checkLimits(params: RawParams, limits: SearchLimits): void {
  if (params.length > limits.maxParams) throw tooCostly(`the search has ${params.length} parameters; the limit is ${limits.maxParams} (maxParams)`);
  let includes = 0;
  for (const [name, value] of params) {
    if (name.startsWith('_include') || name.startsWith('_revinclude')) {
      if (++includes > limits.maxIncludes) throw tooCostly(`more than ${limits.maxIncludes} _include and _revinclude parameters (maxIncludes)`, name);
    }
    const values = splitOr(value).length;
    if (values > limits.maxValues) throw tooCostly(`'${name.slice(0, 100)}' has ${values} values; the limit is ${limits.maxValues} (maxValues)`, name.slice(0, 100));
    const links = name.split('.').length - 1 + name.split('_has:').length - 1;
    if (links > limits.maxChain) throw tooCostly(`'${name.slice(0, 100)}…' chains ${links} links; the limit is ${limits.maxChain} (maxChain)`, name.slice(0, 100));
  }
}

export function parseSearch(type: string | undefined, params: RawParams, strict = false, limits: SearchLimits = DEFAULT_SEARCH_LIMITS): SearchQuery {
  checkLimits(params, limits);
  const q: SearchQuery = { ...(type ? { type } : {}), criteria: [], sort: [], count: DEFAULT_COUNT, offset: 0, total: 'accurate', include: [], revinclude: [], ignored: [] };
  const fail = (msg: string, name: string) => {
    if (strict) throw badRequest(msg, name);
    q.ignored.push(name);
  };
  for (const [name, value] of params) {
    if (RESULT_PARAMS.has(name)) {
      parseResultParam(q, name, value);
      continue;
    }
    // A known parameter with an unusable value throws even when lenient: ignoring it would widen the result.
    const c = parseCriterion(type, name, value);
    if (c) q.criteria.push(c);
    else fail(`unknown search parameter '${name}' for ${type ?? 'a search across types'}`, name);
  }
  return q;
}

function parseResultParam(q: SearchQuery, name: string, value: string): void {
  switch (name) {
    case '_count': {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0) throw badRequest(`_count must be a non-negative integer`, '_count');
      q.count = Math.min(n, MAX_COUNT);
      if (n > MAX_COUNT) q.countAsked = n;
      return;
    }
    case '_offset': {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0 || n > 1_000_000) throw badRequest(`_offset must be an integer from 0 to 1000000`, '_offset');
      q.offset = n;
      return;
    }
    case '_total':
      if (value !== 'none' && value !== 'estimate' && value !== 'accurate') throw badRequest(`_total must be none, estimate or accurate`, '_total');
      q.total = value;
      return;
    case '_summary':
      if (!['true', 'false', 'count', 'data', 'text'].includes(value)) throw badRequest(`_summary must be true, false, count, data or text`, '_summary');
      q.summary = value as SearchQuery['summary'];
      return;
    case '_elements':
      q.elements = value.split(',').map((s) => s.trim()).filter(Boolean);
      return;
    case '_sort':
      for (const key of value.split(',').filter(Boolean)) q.sort.push(parseSortKey(q.type, key));
      return;
    case '_include':
    case '_revinclude':
    case '_include:iterate':
    case '_revinclude:iterate': {
      const inc = parseInclude(value, name, name.endsWith(':iterate'));
      (name.startsWith('_include') ? q.include : q.revinclude).push(inc);
      return;
    }
    default:
      return; // _format, _pretty: handled by the HTTP layer
  }
}

function parseSortKey(type: string | undefined, key: string): SortKey {
  const desc = key.startsWith('-');
  const code = desc ? key.slice(1) : key;
  if (code === '_id' || code === '_lastUpdated') return { param: code, desc };
  const sp = type ? searchParam(type, code) : undefined;
  if (!sp) throw badRequest(`cannot sort by '${code}': not a search parameter of ${type ?? 'every type'}`, '_sort');
  return { param: sp, desc };
}

function parseInclude(value: string, name: string, iterate: boolean): Include {
  const [sourceType, code, targetType] = value.split(':');
  if (!sourceType || !isResourceType(sourceType)) throw badRequest(`${name}: '${sourceType}' is not a resource type`, name);
  if (targetType && !isResourceType(targetType)) throw badRequest(`${name}: '${targetType}' is not a resource type`, name);
  if (code === '*') return { sourceType, iterate, ...(targetType ? { targetType } : {}) };
  const sp = code ? searchParam(sourceType, code) : undefined;
  if (!sp || sp.type !== 'reference') throw badRequest(`${name}: '${code}' is not a reference search parameter of ${sourceType}`, name);
  return { sourceType, param: sp, iterate, ...(targetType ? { targetType } : {}) };
}

/** Parses one `name=value` pair; undefined when the name is not a parameter of `type`. */
export function parseCriterion(type: string | undefined, name: string, value: string): Criterion | undefined {
  if (name.startsWith('_has:')) return parseHas(type, name, value);
  const [head, ...chainRest] = name.split('.');
  const [code, modifier] = head!.split(':') as [string, string | undefined];

  if (code === '_id') {
    if (modifier === 'missing') return { kind: 'missing', sp: 'id', missing: value === 'true' };
    if (modifier && modifier !== 'not') throw badRequest(`modifier ':${modifier}' is not supported on _id`, name);
    return { kind: 'id', values: splitOr(value).map(unescapeValue), ...(modifier === 'not' ? { not: true } : {}) };
  }
  if (code === '_lastUpdated') {
    if (modifier) throw badRequest(`modifier ':${modifier}' is not supported on _lastUpdated`, name);
    return { kind: 'lastUpdated', values: splitOr(value) };
  }
  if (code === '_type' && !type) return { kind: 'type', types: value.split(',').filter((t) => isResourceType(t)) };
  if (!type) {
    // Across types only the common parameters apply; check them against any one type.
    const sp = searchParam('Patient', code);
    if (!sp || !code.startsWith('_')) return undefined;
  }
  const sp = searchParam(type ?? 'Patient', code);
  if (!sp) return undefined;

  if (chainRest.length > 0) {
    if (sp.type !== 'reference') throw badRequest(`'${code}' is not a reference parameter and cannot be chained`, name);
    const targets = modifier ? [modifier] : sp.targets;
    if (modifier && !isResourceType(modifier)) throw badRequest(`':${modifier}' is not a resource type`, name);
    const innerName = chainRest.join('.');
    const inner: Criterion[] = [];
    const types: string[] = [];
    for (const t of targets) {
      const c = parseCriterion(t, innerName, value);
      if (c) {
        inner.push(c);
        types.push(t);
      }
    }
    if (inner.length === 0) throw badRequest(`chained parameter '${innerName}' is not known on ${targets.join(', ')}`, name);
    return { kind: 'chain', sp, targetTypes: types, inner };
  }

  if (modifier === 'missing') {
    if (value !== 'true' && value !== 'false') throw badRequest(`:missing takes true or false`, name);
    return { kind: 'missing', sp, missing: value === 'true' };
  }
  if (modifier) {
    const isTypeModifier = sp.type === 'reference' && isResourceType(modifier);
    if (!isTypeModifier && !MODIFIERS[sp.type]!.has(modifier)) throw badRequest(`modifier ':${modifier}' is not supported on ${sp.type} parameter '${code}'`, name);
  }
  const values = splitOr(value);
  for (const v of values) checkValue(sp, v, name);
  return { kind: 'param', sp, ...(modifier ? { modifier } : {}), values };
}

function parseHas(type: string | undefined, name: string, value: string): Criterion {
  // _has:Observation:patient:code=1234 (the rest may itself be a _has)
  const m = /^_has:([A-Za-z]+):([A-Za-z0-9\-_]+):(.+)$/.exec(name);
  if (!m || !type) throw badRequest(`malformed _has parameter`, name);
  const [, sourceType, refCode, rest] = m;
  if (!isResourceType(sourceType!)) throw badRequest(`_has: '${sourceType}' is not a resource type`, name);
  const refParam = searchParam(sourceType!, refCode!);
  if (!refParam || refParam.type !== 'reference') throw badRequest(`_has: '${refCode}' is not a reference parameter of ${sourceType}`, name);
  const inner = parseCriterion(sourceType, rest!, value);
  if (!inner) throw badRequest(`_has: '${rest}' is not a search parameter of ${sourceType}`, name);
  return { kind: 'has', sourceType: sourceType!, refParam, inner };
}

export function splitPrefix(v: string): [Prefix, string] {
  const p = v.slice(0, 2) as Prefix;
  return PREFIXES.has(p) && /^[a-z]{2}[\d-]/.test(v) ? [p, v.slice(2)] : ['eq', v];
}

const NUMBER_RE = /^[+-]?(\d+(\.\d+)?|\.\d+)([eE][+-]?\d+)?$/;

function checkValue(sp: SearchParam, v: string, name: string): void {
  if (v.length > 2048) throw badRequest(`value of '${name}' is too long`, name);
  switch (sp.type) {
    case 'date': {
      const [, d] = splitPrefix(v);
      if (!/^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/.test(d)) throw badRequest(`'${v}' is not a valid date for '${name}'`, name);
      return;
    }
    case 'number':
    case 'quantity': {
      const [, rest] = splitPrefix(v);
      const num = sp.type === 'quantity' ? rest.split('|')[0]! : rest;
      if (!NUMBER_RE.test(num)) throw badRequest(`'${v}' is not a valid ${sp.type} for '${name}'`, name);
      return;
    }
    default:
      return;
  }
}

export { searchParamsFor };
