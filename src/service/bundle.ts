import { randomUUID } from 'node:crypto';
import type { Bundle, BundleEntry, BundleEntryResponse } from 'fhir/r4';
import { badRequest, FhirError, toOperationOutcome, type Issue } from '../fhir/outcome';
import type { Queryable } from '../store/db';
import type { AnyResource, WriteResult } from '../store/types';
import type { PendingWrite } from '../store/writer';
import type { WriteContext } from './provenance';
import { checkId, checkType, parseQueryString, type ResourceService } from './resources';

/**
 * Bundles of type `transaction` (all or nothing, in one database transaction) and `batch`
 * (each entry on its own), following the spec's processing rules:
 * - POST entries get new ids; their `fullUrl` (often `urn:uuid:`) is rewritten wherever a
 *   reference points at it;
 * - conditional references (`Patient?identifier=…`) are resolved to exactly one resource;
 * - entries run in the order DELETE, POST, PUT/PATCH, GET.
 */
export type EntryResult = { response: BundleEntryResponse; resource?: AnyResource };

/** The request fields that are strings in R4 but that a client may send as anything. */
const CONDITIONAL_FIELDS = ['ifMatch', 'ifNoneMatch', 'ifNoneExist', 'ifModifiedSince'] as const;

const ORDER: Record<string, number> = { DELETE: 0, POST: 1, PUT: 2, PATCH: 2, GET: 3, HEAD: 3 };

interface Planned {
  index: number;
  method: string;
  type: string;
  id?: string;
  /** search criteria of a conditional create/update/delete */
  criteria?: [string, string][];
  resource?: AnyResource;
  ifMatch?: number;
}

function splitUrl(url: string): { type: string; id?: string; query?: string } {
  const [path, query] = url.replace(/^\//, '').split('?', 2) as [string, string | undefined];
  const [type, id, ...rest] = path.split('/');
  if (!type || rest.length > 0) throw badRequest(`request.url '${url}' is not of the form Type, Type/id or Type?criteria`);
  return { type, ...(id ? { id } : {}), ...(query !== undefined ? { query } : {}) };
}

function parseIfMatch(v: string | undefined): number | undefined {
  if (!v) return undefined;
  const m = /^(?:W\/)?"?(\d+)"?$/.exec(v.trim());
  if (!m) throw badRequest(`If-Match '${v}' is not a version ETag`);
  return Number(m[1]);
}

/** Replaces every `reference` equal to a key of `map`, anywhere in the resource. */
export function rewriteReferences(node: unknown, map: Map<string, string>): void {
  if (Array.isArray(node)) {
    for (const x of node) rewriteReferences(x, map);
  } else if (node && typeof node === 'object') {
    const o = node as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      const v = o[k];
      if (k === 'reference' && typeof v === 'string') {
        const target = map.get(v);
        if (target) o[k] = target;
      } else if (typeof v === 'object') rewriteReferences(v, map);
    }
  }
}

function collectConditionalRefs(node: unknown, out: Set<string>): void {
  if (Array.isArray(node)) for (const x of node) collectConditionalRefs(x, out);
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === 'reference' && typeof v === 'string' && /^[A-Z][A-Za-z]+\?/.test(v)) out.add(v);
      else if (typeof v === 'object') collectConditionalRefs(v, out);
    }
  }
}

export interface TransactionOptions {
  /** The commit need not wait for the disk (the caller can redo the transaction after a crash). */
  relaxedCommit?: boolean;
  /** Runs last inside the transaction; throwing rolls the whole transaction back. */
  beforeCommit?: (tx: Queryable) => Promise<void>;
}

export class BundleProcessor {
  constructor(private readonly service: ResourceService) {}

  async process(body: unknown, ctx: WriteContext, opts?: TransactionOptions): Promise<Bundle> {
    const bundle = body as Bundle;
    if (!bundle || typeof bundle !== 'object' || bundle.resourceType !== 'Bundle') throw badRequest('the body must be a Bundle', 'Bundle');
    if (bundle.type !== 'transaction' && bundle.type !== 'batch') throw badRequest(`only transaction and batch Bundles can be posted to the base (got '${String(bundle.type)}')`, 'Bundle.type');
    if (bundle.entry !== undefined && !Array.isArray(bundle.entry)) throw badRequest('Bundle.entry must be an array', 'Bundle.entry');
    const entries = bundle.entry ?? [];
    return bundle.type === 'transaction' ? this.transaction(entries, ctx, opts) : this.batch(entries, ctx);
  }

  private plan(entry: BundleEntry, index: number): Planned {
    const where = `Bundle.entry[${index}]`;
    const req = entry?.request;
    if (!req || typeof req !== 'object' || typeof req.method !== 'string' || typeof req.url !== 'string') throw badRequest(`entry has no request.method and request.url`, `${where}.request`);
    for (const f of CONDITIONAL_FIELDS) {
      if (req[f] !== undefined && typeof req[f] !== 'string') throw badRequest(`request.${f} must be a string`, `${where}.request.${f}`);
    }
    if (entry.fullUrl !== undefined && typeof entry.fullUrl !== 'string') throw badRequest('fullUrl must be a string', `${where}.fullUrl`);
    const method = req.method.toUpperCase();
    if (!(method in ORDER)) throw badRequest(`request.method '${req.method}' is not supported`, `${where}.request.method`);
    const { type, id, query } = splitUrl(req.url);
    checkType(type);
    if (id) checkId(id);
    const p: Planned = { index, method, type, ...(id ? { id } : {}) };
    if (query !== undefined && method !== 'GET') p.criteria = parseQueryString(query);
    if (method === 'POST' && req.ifNoneExist) p.criteria = parseQueryString(req.ifNoneExist);
    const ifMatch = parseIfMatch(req.ifMatch);
    if (ifMatch !== undefined) p.ifMatch = ifMatch;
    if (method === 'POST' || method === 'PUT' || method === 'PATCH') {
      if (!entry.resource) throw badRequest(`a ${method} entry needs a resource`, `${where}.resource`);
      // The bundle was parsed for this request alone, so its resources can be rewritten in place.
      p.resource = entry.resource as AnyResource;
    }
    if (method === 'PUT' && !id && !p.criteria) throw badRequest(`PUT needs Type/id or Type?criteria`, `${where}.request.url`);
    if (method === 'DELETE' && !id && !p.criteria) throw badRequest(`DELETE needs Type/id or Type?criteria`, `${where}.request.url`);
    return p;
  }

  private async transaction(entries: BundleEntry[], ctx: WriteContext, opts?: TransactionOptions): Promise<Bundle> {
    const planned = entries.map((e, i) => this.plan(e, i));
    if (planned.some((p) => p.method === 'PATCH')) throw badRequest('PATCH entries are not supported inside a transaction; use PUT', 'Bundle.entry');
    const { results, responses } = await this.service.repo.db.transaction(async (tx) => {
      const fullUrls = new Map<string, string>();
      const responses: EntryResult[] = new Array(planned.length);
      const writes: { p: Planned; write: PendingWrite; issues: Issue[] }[] = [];

      // Identities first, so that any entry may reference any other; conditions are locked
      // before they are searched, so that concurrent bundles with the same condition write once.
      await this.service.repo.lockConditions(planned.filter((p) => p.criteria && p.method !== 'GET').map((p) => ({ type: p.type, criteria: p.criteria! })), tx);
      for (const p of planned) {
        const entry = entries[p.index]!;
        if (p.method === 'POST') {
          if (p.criteria) {
            const ids = await this.service.repo.matchIds(p.type, p.criteria, tx);
            if (ids.length > 1) throw new FhirError(412, [{ severity: 'error', code: 'multiple-matches', diagnostics: `ifNoneExist matched ${ids.length} resources`, expression: `Bundle.entry[${p.index}].request.ifNoneExist` }]);
            if (ids.length === 1) {
              p.id = ids[0];
              p.method = 'MATCHED';
            }
          }
          p.id ??= randomUUID();
        } else if ((p.method === 'PUT' || p.method === 'DELETE') && p.criteria) {
          const ids = await this.service.repo.matchIds(p.type, p.criteria, tx);
          if (ids.length > 1) throw new FhirError(412, [{ severity: 'error', code: 'multiple-matches', diagnostics: `conditional ${p.method} matched ${ids.length} resources`, expression: `Bundle.entry[${p.index}].request.url` }]);
          p.id = ids[0] ?? (p.method === 'PUT' ? ((p.resource?.id as string | undefined) ?? randomUUID()) : undefined);
        }
        if (entry.fullUrl && p.id) fullUrls.set(entry.fullUrl, `${p.type}/${p.id}`);
      }

      // Conditional references resolve against what is stored (in this transaction).
      const conditional = new Set<string>();
      for (const p of planned) if (p.resource) collectConditionalRefs(p.resource, conditional);
      for (const ref of conditional) {
        const [type, query] = ref.split('?', 2) as [string, string];
        checkType(type);
        const ids = await this.service.repo.matchIds(type, parseQueryString(query), tx);
        // Nothing found is most often load order: the bundle came before the reference data it points to.
        const why = ids.length === 0 ? `; store what it points to first (shared reference data such as ${type} before the bundles that refer to it)` : '';
        if (ids.length !== 1) throw new FhirError(ids.length === 0 ? 404 : 412, [{ severity: 'error', code: ids.length === 0 ? 'not-found' : 'multiple-matches', diagnostics: `conditional reference '${ref}' matched ${ids.length} resources; it must match exactly one${why}` }]);
        fullUrls.set(ref, `${type}/${ids[0]}`);
      }

      for (const p of [...planned].sort((a, b) => (ORDER[a.method] ?? 1) - (ORDER[b.method] ?? 1))) {
        const where = `Bundle.entry[${p.index}].resource.`;
        if (p.method === 'MATCHED') {
          responses[p.index] = { response: { status: '200 OK', location: `${p.type}/${p.id}` } };
          continue;
        }
        if (p.method === 'DELETE') {
          if (p.id) writes.push({ p, write: { method: 'delete', resourceType: p.type, id: p.id, ...(p.ifMatch !== undefined ? { ifMatch: p.ifMatch } : {}) }, issues: [] });
          else responses[p.index] = { response: { status: '204 No Content' } };
          continue;
        }
        if (p.method === 'GET' || p.method === 'HEAD') continue;
        rewriteReferences(p.resource, fullUrls);
        const body = { ...p.resource!, id: p.id } as AnyResource;
        if (p.method === 'PUT' && p.resource!.id !== undefined && p.resource!.id !== p.id) throw badRequest(`resource id '${String(p.resource!.id)}' does not match request.url`, `${where}id`);
        const { resource, issues } = this.service.prepare(body, ctx, p.type, where);
        writes.push({ p, write: { method: p.method === 'POST' ? 'create' : 'update', resourceType: p.type, id: p.id!, resource, ...(p.ifMatch !== undefined ? { ifMatch: p.ifMatch } : {}) }, issues });
      }

      const results = await this.service.commit(writes.map((w) => w.write), tx);
      results.forEach((r, i) => {
        const { p, issues } = writes[i]!;
        responses[p.index] = { response: entryResponse(r, issues) };
      });
      for (const p of planned) {
        if (p.method !== 'GET' && p.method !== 'HEAD') continue;
        responses[p.index] = await this.get(entries[p.index]!.request!.url, tx);
      }
      await opts?.beforeCommit?.(tx);
      return { results, responses };
    }, opts);
    await this.service.invalidate(results);
    return { resourceType: 'Bundle', type: 'transaction-response', entry: responses.map((r) => ({ response: r.response, ...(r.resource ? { resource: r.resource } : {}) })) } as Bundle;
  }

  /** Each entry independently; a failure becomes that entry's OperationOutcome. */
  private async batch(entries: BundleEntry[], ctx: WriteContext): Promise<Bundle> {
    const out: BundleEntry[] = [];
    for (let i = 0; i < entries.length; i++) {
      try {
        out.push(await this.batchEntry(entries[i]!, i, ctx));
      } catch (e) {
        const err = e instanceof FhirError ? e : new FhirError(500, 'internal error while processing this entry', 'exception');
        out.push({ response: { status: String(err.status), outcome: err.outcome() } });
      }
    }
    return { resourceType: 'Bundle', type: 'batch-response', entry: out } as Bundle;
  }

  private async batchEntry(entry: BundleEntry, index: number, ctx: WriteContext): Promise<BundleEntry> {
    const p = this.plan(entry, index);
    const s = this.service;
    switch (p.method) {
      case 'GET':
      case 'HEAD': {
        const r = await this.get(entry.request!.url);
        return { response: r.response, ...(r.resource ? { resource: r.resource } : {}) };
      }
      case 'POST': {
        const o = await s.create(p.resource, ctx, p.type, entry.request!.ifNoneExist);
        return { response: o.matchedExisting ? { status: '200 OK', location: `${p.type}/${o.result.version.id}` } : entryResponse(o.result, o.issues) };
      }
      case 'PUT': {
        const o = p.criteria ? await s.conditionalUpdate(p.resource, ctx, p.type, p.criteria) : await s.update(p.resource, ctx, p.type, p.id!, p.ifMatch);
        return { response: entryResponse(o.result, o.issues) };
      }
      case 'PATCH': {
        const body = p.resource as unknown as { resourceType?: string; parameter?: unknown };
        if (body.resourceType !== 'Binary') throw badRequest('PATCH entries carry a Binary with a JSON Patch');
        const data = (p.resource as unknown as { data?: string }).data;
        const ops = JSON.parse(Buffer.from(data ?? '', 'base64').toString('utf8'));
        const o = await s.patch(ops, ctx, p.type, p.id!, p.ifMatch);
        return { response: entryResponse(o.result, o.issues) };
      }
      case 'DELETE': {
        if (p.criteria) await s.conditionalDelete(p.type, p.criteria);
        else await s.delete(p.type, p.id!);
        return { response: { status: '204 No Content' } };
      }
    }
    throw badRequest(`request.method '${p.method}' is not supported`);
  }

  private async get(url: string, tx?: Queryable): Promise<EntryResult> {
    const { type, id, query } = splitUrl(url);
    if (id) {
      const v = await this.service.repo.read(type, id, tx);
      if (!v || v.deleted) return { response: { status: '404 Not Found' } };
      return { response: { status: '200 OK', etag: `W/"${v.versionId}"`, lastModified: v.lastUpdated }, resource: v.resource! };
    }
    const r = await this.service.search(type, parseQueryString(query ?? ''), false, tx);
    const searchset = { resourceType: 'Bundle', type: 'searchset', ...(r.total !== undefined ? { total: r.total } : {}), entry: r.matches.map((m) => ({ resource: m, search: { mode: 'match' } })) };
    return { response: { status: '200 OK' }, resource: searchset as unknown as AnyResource };
  }
}

function entryResponse(r: WriteResult, issues: Issue[]): BundleEntryResponse {
  const v = r.version;
  return {
    status: r.method === 'delete' ? '204 No Content' : r.existed ? '200 OK' : '201 Created',
    location: `${v.resourceType}/${v.id}/_history/${v.versionId}`,
    etag: `W/"${v.versionId}"`,
    lastModified: v.lastUpdated,
    ...(issues.length > 0 ? { outcome: toOperationOutcome(issues) } : {}),
  };
}

