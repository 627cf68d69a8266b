import type { SearchParameter } from 'fhir/r4';
import { searchParameterDefinitions } from '../fhir/definitions';
import { listOf } from '../fhir/json';
import type { Walk } from './walk';

/**
 * Conformance resources that name the core search parameters must agree with them: a
 * SearchParameter derived from one keeps its type and resource types, and a
 * CapabilityStatement declares a search parameter with the type of the definition it cites.
 */
type Json = Record<string, unknown>;

let byUrl: Map<string, SearchParameter> | undefined;
function coreSearchParameter(url: unknown): SearchParameter | undefined {
  if (typeof url !== 'string') return undefined;
  byUrl ??= new Map(searchParameterDefinitions().map((sp) => [sp.url, sp]));
  return byUrl.get(url.split('|')[0]!);
}

export function validateSearchParameter(w: Walk, sp: Json): void {
  const parent = coreSearchParameter(sp.derivedFrom);
  if (!parent) return;
  if (typeof sp.type === 'string' && sp.type !== parent.type) {
    w.report('error', 'business-rule', `The type ${sp.type} is different to the type ${parent.type} of ${parent.url}, the SearchParameter this is derived from`);
  }
  for (const base of Array.isArray(sp.base) ? sp.base : []) {
    if (typeof base === 'string' && !parent.base.includes(base as never)) {
      w.report('error', 'business-rule', `The resource type ${base} is not listed as a base in the SearchParameter this is derived from (${parent.url})`);
    }
  }
}

export function validateCapabilityStatement(w: Walk, cs: Json): void {
  listOf(cs.rest).forEach((rest, ri) =>
    listOf(rest.resource).forEach((res, xi) =>
      listOf(res.searchParam).forEach((p, pi) => {
        const def = coreSearchParameter(p.definition);
        if (def && typeof p.type === 'string' && p.type !== def.type) {
          w.reportAt(['.rest', ri, '.resource', xi, '.searchParam', pi], 'error', 'business-rule', `Type mismatch - SearchParameter '${String(p.definition)}' type is ${def.type}, but type here is ${p.type}`);
        }
      }),
    ),
  );
}
