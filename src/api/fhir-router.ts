import type { ServerResponse } from 'node:http';
import express, { type Request, type Response } from 'express';
import type { Bundle, BundleEntry, Resource } from 'fhir/r4';
import { parseJsonBody } from '../fhir/json';
import { badRequest, FhirError, issue, toOperationOutcome } from '../fhir/outcome';
import { applySummary } from '../fhir/summary';
import { findOperation } from '../operations';
import { operationServices, parseOperationInput } from '../operations/operation';
import type { CapabilityStatementRestSecurity } from 'fhir/r4';
import { writingFacility } from '../auth/rules';
import type { CardLookupService } from '../lookup/service';
import type { PatientLinker } from '../mpi/linker';
import type { BundleProcessor } from '../service/bundle';
import type { WriteContext } from '../service/provenance';
import { checkId, checkType, parseQueryString, type ResourceService, type WriteOutcome } from '../service/resources';
import type { SearchResult } from '../store/repository';
import { countReducedIssue, type RawParams } from '../store/search/query';
import type { AnyResource, StoredVersion } from '../store/types';
import { fhirBase, type PublicBase } from './base-url';
import { capabilityStatement } from './capability';
import { parseXmlBody, requestFormat, sendResource } from './format';

export interface FhirRouterDeps extends PublicBase {
  resources: ResourceService;
  bundles: BundleProcessor;
  lookup?: CardLookupService;
  defaultFacility: string;
  linker?: PatientLinker;
  /** `rest.security` of the capability statement, when the security layer is on. */
  capabilitySecurity?: (req: Request) => CapabilityStatementRestSecurity;
}

const etag = (v: number) => `W/"${v}"`;

function parseEtag(v: string | undefined, header: string): number | undefined {
  if (v === undefined) return undefined;
  const m = /^(?:W\/)?"(\d+)"$/.exec(v.trim());
  if (!m) throw badRequest(`${header} '${v}' is not a version ETag like W/"3"`);
  return Number(m[1]);
}

/** Query pairs in their original order, from the raw URL (Express folds repeats into arrays). */
function rawParams(req: Request): RawParams {
  const q = req.originalUrl.indexOf('?');
  return q < 0 ? [] : parseQueryString(req.originalUrl.slice(q + 1));
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** FHIR bodies are UTF-8; invalid bytes are an error, not silently replaced. */
function utf8(buf: Buffer): string {
  try {
    return strictUtf8.decode(buf);
  } catch {
    throw badRequest('the body is not valid UTF-8');
  }
}

function body(req: Request): unknown {
  const buf = req.body as Buffer | undefined;
  const format = requestFormat(req);
  if (!Buffer.isBuffer(buf) || buf.length === 0) throw badRequest('the request has no body');
  return format === 'xml' ? parseXmlBody(utf8(buf)) : parseJsonBody(utf8(buf));
}

function context(req: Request, deps: FhirRouterDeps): WriteContext {
  // The header may name the facility (the security layer lets only admins name another than the token's).
  const f = req.header('x-facility-code');
  if (f !== undefined && !/^[A-Za-z0-9_-]{1,32}$/.test(f)) throw badRequest('X-Facility-Code must be 1-32 letters, digits, - or _');
  return { facility: f ?? writingFacility(deps.defaultFacility), feed: 'rest' };
}

const base = fhirBase;

/** ETag and Last-Modified of a version (node's response: the fast path sends them too). */
export function versionHeaders(res: ServerResponse, v: { versionId: number; lastUpdated: string }): void {
  res.setHeader('ETag', etag(v.versionId));
  res.setHeader('Last-Modified', new Date(v.lastUpdated).toUTCString());
}

type Prefer = { return?: string; handling?: string };
function prefer(req: Request): Prefer {
  const out: Prefer = {};
  for (const part of (req.header('prefer') ?? '').split(/[;,]/)) {
    const [k, v] = part.trim().split('=');
    if (k === 'return' || k === 'handling') out[k] = v?.replace(/"/g, '');
  }
  return out;
}

/** Answers a write according to `Prefer: return=…`. */
function sendWrite(req: Request, res: Response, deps: FhirRouterDeps, o: WriteOutcome, created: boolean): void {
  const v = o.result.version;
  versionHeaders(res, v);
  const status = created ? 201 : 200;
  if (created || o.result.method === 'update') res.setHeader('Location', `${base(req, deps)}/${v.resourceType}/${v.id}/_history/${v.versionId}`);
  const p = prefer(req).return;
  if (p === 'minimal') {
    res.status(status).end();
  } else if (p === 'OperationOutcome') {
    sendResource(req, res, status, toOperationOutcome(o.issues.length ? o.issues : [issue('information', 'informational', `${v.resourceType}/${v.id} stored as version ${v.versionId}`)]));
  } else {
    sendResource(req, res, status, v.resource);
  }
}

function searchBundle(req: Request, deps: FhirRouterDeps, path: string, r: SearchResult): Bundle {
  const q = r.query;
  const b = base(req, deps);
  // Links carry the page size actually used, so following them gives what this page promised.
  const params = rawParams(req).filter(([k]) => k !== '_offset' && k !== '_count' && !q.ignored.includes(k));
  const link = (offset: number) => {
    const qs = [...params, ['_count', String(q.count)], ['_offset', String(offset)]].map(([k, v]) => `${encodeURIComponent(k!)}=${encodeURIComponent(v!)}`).join('&');
    return `${b}/${path}?${qs}`;
  };
  const links: Bundle['link'] = [{ relation: 'self', url: link(q.offset) }];
  if (r.hasMore) links.push({ relation: 'next', url: link(q.offset + q.count) });
  if (q.offset > 0) links.push({ relation: 'previous', url: link(Math.max(0, q.offset - q.count)) });
  const shape = (m: AnyResource) => applySummary(m, q.summary, q.elements) as unknown as Resource;
  const entry: BundleEntry[] = [
    ...r.matches.map((m) => ({ fullUrl: `${b}/${m.resourceType}/${m.id}`, resource: shape(m), search: { mode: 'match' as const } })),
    ...r.included.map((m) => ({ fullUrl: `${b}/${m.resourceType}/${m.id}`, resource: shape(m), search: { mode: 'include' as const } })),
  ];
  const warnings = [
    ...q.ignored.map((n) => issue('warning', 'not-supported', `search parameter '${n}' is not known and was ignored`, n)),
    ...(q.countAsked !== undefined ? [countReducedIssue(q.countAsked)] : []),
  ];
  if (warnings.length > 0) entry.push({ resource: toOperationOutcome(warnings), search: { mode: 'outcome' } });
  return { resourceType: 'Bundle', type: 'searchset', ...(r.total !== undefined ? { total: r.total } : {}), link: links, ...(entry.length ? { entry } : {}) };
}

function historyBundle(req: Request, deps: FhirRouterDeps, versions: StoredVersion[], total: number): Bundle {
  const b = base(req, deps);
  return {
    resourceType: 'Bundle',
    type: 'history',
    total,
    link: [{ relation: 'self', url: `${b}${req.path}` }],
    entry: versions.map((v) => ({
      fullUrl: `${b}/${v.resourceType}/${v.id}`,
      ...(v.resource ? { resource: v.resource as Resource } : {}),
      request: { method: v.deleted ? 'DELETE' : v.versionId === 1 ? 'POST' : 'PUT', url: v.versionId === 1 ? v.resourceType : `${v.resourceType}/${v.id}` },
      response: { status: v.deleted ? '204' : v.versionId === 1 ? '201' : '200', etag: etag(v.versionId), lastModified: v.lastUpdated },
    })),
  };
}

export function fhirRouter(deps: FhirRouterDeps): express.Router {
  const r = express.Router();
  const { resources, bundles } = deps;
  const services = operationServices(deps);

  const doSearch = async (req: Request, res: Response, type: string | undefined, params: RawParams) => {
    const strict = prefer(req).handling === 'strict';
    const result = await resources.search(type, params, strict);
    sendResource(req, res, 200, searchBundle(req, deps, type ?? '', result));
  };

  const history = async (req: Request, res: Response, type?: string, id?: string) => {
    const p = new Map(rawParams(req));
    const count = Math.min(Number(p.get('_count') ?? 50), 1000);
    const offset = Number(p.get('_offset') ?? 0);
    const since = p.get('_since');
    if (!Number.isInteger(count) || count < 0 || !Number.isInteger(offset) || offset < 0) throw badRequest('_count and _offset must be non-negative integers');
    if (since !== undefined && Number.isNaN(Date.parse(since))) throw badRequest(`_since '${since}' is not an instant`, '_since');
    if (type) checkType(type);
    if (id) checkId(id);
    const h = await resources.repo.history({ ...(type ? { type } : {}), ...(id ? { id } : {}), ...(since ? { since } : {}), count, offset });
    if (id && h.total === 0) throw new FhirError(404, `${type}/${id} is not known`, 'not-found');
    sendResource(req, res, 200, historyBundle(req, deps, h.versions, h.total));
  };

  const operation = async (req: Request, res: Response, code: string, type?: string, id?: string) => {
    const level = id ? 'instance' : type ? 'type' : 'system';
    const op = findOperation(code, level, type);
    if (!op) throw new FhirError(404, `operation $${code} is not supported at ${level} level${type ? ` on ${type}` : ''}`, 'not-supported');
    if (type) checkType(type);
    const hasBody = Buffer.isBuffer(req.body) && (req.body as Buffer).length > 0;
    const input = parseOperationInput(op.definition, rawParams(req), req.method === 'POST' && hasBody ? body(req) : undefined);
    const lang = req.header('accept-language');
    const out = await op.handle({ ...input, ...(type ? { resourceType: type } : {}), ...(id ? { id } : {}), base: base(req, deps), ...(lang ? { acceptLanguage: lang } : {}) }, services);
    for (const [k, v] of Object.entries(out.headers ?? {})) res.setHeader(k, v);
    if ('resource' in out) sendResource(req, res, out.status ?? 200, out.resource);
    else sendResource(req, res, out.status ?? 200, undefined, out);
  };

  r.get('/metadata', (req, res) => sendResource(req, res, 200, capabilityStatement(base(req, deps), deps.capabilitySecurity?.(req))));

  r.post('/', async (req, res) => {
    sendResource(req, res, 200, await bundles.process(body(req), context(req, deps)));
  });
  r.get('/', (req, res) => doSearch(req, res, undefined, rawParams(req)));
  r.get('/_history', (req, res) => history(req, res));

  r.all('/:first', async (req, res, next) => {
    const first = req.params.first!;
    if (first.startsWith('$')) return operation(req, res, first.slice(1));
    return next();
  });

  r.get('/:type/_history', (req, res) => history(req, res, req.params.type));
  r.post('/:type/_search', async (req, res) => {
    const form = Buffer.isBuffer(req.body) ? parseQueryString((req.body as Buffer).toString('utf8')) : [];
    await doSearch(req, res, req.params.type, [...rawParams(req), ...form]);
  });
  r.get('/:type/:id/_history', (req, res) => history(req, res, req.params.type, req.params.id));
  r.get('/:type/:id/_history/:vid', async (req, res) => {
    const v = await resources.vread(req.params.type!, req.params.id!, req.params.vid!);
    versionHeaders(res, v);
    sendResource(req, res, 200, v.resource);
  });
  r.all('/:type/:id/:op', async (req, res, next) => {
    if (!req.params.op!.startsWith('$')) return next();
    return operation(req, res, req.params.op!.slice(1), req.params.type, req.params.id);
  });

  r.get('/:type', (req, res) => doSearch(req, res, req.params.type, rawParams(req)));
  r.post('/:type', async (req, res) => {
    const type = req.params.type!;
    if (type.startsWith('$')) return operation(req, res, type.slice(1));
    const o = await resources.create(body(req), context(req, deps), type, req.header('if-none-exist'));
    if (o.matchedExisting) {
      versionHeaders(res, o.result.version);
      return sendResource(req, res, 200, o.result.version.resource);
    }
    sendWrite(req, res, deps, o, true);
  });
  r.put('/:type', async (req, res) => {
    const criteria = rawParams(req).filter(([k]) => !k.startsWith('_format') && k !== '_pretty');
    if (criteria.length === 0) throw badRequest('PUT on a type needs search criteria (conditional update)');
    const o = await resources.conditionalUpdate(body(req), context(req, deps), req.params.type!, criteria);
    sendWrite(req, res, deps, o, !o.result.existed);
  });
  r.delete('/:type', async (req, res) => {
    const criteria = rawParams(req).filter(([k]) => !k.startsWith('_format') && k !== '_pretty');
    await resources.conditionalDelete(req.params.type!, criteria);
    res.status(204).end();
  });

  r.get('/:type/:id', async (req, res) => {
    const { type, id } = req.params as { type: string; id: string };
    if (id.startsWith('$')) return operation(req, res, id.slice(1), type);
    const v = await resources.read(type, id);
    versionHeaders(res, v);
    const inm = req.header('if-none-match');
    if (inm !== undefined && parseEtag(inm, 'If-None-Match') === v.versionId) return void res.status(304).end();
    const summary = typeof req.query._summary === 'string' ? req.query._summary : undefined;
    const elements = typeof req.query._elements === 'string' ? req.query._elements.split(',') : undefined;
    if (summary || elements) return sendResource(req, res, 200, applySummary(JSON.parse(v.json), summary, elements));
    sendResource(req, res, 200, undefined, { json: v.json });
  });
  r.post('/:type/:id', async (req, res) => {
    const { type, id } = req.params as { type: string; id: string };
    if (!id.startsWith('$')) throw new FhirError(405, `POST is not allowed on ${type}/${id}; use PUT to update`, 'not-supported');
    return operation(req, res, id.slice(1), type);
  });
  r.put('/:type/:id', async (req, res) => {
    const { type, id } = req.params as { type: string; id: string };
    const o = await resources.update(body(req), context(req, deps), type, id, parseEtag(req.header('if-match'), 'If-Match'));
    sendWrite(req, res, deps, o, !o.result.existed);
  });
  r.patch('/:type/:id', async (req, res) => {
    const { type, id } = req.params as { type: string; id: string };
    const ct = (req.header('content-type') ?? '').split(';')[0]!.trim();
    if (ct !== 'application/json-patch+json') throw new FhirError(415, `PATCH takes application/json-patch+json (got '${ct}')`, 'not-supported');
    const ops = parseJsonBody(utf8(req.body as Buffer));
    const o = await resources.patch(ops, context(req, deps), type, id, parseEtag(req.header('if-match'), 'If-Match'));
    sendWrite(req, res, deps, o, false);
  });
  r.delete('/:type/:id', async (req, res) => {
    const { type, id } = req.params as { type: string; id: string };
    await resources.delete(type, id, parseEtag(req.header('if-match'), 'If-Match'));
    res.status(204).end();
  });

  return r;
}

