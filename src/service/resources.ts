import { randomUUID } from 'node:crypto';
import jsonpatch, { type Operation } from 'fast-json-patch';
import { isResourceType } from '../fhir/definitions';
import { badRequest, FhirError, hasErrors, issue, notFound, type Issue } from '../fhir/outcome';
import type { Cache } from '../cache/cache';
import type { Queryable } from '../store/db';
import type { Repository, SearchResult } from '../store/repository';
import type { RawParams } from '../store/search/query';
import type { AnyResource, StoredVersion, WriteResult } from '../store/types';
import type { PendingWrite } from '../store/writer';
import { compartmentKey } from '../store/compartment-version';
import { checkWrites, visibleFacility } from '../auth/rules';
import { checkTaskWrites } from './task-workflow';
import { checkSubscriptionWrites } from '../subscriptions/rules';
import { stampProvenance, type WriteContext } from './provenance';

/** `mapped`: the gateway produced the resource itself (see WriteContext). */
export type Validator = (resource: unknown, origin: { mapped: boolean }) => Issue[];

/** What a write answers with: the stored version and any warnings the validator had. */
export interface WriteOutcome {
  result: WriteResult;
  issues: Issue[];
  /** true when a conditional create found the resource already there. */
  matchedExisting?: boolean;
}

/** A current version as the cache and the read path hold it: metadata plus the JSON text. */
export interface ReadResult {
  versionId: number;
  lastUpdated: string;
  json: string;
}

const ID_RE = /^[A-Za-z0-9\-.]{1,64}$/;

/** Whether `id` has FHIR's id shape (which also means it needs no URL decoding). */
export const hasIdShape = (id: string): boolean => ID_RE.test(id);

export function checkType(type: string): void {
  if (!isResourceType(type)) throw new FhirError(404, `'${type}' is not a FHIR R4 resource type`, 'not-supported');
}

export function checkId(id: string): void {
  if (!hasIdShape(id)) throw badRequest(`'${id}' is not a valid resource id (1-64 of A-Z a-z 0-9 - .)`);
  // FHIR's id pattern allows them, but as URL path segments they mean "this" and "parent":
  // `Patient/..` cannot be linked to, and a proxy or client normalises it to another resource.
  if (id === '.' || id === '..') throw badRequest(`'${id}' is not accepted as a resource id: it is a relative path segment`);
}

/**
 * The one road into the store: every write (REST, bundles, feeds) is shaped, stamped with its
 * provenance, validated, written, and then invalidated in the cache here. Reads go through the
 * cache first.
 */
export class ResourceService {
  constructor(
    readonly repo: Repository,
    readonly cache: Cache,
    private readonly validate: Validator,
    private readonly cacheTtlSeconds = 300,
  ) {}

  // ---- reads ----

  async read(type: string, id: string): Promise<ReadResult> {
    checkType(type);
    checkId(id);
    const key = `${type}/${id}`;
    const hit = await this.cache.get(key);
    if (hit) {
      const nl = hit.payload.indexOf('\n');
      return { versionId: hit.version, lastUpdated: hit.payload.slice(0, nl), json: hit.payload.slice(nl + 1) };
    }
    const v = await this.repo.read(type, id);
    if (!v) throw notFound(`${key} is not known`);
    if (v.deleted) throw new FhirError(410, `${key} was deleted`, 'deleted');
    const json = JSON.stringify(v.resource);
    await this.cache.put(key, v.versionId, `${v.lastUpdated}\n${json}`, this.cacheTtlSeconds);
    return { versionId: v.versionId, lastUpdated: v.lastUpdated, json };
  }

  async vread(type: string, id: string, versionId: string): Promise<StoredVersion> {
    checkType(type);
    checkId(id);
    const n = Number(versionId);
    if (!Number.isInteger(n) || n < 1) throw notFound(`version '${versionId}' of ${type}/${id} is not known`);
    const v = await this.repo.vread(type, id, n);
    if (!v) throw notFound(`version ${versionId} of ${type}/${id} is not known`);
    if (v.deleted) throw new FhirError(410, `version ${versionId} of ${type}/${id} is a deletion`, 'deleted');
    return v;
  }

  search(type: string | undefined, params: RawParams, strict = false, q?: Queryable): Promise<SearchResult> {
    if (type) checkType(type);
    const query = this.repo.parse(type, params, strict);
    const facility = visibleFacility();
    if (facility) query.facility = facility;
    return this.repo.search(query, q);
  }

  // ---- writes ----

  /**
   * Checks and stamps a resource for writing. Throws 400 for a resource that is not one,
   * 422 with the validator's issues for one with errors; returns the warnings.
   */
  prepare(body: unknown, ctx: WriteContext, expectedType?: string, location = ''): { resource: AnyResource; issues: Issue[] } {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('the body must be a FHIR resource (a JSON object)', location || undefined);
    const resource = body as AnyResource;
    if (typeof resource.resourceType !== 'string' || !isResourceType(resource.resourceType)) {
      throw badRequest(`resourceType '${String(resource.resourceType)}' is not a FHIR R4 resource type`, `${location}resourceType`);
    }
    if (expectedType && resource.resourceType !== expectedType) {
      throw badRequest(`resourceType '${resource.resourceType}' does not match the URL's type '${expectedType}'`, `${location}resourceType`);
    }
    // Inside a bundle, `Patient.name[0]` is reported as `Bundle.entry[3].resource.name[0]`.
    const type = resource.resourceType;
    const at = (e: string) => location.replace(/\.$/, '') + (e.startsWith(type) ? e.slice(type.length) : `.${e}`);
    const issues = this.validate(resource, { mapped: ctx.mapped === true }).map((i) => (location && i.expression ? { ...i, expression: at(i.expression) } : i));
    if (hasErrors(issues)) throw new FhirError(422, issues);
    return { resource: stampProvenance(resource, ctx), issues };
  }

  /** Writes and, once committed, invalidates the cache on every instance. */
  async commit(writes: PendingWrite[], tx?: Queryable): Promise<WriteResult[]> {
    const read = async (type: string, id: string) => {
      const v = await this.repo.read(type, id, tx);
      return v && !v.deleted ? v.resource : undefined;
    };
    // Referral Tasks move only along the workflow's table, by the side whose move it is.
    const vouched = await checkTaskWrites(writes, read);
    checkSubscriptionWrites(writes, this.subscriptionHosts);
    // The client's scopes and facility, on every road into the store (no-op without a principal).
    await checkWrites(writes, read, vouched);
    const results = await this.repo.write(writes, tx);
    if (!tx) await this.invalidate(results);
    return results;
  }

  async invalidate(results: WriteResult[]): Promise<void> {
    const entries = results.map((r) => [`${r.version.resourceType}/${r.version.id}`, r.version.versionId] as [string, number]);
    const compartments = new Map<string, number>();
    for (const r of results) for (const [id, v] of r.compartments ?? []) compartments.set(compartmentKey(id), Math.max(v, compartments.get(compartmentKey(id)) ?? 0));
    entries.push(...compartments);
    if (entries.length > 0) await this.cache.invalidate(entries, this.cacheTtlSeconds);
    // ---- MPI hook (issue #12): every committed write, REST or bundle, passes here once ----
    if (this.afterCommit && results.length > 0) await this.afterCommit(results);
  }

  /** SUBSCRIPTION_ALLOWED_HOSTS: rest-hook targets allowed over plain http or inside the network. */
  subscriptionHosts: string[] = [];

  /** Runs after each committed write (the MPI matches and links Patients here); set by the gateway. */
  afterCommit?: (results: WriteResult[]) => Promise<void>;

  async create(body: unknown, ctx: WriteContext, type: string, ifNoneExist?: string): Promise<WriteOutcome> {
    checkType(type);
    const { resource, issues } = this.prepare(body, ctx, type);
    const write: PendingWrite = { method: 'create', resourceType: type, id: randomUUID(), resource };
    if (ifNoneExist === undefined) {
      const [result] = await this.commit([write]);
      return { result: result!, issues };
    }
    return this.conditionally(type, parseQueryString(ifNoneExist), async (ids, tx) => {
      if (ids.length > 1) throw new FhirError(412, `If-None-Exist matched ${ids.length} resources`, 'multiple-matches');
      if (ids.length === 1) {
        const v = await this.repo.read(type, ids[0]!, tx);
        return { result: { method: 'create', existed: true, version: v! }, issues, matchedExisting: true };
      }
      const [result] = await this.commit([write], tx);
      return { result: result!, issues };
    });
  }

  async update(body: unknown, ctx: WriteContext, type: string, id: string, ifMatch?: number): Promise<WriteOutcome> {
    const { write, issues } = this.updateWrite(body, ctx, type, id, ifMatch);
    const [result] = await this.commit([write]);
    return { result: result!, issues };
  }

  private updateWrite(body: unknown, ctx: WriteContext, type: string, id: string, ifMatch?: number): { write: PendingWrite; issues: Issue[] } {
    checkType(type);
    checkId(id);
    const r = body as AnyResource;
    if (r && typeof r === 'object' && r.id === undefined) throw badRequest('the resource must carry the id of the URL it is PUT to', 'id');
    if (r && typeof r === 'object' && r.id !== id) throw badRequest(`resource id '${String(r.id)}' does not match the URL's id '${id}'`, 'id');
    const { resource, issues } = this.prepare(body, ctx, type);
    return { write: { method: 'update', resourceType: type, id, resource, ...(ifMatch !== undefined ? { ifMatch } : {}) }, issues };
  }

  async conditionalUpdate(body: unknown, ctx: WriteContext, type: string, criteria: RawParams): Promise<WriteOutcome> {
    checkType(type);
    return this.conditionally(type, criteria, async (ids, tx) => {
      if (ids.length > 1) throw new FhirError(412, `the conditional update matched ${ids.length} resources`, 'multiple-matches');
      const bodyId = (body as AnyResource | null)?.id;
      if (ids.length === 1 && bodyId !== undefined && bodyId !== ids[0]) throw badRequest(`resource id '${String(bodyId)}' differs from the matched resource`, 'id');
      let planned: { write: PendingWrite; issues: Issue[] };
      if (ids.length === 1) planned = this.updateWrite({ ...(body as object), id: ids[0] }, ctx, type, ids[0]!);
      else if (bodyId !== undefined) planned = this.updateWrite(body, ctx, type, String(bodyId));
      else {
        const { resource, issues } = this.prepare(body, ctx, type);
        planned = { write: { method: 'create', resourceType: type, id: randomUUID(), resource }, issues };
      }
      const [result] = await this.commit([planned.write], tx);
      return { result: result!, issues: planned.issues };
    });
  }

  /**
   * A conditional write: the condition is locked, searched and acted on in one transaction, so
   * that of concurrent identical requests the first writes and the others find what it wrote.
   */
  private async conditionally(type: string, criteria: RawParams, act: (ids: string[], tx: Queryable) => Promise<WriteOutcome>): Promise<WriteOutcome> {
    const o = await this.repo.db.transaction(async (tx) => {
      await this.repo.lockConditions([{ type, criteria }], tx);
      return act(await this.repo.matchIds(type, criteria, tx), tx);
    });
    if (!o.matchedExisting) await this.invalidate([o.result]);
    return o;
  }

  async patch(ops: unknown, ctx: WriteContext, type: string, id: string, ifMatch?: number): Promise<WriteOutcome> {
    checkType(type);
    checkId(id);
    if (!Array.isArray(ops)) throw badRequest('a JSON Patch body is an array of operations');
    const current = await this.repo.read(type, id);
    if (!current || current.deleted) throw notFound(`${type}/${id} is not known`);
    let patched: unknown;
    try {
      const err = jsonpatch.validate(ops as Operation[], current.resource);
      if (err) throw err;
      patched = jsonpatch.applyPatch(structuredClone(current.resource), ops as Operation[], false, false, true).newDocument;
    } catch (e) {
      const test = (e as { name?: string }).name === 'TEST_OPERATION_FAILED';
      throw new FhirError(test ? 409 : 400, [issue('error', test ? 'conflict' : 'invalid', `JSON Patch failed: ${(e as Error).message.split('\n')[0]}`)]);
    }
    const p = patched as AnyResource;
    if (p.id !== id || p.resourceType !== type) throw badRequest('a patch may not change the resource type or id');
    return this.update(p, ctx, type, id, ifMatch ?? current.versionId);
  }

  async delete(type: string, id: string, ifMatch?: number): Promise<WriteResult> {
    checkType(type);
    checkId(id);
    const [result] = await this.commit([{ method: 'delete', resourceType: type, id, ...(ifMatch !== undefined ? { ifMatch } : {}) }]);
    return result!;
  }

  async conditionalDelete(type: string, criteria: RawParams): Promise<WriteResult[]> {
    checkType(type);
    if (criteria.length === 0) throw badRequest('a conditional delete needs search criteria');
    const results = await this.repo.db.transaction(async (tx) => {
      await this.repo.lockConditions([{ type, criteria }], tx);
      const ids = await this.repo.matchIds(type, criteria, tx);
      if (ids.length > 1) throw new FhirError(412, `the conditional delete matched ${ids.length} resources`, 'multiple-matches');
      return ids.length === 0 ? [] : this.commit([{ method: 'delete', resourceType: type, id: ids[0]! }], tx);
    });
    await this.invalidate(results);
    return results;
  }
}

/** `a=1&b=2` → pairs, for conditional headers and URLs. */
export function parseQueryString(qs: string): RawParams {
  const out: RawParams = [];
  for (const part of qs.replace(/^\?/, '').split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const dec = (s: string) => {
      let d: string;
      try {
        d = decodeURIComponent(s.replace(/\+/g, ' '));
      } catch {
        throw badRequest(`malformed URL encoding in '${s}'`);
      }
      if (d.includes('\u0000')) throw badRequest('NUL characters are not allowed in parameters');
      return d;
    };
    out.push(eq < 0 ? [dec(part), ''] : [dec(part.slice(0, eq)), dec(part.slice(eq + 1))]);
  }
  return out;
}
