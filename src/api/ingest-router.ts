import express, { type Request, type Response } from 'express';
import type { Bundle, BundleEntry, OperationOutcome } from 'fhir/r4';
import { checkMessageFacility, messageLogFacility, writingFacility } from '../auth/rules';
import { badRequest, FhirError, toOperationOutcome } from '../fhir/outcome';
import { receiveHl7v2 } from '../ingest/feeds';
import type { Hl7SourceConfig } from '../ingest/hl7v2';
import type { Intake, IntakeResult, ReceiveInput } from '../ingest/intake';
import { MESSAGE_STATUSES, type MessageLog } from '../store/message-log';
import { countReducedIssue, MAX_COUNT } from '../store/search/query';
import { publicOrigin, type PublicBase } from './base-url';

/**
 * The intake over HTTP: `POST /ingest/<feed>` for pushed messages, and the message log
 * (`GET /ingest/messages`, `GET /ingest/messages/{id}`, `POST /ingest/messages/{id}/replay`).
 */
export interface IngestRouterDeps extends PublicBase {
  intake: Intake;
  messages: MessageLog;
  bodyLimit: number;
  hl7: Hl7SourceConfig;
  defaultFacility: string;
  dicomWadoRsBase?: string;
  /** The background workers' backlog: past its bound intake answers 503 with Retry-After. */
  backlog?: { full(): boolean };
}

const FACILITY_RE = /^[A-Za-z0-9_-]{1,32}$/;
const BACKLOG_RETRY_AFTER_SECONDS = 5;

/** `Prefer: respond-async` (RFC 7240), among other preferences. */
function respondAsync(req: Request): boolean {
  return (req.header('prefer') ?? '').split(',').some((p) => p.trim().split(';')[0]!.trim().toLowerCase() === 'respond-async');
}

interface StoredUnit {
  index: number;
  sourceKey: string;
  status: string;
  outcome?: unknown;
  resources?: string[];
}

/** Nothing of the message was stored: one OperationOutcome with the message's issues and each unit's. */
function nothingStored(outcome: unknown, units: { outcome?: unknown }[]): { status: number; body: unknown } {
  const issues = [outcome, ...units.map((u) => u.outcome)].flatMap((o) => (o as OperationOutcome | undefined)?.issue ?? []);
  // A message refused by the facility rules is a 403, whatever else it held.
  return { status: issues.some((i) => i.code === 'forbidden') ? 403 : 422, body: { resourceType: 'OperationOutcome', issue: issues } };
}

/**
 * The answer to an upload: what each unit (HOSO, study) became, in one transaction-response
 * Bundle, or 422 when nothing was stored. A duplicate gets the answer the first message got,
 * rebuilt from the message log.
 */
export function unitsResponse(r: IntakeResult): { status: number; body: unknown } {
  if (r.status === 'duplicate' && r.previous) {
    const units = (r.previous.units ?? []) as StoredUnit[];
    if (!units.some((u) => u.status === 'accepted')) return nothingStored(r.previous.outcome, units);
    const entry = units.flatMap((u): BundleEntry[] =>
      u.status === 'accepted' ? (u.resources ?? []).map((location) => ({ response: { status: '200 OK', location } })) : [{ response: { status: '422', outcome: u.outcome as never } }],
    );
    return { status: 200, body: { resourceType: 'Bundle', type: 'transaction-response', entry } as Bundle };
  }
  if (!r.units.some((u) => u.status === 'accepted')) return nothingStored(r.outcome, r.units);
  const entry: BundleEntry[] = r.units.flatMap((u) => (u.status === 'accepted' ? (u.response?.entry ?? []) : [{ response: { status: '422', ...(u.outcome ? { outcome: u.outcome } : {}) } }]));
  return { status: 200, body: { resourceType: 'Bundle', type: 'transaction-response', entry } as Bundle };
}

function ingestHeaders(res: Response, result: IntakeResult): void {
  res.setHeader('X-Ingest-Message-Id', result.messageId);
  res.setHeader('X-Ingest-Status', result.status);
  if (result.duplicateOf) res.setHeader('X-Ingest-Duplicate-Of', result.duplicateOf);
}

/** ER7 starts with a header segment; an MLLP start byte, a BOM or blank lines before it are tolerated. */
const ER7_START = /^(?:\x0b|\xef\xbb\xbf|\s)*(?:MSH|FHS|BHS)/;

const HOW_TO_SEND_CLAIM = "send the XML file itself as the body: curl --data-binary @file.xml -H 'Content-Type: application/xml'";

/** Claim files are XML bytes: other bodies are refused rather than guessed at (before the body is read). */
function claimContentType(req: Request, _res: Response, next: () => void): void {
  const type = (req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (type.startsWith('multipart/')) throw new FhirError(415, `multipart uploads are not accepted: ${HOW_TO_SEND_CLAIM}`, 'not-supported');
  if (type && !/^(application|text)\/([\w.+-]+\+)?xml$/.test(type) && type !== 'application/octet-stream') {
    throw new FhirError(415, `content type '${type}' is not a claim file: ${HOW_TO_SEND_CLAIM}`, 'not-supported');
  }
  next();
}

function facilityHeader(req: Request): string | undefined {
  const f = req.header('x-facility-code');
  if (f !== undefined && !FACILITY_RE.test(f)) throw badRequest('X-Facility-Code must be 1-32 letters, digits, - or _');
  return f;
}

function bodyOf(req: Request): Buffer {
  const body = req.body as Buffer;
  if (!Buffer.isBuffer(body) || body.length === 0) throw badRequest('the request has no body');
  return body;
}

function int(v: unknown, name: string, fallback: number, max: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > max) throw badRequest(`${name} must be an integer from 0 to ${max}`, name);
  return n;
}

export function ingestRouter(deps: IngestRouterDeps): express.Router {
  const r = express.Router();
  const raw = express.raw({ type: () => true, limit: deps.bodyLimit });

  const answer = (res: Response, result: IntakeResult, reply: { status: number; body: unknown }) => {
    ingestHeaders(res, result);
    res.status(reply.status).type('application/fhir+json').send(JSON.stringify(reply.body));
  };

  // Before the body is read: a sender past the backlog's bound is told to come back, not buffered.
  const notFull = (_req: Request, res: Response, next: () => void) => {
    if (!deps.backlog?.full()) return next();
    res.setHeader('Retry-After', String(BACKLOG_RETRY_AFTER_SECONDS));
    throw new FhirError(503, 'the intake backlog is full: send this message again later', 'transient');
  };

  /**
   * The FHIR asynchronous pattern: 202 once the message is durable, Content-Location naming its
   * log entry, whose status moves to accepted, quarantined or rejected.
   */
  const acceptAsync = async (req: Request, res: Response, input: ReceiveInput, orderKey: string): Promise<boolean> => {
    if (!respondAsync(req)) return false;
    const result = await deps.intake.accept(input, orderKey);
    ingestHeaders(res, result);
    // A duplicate's own record never moves: the first message's does.
    res.setHeader('Content-Location', `${publicOrigin(req, deps)}/ingest/messages/${result.duplicateOf ?? result.messageId}`);
    res.status(202).type('application/fhir+json').send(JSON.stringify(toOperationOutcome([{ severity: 'information', code: 'informational', diagnostics: `message ${result.messageId} ${result.status === 'duplicate' ? `is a duplicate of ${result.duplicateOf}` : 'received'}; its status is at the Content-Location` }])));
    return true;
  };

  r.post('/ingest/vn-claim', claimContentType, notFull, raw, async (req, res) => {
    const f = facilityHeader(req);
    const input: ReceiveInput = {
      feed: 'vn-claim',
      raw: bodyOf(req),
      ...(f ? { facility: f } : {}),
      ...(req.header('content-type') ? { contentType: req.header('content-type')! } : {}),
    };
    // A claim file holds many patients: one facility's files are applied in the order received.
    if (await acceptAsync(req, res, input, `vn-claim|${f ?? ''}`)) return;
    const result = await deps.intake.receive(input);
    answer(res, result, unitsResponse(result));
  });

  // HL7 v2 over HTTP answers with the same ACK the MLLP listener would send.
  r.post('/ingest/hl7v2', notFull, raw, async (req, res) => {
    const f = facilityHeader(req);
    const body = bodyOf(req);
    if (!ER7_START.test(body.subarray(0, 16).toString('latin1'))) {
      throw new FhirError(415, 'the body is not an HL7 v2 message in ER7 (it must start with MSH, or FHS/BHS for a batch): send the message as x-application/hl7-v2+er7', 'not-supported');
    }
    const { ack, result } = await receiveHl7v2(deps.intake, body, f ? { ...deps.hl7, facility: f } : deps.hl7, 'x-application/hl7-v2+er7', { mode: respondAsync(req) ? 'received' : 'stored' });
    ingestHeaders(res, result);
    if (result.status === 'received' || (result.status === 'duplicate' && result.previous?.status === 'received')) {
      res.setHeader('Content-Location', `${publicOrigin(req, deps)}/ingest/messages/${result.status === 'duplicate' ? result.previous!.id : result.messageId}`);
      res.status(202);
    } else res.status(200);
    res.type('x-application/hl7-v2+er7').send(ack);
  });

  r.post('/ingest/dicom', notFull, raw, async (req, res) => {
    const input: ReceiveInput = {
      feed: 'dicom',
      raw: bodyOf(req),
      facility: facilityHeader(req) ?? writingFacility(deps.defaultFacility),
      contentType: req.header('content-type') ?? 'application/dicom',
    };
    // Instances of one study merge into one ImagingStudy: one facility's files in the order received.
    if (await acceptAsync(req, res, input, `dicom|${input.facility}`)) return;
    const result = await deps.intake.receive(input);
    answer(res, result, unitsResponse(result));
  });

  // Paged as FHIR search is: the same largest page, reduced with a warning rather than refused.
  r.get('/ingest/messages', async (req, res) => {
    const q = req.query as Record<string, string | undefined>;
    if (q.status !== undefined && !(MESSAGE_STATUSES as readonly string[]).includes(q.status)) {
      throw badRequest(`status '${q.status}' is not a message status; use one of ${MESSAGE_STATUSES.join(', ')}`, 'status');
    }
    const asked = int(q._count, '_count', 50, Number.MAX_SAFE_INTEGER);
    const count = Math.min(asked, MAX_COUNT);
    const offset = int(q._offset, '_offset', 0, 1_000_000);
    const facility = messageLogFacility(q.facility || undefined);
    const filter = { ...(q.status ? { status: q.status } : {}), ...(facility ? { facility } : {}), ...(q.feed ? { feed: q.feed } : {}) };
    const list = await deps.messages.list({ ...filter, count, offset });
    const link = (at: number) => `${publicOrigin(req, deps)}/ingest/messages?${new URLSearchParams({ ...filter, _count: String(count), _offset: String(at) })}`;
    res.json({
      total: list.total,
      count,
      link: [
        { relation: 'self', url: link(offset) },
        ...(offset + count < list.total && count > 0 ? [{ relation: 'next', url: link(offset + count) }] : []),
        ...(offset > 0 ? [{ relation: 'previous', url: link(Math.max(0, offset - count)) }] : []),
      ],
      ...(asked > count ? { outcome: toOperationOutcome([countReducedIssue(asked)]) } : {}),
      messages: list.messages,
    });
  });

  r.get('/ingest/messages/:id', async (req, res) => {
    const m = await deps.messages.get(req.params.id!);
    if (!m) throw new FhirError(404, `message ${req.params.id} is not known`, 'not-found');
    checkMessageFacility(m.facility);
    res.json(m);
  });

  r.get('/ingest/messages/:id/raw', async (req, res) => {
    const m = await deps.messages.get(req.params.id!);
    if (m) checkMessageFacility(m.facility);
    const bytes = m ? await deps.messages.raw(m.id) : undefined;
    if (!m || !bytes) throw new FhirError(404, `message ${req.params.id} has no stored content`, 'not-found');
    // Whatever the sender claimed, never let a browser render it (a text/html body would be stored XSS).
    if (m.contentType) res.setHeader('X-Original-Content-Type', m.contentType.replace(/[^\x20-\x7e]/g, ''));
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.attachment(`${m.id}.bin`);
    res.type('application/octet-stream').send(bytes);
  });

  r.post('/ingest/messages/:id/replay', async (req, res) => {
    const before = await deps.messages.get(req.params.id!);
    if (before) checkMessageFacility(before.facility);
    const result = await deps.intake.replay(req.params.id!);
    const m = await deps.messages.get(result.messageId);
    res.setHeader('X-Ingest-Status', result.status);
    res.json(m);
  });

  return r;
}
