import { isResourceType } from '../fhir/definitions';
import type { ElementRule } from './model';
import type { BundleRule, Walk } from './walk';

/**
 * References: the target type against the element's targetProfile, and inside a Bundle,
 * resolution against the entries' fullUrls (documents and messages must be self-contained).
 */
export interface BundleScope {
  bundle: unknown;
  type: string;
  /** fullUrl → resource type of the entry. */
  byFullUrl: Map<string, string>;
  /** `Type/id` → how many entries carry it. */
  byTypeId: Map<string, number>;
  /** Entry resource → the profiles the policy's bundle rules add to it. */
  entryProfiles: Map<unknown, string[]>;
}

const RESTFUL = /^(?:(https?:\/\/.+)\/)?([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;
const UNIQUE_RELATIONS = new Set(['self', 'first', 'previous', 'prev', 'next', 'last']);
const UUID = /^urn:uuid:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export function enterBundle(w: Walk, bundle: Record<string, unknown>): BundleScope {
  const scope: BundleScope = { bundle, type: typeof bundle.type === 'string' ? bundle.type : '', byFullUrl: new Map(), byTypeId: new Map(), entryProfiles: new Map() };
  const entries = Array.isArray(bundle.entry) ? (bundle.entry as unknown[]) : [];
  const transactional = /^(transaction|batch|transaction-response|batch-response)$/.test(scope.type);
  const rels = new Set<string>();
  const links = Array.isArray(bundle.link) ? (bundle.link as Record<string, unknown>[]) : [];
  links.forEach((l, i) => {
    if (!l || typeof l.relation !== 'string') return;
    if (rels.has(l.relation) && UNIQUE_RELATIONS.has(l.relation)) {
      w.push('.link');
      w.push(i);
      w.report('error', 'invalid', `The link relationship type '${l.relation}' can only occur once`);
      w.pop();
      w.pop();
    }
    rels.add(l.relation);
  });
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i] as Record<string, unknown> | null;
    if (!e || typeof e !== 'object') continue;
    if (e.fullUrl === undefined && e.resource !== undefined && !transactional && scope.type !== 'searchset') {
      w.push('.entry');
      w.push(i);
      w.report('error', 'invalid', 'Except for transactions and batches, each entry in a Bundle must have a fullUrl which is the identity of the resource in the entry');
      w.pop();
      w.pop();
    }
    if (typeof e.fullUrl === 'string' && !/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(e.fullUrl)) {
      w.push('.entry');
      w.push(i);
      w.report('error', 'invalid', `The fullUrl must be an absolute URL (not '${e.fullUrl}')`);
      w.pop();
      w.pop();
    }
    const res = e.resource as Record<string, unknown> | undefined;
    const rt = res && typeof res.resourceType === 'string' ? res.resourceType : undefined;
    const id = res && typeof res.id === 'string' ? res.id : undefined;
    const fullUrl = typeof e.fullUrl === 'string' ? e.fullUrl : undefined;
    if (fullUrl && rt) scope.byFullUrl.set(fullUrl, rt);
    if (rt && id) scope.byTypeId.set(`${rt}/${id}`, (scope.byTypeId.get(`${rt}/${id}`) ?? 0) + 1);
    if (!fullUrl || !rt) continue;
    w.push('.entry');
    w.push(i);
    if (fullUrl.startsWith('urn:uuid:') && !UUID.test(fullUrl)) {
      w.report('error', 'invalid', `The fullUrl '${fullUrl}' is not a valid UUID URN`);
    } else {
      const m = RESTFUL.exec(fullUrl);
      if (m && m[1] && (m[2] !== rt || (id !== undefined && m[3] !== id))) {
        w.report('error', 'invalid', `The fullUrl '${fullUrl}' looks like a RESTful server URL, but the resource does not match (${rt}/${id ?? 'null'})`);
      }
    }
    w.pop();
    w.pop();
  }
  if (scope.type === 'document') checkDocumentGraph(w, entries, scope);
  if (w.policy.bundleRules.length) applyBundleRules(w.policy.bundleRules, entries, scope);
  return scope;
}

/**
 * Bundle rules (`Patient:0` = the first Patient entry, `Observation` = every Observation, `3` =
 * the fourth entry) name entries to check against a profile as well as their own.
 */
function applyBundleRules(rules: BundleRule[], entries: unknown[], scope: BundleScope): void {
  const seen = new Map<string, number>();
  entries.forEach((e, i) => {
    const res = (e as { resource?: unknown } | null)?.resource as { resourceType?: unknown } | undefined;
    if (!res || typeof res.resourceType !== 'string') return;
    const nth = seen.get(res.resourceType) ?? 0;
    seen.set(res.resourceType, nth + 1);
    const profiles = rules.filter(({ rule }) => {
      const [type, index] = /^\d+$/.test(rule) ? ['', rule] : rule.split(':');
      if (type && type !== res.resourceType) return false;
      return index === undefined || index === '' || Number(index) === (type ? nth : i);
    });
    if (profiles.length) scope.entryProfiles.set(res, profiles.map((r) => r.profile));
  });
}

function referencesIn(v: unknown, out: string[], depth: number): void {
  if (depth > 64 || typeof v !== 'object' || v === null) return;
  if (Array.isArray(v)) {
    for (const x of v) referencesIn(x, out, depth + 1);
    return;
  }
  for (const k in v) {
    const x = (v as Record<string, unknown>)[k];
    if (k === 'reference' && typeof x === 'string') out.push(x);
    else referencesIn(x, out, depth + 1);
  }
}

/**
 * Every entry of a document must be reachable from the Composition (first entry) by following
 * references in either direction.
 */
function checkDocumentGraph(w: Walk, entries: unknown[], scope: BundleScope): void {
  const index = new Map<string, number>();
  entries.forEach((e, i) => {
    const x = e as { fullUrl?: unknown; resource?: { resourceType?: unknown; id?: unknown } } | null;
    if (typeof x?.fullUrl === 'string') index.set(x.fullUrl, i);
    if (x?.resource && typeof x.resource.resourceType === 'string' && typeof x.resource.id === 'string') index.set(`${x.resource.resourceType}/${x.resource.id}`, i);
  });
  const links: number[][] = entries.map(() => []);
  entries.forEach((e, i) => {
    const refs: string[] = [];
    referencesIn((e as { resource?: unknown } | null)?.resource, refs, 0);
    for (const r of refs) {
      const j = index.get(r) ?? index.get(r.replace(/^.*\/([A-Z][A-Za-z]+\/[^/]+)$/, '$1'));
      if (j !== undefined && j !== i) {
        links[i]!.push(j);
        links[j]!.push(i);
      }
    }
  });
  const seen = new Set<number>([0]);
  const queue = [0];
  while (queue.length) for (const j of links[queue.pop()!]!) if (!seen.has(j)) (seen.add(j), queue.push(j));
  entries.forEach((e, i) => {
    if (seen.has(i) || !e) return;
    const fullUrl = (e as { fullUrl?: unknown }).fullUrl;
    w.push('.entry');
    w.push(i);
    w.report('error', 'business-rule', `Entry '${String(fullUrl ?? i)}' isn't reachable by traversing links (forward or backward) from the Composition`);
    w.pop();
    w.pop();
  });
  void scope;
}

function resolveInBundle(scope: BundleScope, ref: string): string | undefined {
  const direct = scope.byFullUrl.get(ref);
  if (direct) return direct;
  const m = RESTFUL.exec(ref);
  if (m && !m[1] && scope.byTypeId.has(`${m[2]}/${m[3]}`)) return m[2];
  if (m && !m[1]) {
    for (const [url, rt] of scope.byFullUrl) if (rt === m[2] && url.endsWith(`/${m[2]}/${m[3]}`)) return rt;
  }
  return undefined;
}

function containedResource(root: unknown, id: string): Record<string, unknown> | undefined {
  const c = (root as { contained?: unknown } | null)?.contained;
  if (!Array.isArray(c)) return undefined;
  return c.find((r) => (r as { id?: unknown } | null)?.id === id) as Record<string, unknown> | undefined;
}

/**
 * The type a reference points at, as far as it can be told here: a contained resource (given
 * too), a Bundle entry, the `type` element, or (by policy) the type named in a RESTful URL.
 * `missing` is set when the reference should have resolved locally and did not.
 */
export function referencedType(w: Walk, ref: Record<string, unknown>): { type?: string; resource?: Record<string, unknown>; missing?: string } {
  const s = ref.reference;
  if (typeof s === 'string' && s.length > 1 && s.startsWith('#')) {
    const resource = containedResource(w.vars.rootResource, s.slice(1));
    return resource === undefined ? { missing: `Unable to resolve resource with reference '${s}'` } : { type: (resource.resourceType as string | undefined) ?? '', resource };
  }
  let type: string | undefined;
  let missing: string | undefined;
  if (typeof s === 'string' && !s.startsWith('#')) {
    const scope = w.bundle;
    // only references inside entries resolve against the bundle (not Bundle.signature etc.)
    if (scope && w.vars.resource !== scope.bundle) {
      type = resolveInBundle(scope, s);
      const document = scope.type === 'document';
      if (!type && (s.startsWith('urn:') || (document && !s.includes('?')))) missing = `Can't find '${s}' in the bundle`;
    }
    if (!type && w.policy.assumeValidRestReferences) type = RESTFUL.exec(s)?.[2];
  }
  if (!type && typeof ref.type === 'string') type = ref.type.replace('http://hl7.org/fhir/StructureDefinition/', '');
  return { type, missing };
}

export function checkReference(w: Walk, r: ElementRule, ref: Record<string, unknown>): void {
  const { type, missing } = referencedType(w, ref);
  if (missing) w.report('error', 'not-found', missing);
  if (type && r.targets && !r.targets.has(type) && isResourceType(type)) {
    w.report('error', 'structure', `The type '${type}' implied by the reference URL ${String(ref.reference ?? ref.type)} is not a valid Target for this element (must be one of [${[...r.targets].join(', ')}])`);
  }
}
