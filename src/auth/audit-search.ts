import express, { type Request, type Response } from 'express';
import type { Bundle } from 'fhir/r4';
import { fhirBase, type PublicBase } from '../api/base-url';
import { sendResource } from '../api/format';
import { dateRange } from '../fhir/dates';
import { applySummary } from '../fhir/summary';
import { badRequest, FhirError, issue, toOperationOutcome, type Issue } from '../fhir/outcome';
import { parseQueryString } from '../service/resources';
import { countAuditRows, readAuditRow, searchAuditRows, type AuditFilter } from '../store/audit-events';
import type { Db } from '../store/db';
import { countReducedIssue, DEFAULT_COUNT, MAX_COUNT, splitOr, unescapeValue, type RawParams } from '../store/search/query';
import { auditEvent } from './audit';

/**
 * `AuditEvent` under AUTH=smart: answered from the audit table, not the resource store.
 * Search parameters: date, agent (Device/<client>), facility, patient, entity, action,
 * outcome, subtype, type, _id; _count, _offset, _sort (date or -date, newest first by
 * default), _summary=count, _total. The guard has already let only admins through; the
 * trail is written by the gateway alone, so every other interaction is refused.
 */
export interface AuditSearch {
  filter: AuditFilter;
  count: number;
  countAsked?: number;
  offset: number;
  newestFirst: boolean;
  summaryCount: boolean;
  total: boolean;
  elements?: string[];
  ignored: string[];
}

const OUTCOMES: Record<string, [number, number]> = { '0': [0, 400], '4': [400, 500], '8': [500, 600], '12': [600, 1000] };
const INTERACTION_SYSTEM = 'http://hl7.org/fhir/restful-interaction';
const ACTIONS = new Set(['C', 'R', 'U', 'D', 'E']);
const RESULT = new Set(['_count', '_offset', '_sort', '_summary', '_total', '_elements', '_format', '_pretty']);

const code = (v: string) => (v.includes('|') ? v.slice(v.indexOf('|') + 1) : v);

function dateFilter(value: string): AuditFilter['recorded'][number] {
  const m = /^(eq|ne|gt|lt|ge|le|sa|eb)?(.*)$/.exec(value)!;
  const prefix = m[1] ?? 'eq';
  const r = dateRange(m[2]!);
  if (!r) throw badRequest(`date '${value}' is not a date, dateTime or instant (optionally prefixed: ge, le, gt, lt, eq, ne)`, 'date');
  switch (prefix) {
    case 'ge':
      return { lo: r.lo };
    case 'gt':
    case 'sa':
      return { lo: r.hi };
    case 'le':
      return { hi: r.hi };
    case 'lt':
    case 'eb':
      return { hi: r.lo };
    case 'ne':
      return { lo: r.lo, hi: r.hi, not: true };
    default:
      return { lo: r.lo, hi: r.hi };
  }
}

function nonNegative(name: string, v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n)) throw badRequest(`${name} must be a non-negative integer`, name);
  return n;
}

/** Pure: the query pairs of an AuditEvent search → what to ask the audit table. */
export function parseAuditSearch(params: RawParams, strict = false): AuditSearch {
  const s: AuditSearch = { filter: { recorded: [] }, count: DEFAULT_COUNT, offset: 0, newestFirst: true, summaryCount: false, total: true, ignored: [] };
  const f = s.filter;
  const add = <K extends 'clientIds' | 'facilities' | 'patients' | 'entities' | 'actions' | 'interactions' | 'ids'>(k: K, values: string[]) => {
    // Repeated parameters are ANDed: keep what both allow.
    const prev = f[k] as string[] | undefined;
    (f[k] as string[]) = prev ? prev.filter((x) => values.includes(x)) : values;
  };
  for (const [rawName, value] of params) {
    const [name, modifier] = rawName.split(':') as [string, string | undefined];
    const values = splitOr(value).map(unescapeValue).filter((v) => v !== '');
    if (modifier !== undefined && !RESULT.has(name)) throw badRequest(`search parameter '${rawName}': modifiers are not supported on AuditEvent searches`, rawName);
    switch (name) {
      case 'date':
        for (const v of values) f.recorded.push(dateFilter(v));
        break;
      case 'agent':
        add('clientIds', values.map((v) => v.replace(/^Device\//, '')));
        break;
      case 'facility':
        add('facilities', values.map(code));
        break;
      case 'patient':
        add('patients', values.map((v) => (v.startsWith('Patient/') ? v : `Patient/${v}`)));
        break;
      case 'entity':
        add('entities', values);
        break;
      case '_id':
        add('ids', values);
        break;
      case 'action':
        for (const v of values) if (!ACTIONS.has(v)) throw badRequest(`action '${v}' is not one of C, R, U, D, E`, 'action');
        add('actions', values);
        break;
      case 'subtype':
        add('interactions', values.map(code));
        break;
      case 'type':
        // rest (a REST interaction) or 110107 (DICOM Import: intake); both together filter nothing.
        for (const v of values.map(code)) if (v !== 'rest' && v !== '110107') throw badRequest(`type '${v}' is not rest or 110107`, 'type');
        if (values.every((v) => code(v) === '110107')) add('interactions', ['import']);
        else if (values.every((v) => code(v) === 'rest')) f.notImport = true;
        break;
      case 'outcome': {
        const ranges = values.map((v) => {
          const r = OUTCOMES[v];
          if (!r) throw badRequest(`outcome '${v}' is not 0, 4, 8 or 12`, 'outcome');
          return r;
        });
        f.statuses = f.statuses ? f.statuses.filter(([lo]) => ranges.some(([l]) => l === lo)) : ranges;
        break;
      }
      case '_count': {
        const n = nonNegative('_count', value);
        if (n > MAX_COUNT) s.countAsked = n;
        s.count = Math.min(n, MAX_COUNT);
        break;
      }
      case '_offset':
        s.offset = nonNegative('_offset', value);
        break;
      case '_sort':
        if (value !== 'date' && value !== '-date' && value !== '_lastUpdated' && value !== '-_lastUpdated') throw badRequest(`_sort '${value}' is not supported on AuditEvent; use date or -date`, '_sort');
        s.newestFirst = value.startsWith('-');
        break;
      case '_summary':
        if (value === 'count') s.summaryCount = true;
        else if (value !== 'false' && value !== 'true' && value !== 'data') throw badRequest(`_summary '${value}' is not supported on AuditEvent`, '_summary');
        break;
      case '_total':
        if (value !== 'none' && value !== 'estimate' && value !== 'accurate') throw badRequest('_total must be none, estimate or accurate', '_total');
        s.total = value !== 'none';
        break;
      case '_elements':
        s.elements = value.split(',').map((e) => e.trim()).filter(Boolean);
        break;
      case '_format':
      case '_pretty':
        break;
      default:
        if (strict) throw badRequest(`search parameter '${rawName}' is not known on AuditEvent`, rawName);
        s.ignored.push(rawName);
    }
  }
  return s;
}

function prefer(req: Request): string | undefined {
  return /handling\s*=\s*"?(strict|lenient)/.exec(req.header('prefer') ?? '')?.[1];
}

function rawParams(req: Request): RawParams {
  const q = req.originalUrl.indexOf('?');
  return q < 0 ? [] : parseQueryString(req.originalUrl.slice(q + 1));
}

/** Mounted at the root beside the guard; the trail's routes live under `/fhir` so its links are the FHIR base's. */
export function auditEventRouter(db: Db, deps: PublicBase): express.Router {
  const r = express.Router();

  const search = async (req: Request, res: Response, params: RawParams) => {
    const s = parseAuditSearch(params, prefer(req) === 'strict');
    const b = fhirBase(req, deps);
    const total = s.summaryCount || s.total ? await countAuditRows(db, s.filter) : undefined;
    const page = s.summaryCount ? { rows: [], hasMore: false } : await searchAuditRows(db, s.filter, { count: s.count, offset: s.offset, newestFirst: s.newestFirst });
    const kept = params.filter(([k]) => k !== '_offset' && k !== '_count' && !s.ignored.includes(k));
    const link = (offset: number) => `${b}/AuditEvent?${[...kept, ['_count', String(s.count)], ['_offset', String(offset)]].map(([k, v]) => `${encodeURIComponent(k!)}=${encodeURIComponent(v!)}`).join('&')}`;
    const links: Bundle['link'] = [{ relation: 'self', url: link(s.offset) }];
    if (page.hasMore) links.push({ relation: 'next', url: link(s.offset + s.count) });
    if (s.offset > 0) links.push({ relation: 'previous', url: link(Math.max(0, s.offset - s.count)) });
    const warnings: Issue[] = [
      ...s.ignored.map((n) => issue('warning', 'not-supported', `search parameter '${n}' is not known and was ignored`, n)),
      ...(s.countAsked !== undefined ? [countReducedIssue(s.countAsked)] : []),
    ];
    const entry: NonNullable<Bundle['entry']> = page.rows.map((row) => ({
      fullUrl: `${b}/AuditEvent/${row.id}`,
      resource: (s.elements ? applySummary(auditEvent(row) as never, undefined, s.elements) : auditEvent(row)) as never,
      search: { mode: 'match' as const },
    }));
    if (warnings.length) entry.push({ resource: toOperationOutcome(warnings), search: { mode: 'outcome' } });
    const bundle: Bundle = { resourceType: 'Bundle', type: 'searchset', ...(total !== undefined ? { total } : {}), link: links, ...(entry.length ? { entry } : {}) };
    sendResource(req, res, 200, bundle);
  };

  const read = async (req: Request, res: Response, id: string) => {
    const row = await readAuditRow(db, id);
    if (!row) throw new FhirError(404, `AuditEvent/${id} is not known`, 'not-found');
    res.setHeader('ETag', 'W/"1"');
    res.setHeader('Last-Modified', new Date(row.recorded).toUTCString());
    sendResource(req, res, 200, auditEvent(row));
  };

  r.get('/AuditEvent', (req, res) => search(req, res, rawParams(req)));
  r.post('/AuditEvent/_search', express.raw({ type: () => true, limit: 64 * 1024 }), (req, res) => {
    const form = Buffer.isBuffer(req.body) ? parseQueryString((req.body as Buffer).toString('utf8')) : [];
    return search(req, res, [...rawParams(req), ...form]);
  });
  r.get('/AuditEvent/:id', (req, res) => read(req, res, req.params.id!));
  r.get('/AuditEvent/:id/_history/1', (req, res) => read(req, res, req.params.id!));
  const refuse = () => {
    throw new FhirError(405, 'AuditEvents are recorded by the gateway itself: the trail can be searched and read, not written, versioned or given operations', 'not-supported');
  };
  r.all('/AuditEvent', refuse);
  r.all('/AuditEvent/*rest', refuse);
  return express.Router().use('/fhir', r);
}
