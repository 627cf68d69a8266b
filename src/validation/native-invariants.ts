/**
 * Hand-written versions of the R4 invariants that run on nearly every resource and that the
 * general engine evaluates slowly (ref-1 on every Reference) or not at all (dom-3, whose
 * `descendants().as(canonical)` fhirpath rejects). Keyed by key and exact expression, so a
 * profile that reuses a key with other logic still goes through fhirpath.
 */
type Run = (value: unknown, vars: Record<string, unknown>) => unknown[];
type Native = (value: unknown, vars: Record<string, unknown>, fhirpath: Run) => boolean | undefined;

const REF_1 =
  "ref-1|reference.startsWith('#').not() or (reference.substring(1).trace('url') in %rootResource.contained.id.trace('ids'))";
const PER_1 = 'per-1|start.hasValue().not() or end.hasValue().not() or (start <= end)';
const DOM_3 =
  "dom-3|contained.where((('#'+id in (%resource.descendants().reference | %resource.descendants().as(canonical) | %resource.descendants().as(uri) | %resource.descendants().as(url))) or descendants().where(reference = '#').exists() or descendants().where(as(canonical) = '#').exists() or descendants().where(as(canonical) = '#').exists()).not()).trace('unmatched', id).empty()";

function containedIds(root: unknown): unknown[] {
  const c = (root as { contained?: unknown } | null)?.contained;
  return Array.isArray(c) ? c.map((r) => (r as { id?: unknown } | null)?.id) : [];
}

const NARRATIVE_LINK = /\b(?:src|href)\s*=\s*["'](#[^"']*)["']/g;

/**
 * Every string value starting with '#' below `v` (local references, canonicals, uris), and the
 * `#…` links of narrative images and anchors: a contained Binary shown in the narrative is used.
 */
function localRefs(v: unknown, out: Set<string>, depth: number): void {
  if (depth > 64) return;
  if (typeof v === 'string') {
    if (v.charCodeAt(0) === 35) out.add(v);
    else if (v.startsWith('<div') && v.includes('#')) for (const m of v.matchAll(NARRATIVE_LINK)) out.add(m[1]!);
  } else if (Array.isArray(v)) {
    for (const x of v) localRefs(x, out, depth + 1);
  } else if (typeof v === 'object' && v !== null) {
    for (const k in v) localRefs((v as Record<string, unknown>)[k], out, depth + 1);
  }
}

const OBS_7 = 'obs-7|value.empty() or component.code.where(coding.intersect(%resource.code.coding).exists()).empty()';

export const NATIVE_CHECKS: Record<string, Native> = {
  [OBS_7]: (v, vars, fhirpath) => {
    const o = v as Record<string, unknown>;
    if (o.component === undefined) return true;
    let hasValue = false;
    for (const k in o) if (k.startsWith('value')) hasValue = true;
    if (!hasValue) return true;
    const r = fhirpath(v, vars);
    return r.length !== 1 || r[0] !== false;
  },
  [REF_1]: (v, vars) => {
    const ref = (v as { reference?: unknown }).reference;
    if (typeof ref !== 'string' || ref.charCodeAt(0) !== 35) return true;
    if (ref === '#') return true; // a contained resource pointing back at its container
    return containedIds(vars.rootResource).includes(ref.slice(1));
  },
  [PER_1]: (v, vars, fhirpath) => {
    const { start, end } = v as { start?: unknown; end?: unknown };
    if (typeof start !== 'string' || typeof end !== 'string') return true;
    // same precision and zone form: the strings order as the instants do
    if (start.length === end.length && start.slice(19) === end.slice(19)) return start <= end;
    const r = fhirpath(v, vars);
    return r.length !== 1 || r[0] !== false;
  },
  [DOM_3]: (v) => {
    const contained = (v as { contained?: unknown }).contained;
    if (!Array.isArray(contained) || contained.length === 0) return true;
    const refs = new Set<string>();
    localRefs(v, refs, 0);
    for (const c of contained) {
      const id = (c as { id?: unknown } | null)?.id;
      if (typeof id !== 'string') continue;
      if (refs.has(`#${id}`)) continue;
      const back = new Set<string>();
      localRefs(c, back, 0);
      if (!back.has('#')) return false;
    }
    return true;
  },
};
