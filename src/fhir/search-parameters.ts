import fhirpath from 'fhirpath';
import r4model from 'fhirpath/fhir-context/r4';
import { searchParameterDefinitions } from './definitions';
import { compilePath, type PathModel } from './simple-path';

export type SearchParamType = 'string' | 'token' | 'date' | 'reference' | 'quantity' | 'number' | 'uri';

/** A search parameter as it applies to one resource type, with its expression compiled for that type. */
export interface SearchParam {
  code: string;
  type: SearchParamType;
  /** The part of the (often shared) expression that concerns this resource type. */
  expression: string;
  /** Reference targets allowed by the definition. */
  targets: string[];
  /**
   * `X.where(resolve() is T)` cannot run synchronously in FHIRPath; it is compiled as `X` and the
   * reference type is checked while indexing instead.
   */
  resolveIs?: string;
  evaluate(resource: unknown): unknown[];
}

const SUPPORTED = new Set<string>(['string', 'token', 'date', 'reference', 'quantity', 'number', 'uri']);

/** Top-level `|` split that respects parentheses and quoted strings. */
export function splitUnion(expr: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote = false;
  let start = 0;
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i];
    if (c === "'" && expr[i - 1] !== '\\') quote = !quote;
    else if (!quote && c === '(') depth++;
    else if (!quote && c === ')') depth--;
    else if (!quote && depth === 0 && c === '|') {
      parts.push(expr.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(expr.slice(start).trim());
  return parts.filter(Boolean);
}

/** Does this union member apply to `type`? Members start with the type name, possibly inside parentheses. */
function appliesTo(part: string, type: string, base: string[]): boolean {
  const head = part.replace(/^\(+/, '');
  if (head.startsWith(`${type}.`) || head === type) return true;
  // Parameters on Resource/DomainResource apply to every type.
  return (base.includes('Resource') || base.includes('DomainResource')) && (head.startsWith('Resource.') || head.startsWith('DomainResource.'));
}

const RESOLVE_IS = /\.where\(resolve\(\) is (\w+)\)/;

/** A union member as it is evaluated for indexing: `.where(resolve() is T)` left to the indexer. */
export function withoutResolveIs(part: string): string {
  return part.replace(RESOLVE_IS, '');
}

let registry: Map<string, Map<string, SearchParam>> | undefined;
let commonParams: Map<string, Omit<SearchParam, 'expression' | 'evaluate'> & { parts: string[] }> | undefined;

function compile(parts: string[]): (resource: unknown) => unknown[] {
  const fns = parts.map((p) => compilePath(p, r4model as unknown as PathModel) ?? fhirpath.compile(p, r4model));
  return (resource) => {
    const out: unknown[] = [];
    for (const f of fns) for (const v of f(resource) as unknown[]) out.push(v);
    return out;
  };
}

function build(): Map<string, Map<string, SearchParam>> {
  const byType = new Map<string, Map<string, SearchParam>>();
  const common = new Map<string, Omit<SearchParam, 'expression' | 'evaluate'> & { parts: string[] }>();
  for (const sp of searchParameterDefinitions()) {
    if (!SUPPORTED.has(sp.type) || !sp.expression) continue;
    const all = splitUnion(sp.expression);
    if (sp.base.includes('Resource') || sp.base.includes('DomainResource')) {
      common.set(sp.code, { code: sp.code, type: sp.type as SearchParamType, targets: sp.target ?? [], parts: all });
      continue;
    }
    for (const type of sp.base) {
      const mine = all.filter((p) => appliesTo(p, type, sp.base));
      if (mine.length === 0) continue;
      let resolveIs: string | undefined;
      const parts = mine.map((p) => {
        const m = RESOLVE_IS.exec(p);
        if (m) resolveIs = m[1];
        return withoutResolveIs(p);
      });
      let params = byType.get(type);
      if (!params) byType.set(type, (params = new Map()));
      params.set(sp.code, {
        code: sp.code,
        type: sp.type as SearchParamType,
        expression: mine.join(' | '),
        targets: sp.target ?? [],
        ...(resolveIs ? { resolveIs } : {}),
        evaluate: lazy(() => compile(parts)),
      });
    }
  }
  commonParams = common;
  return byType;
}

/** Compile on first use: most types are never searched or written in a given deployment. */
function lazy(make: () => (r: unknown) => unknown[]): (r: unknown) => unknown[] {
  let fn: ((r: unknown) => unknown[]) | undefined;
  return (r) => (fn ??= make())(r);
}

const typeCache = new Map<string, Map<string, SearchParam>>();

/** Every indexed search parameter of `type`, including the common `_tag`, `_profile`, `_security`, `_source`. */
export function searchParamsFor(type: string): Map<string, SearchParam> {
  let params = typeCache.get(type);
  if (params) return params;
  registry ??= build();
  params = new Map(registry.get(type) ?? []);
  for (const [code, c] of commonParams!) {
    if (code === '_id' || code === '_lastUpdated') continue; // columns of the resource table
    const parts = c.parts.map((p) => p.replace(/^(Resource|DomainResource)\./, `${type}.`));
    params.set(code, { code, type: c.type, targets: c.targets, expression: parts.join(' | '), evaluate: lazy(() => compile(parts)) });
  }
  typeCache.set(type, params);
  return params;
}

export function searchParam(type: string, code: string): SearchParam | undefined {
  return searchParamsFor(type).get(code);
}
