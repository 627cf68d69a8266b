import express, { type Request, type Response } from 'express';
import type { Bundle, BundleEntry } from 'fhir/r4';
import { checkMessageFacility, messageLogFacility, writingFacility } from '../auth/rules';
import { badRequest, FhirError, toOperationOutcome } from '../fhir/outcome';
import { receiveHl7v2 } from '../ingest/feeds';
import type { Hl7SourceConfig } from '../ingest/hl7v2';
import type { Intake, IntakeResult } from '../ingest/intake';
import type { MessageLog } from '../store/message-log';

/**
 * The intake over HTTP: `POST /ingest/<feed>` for pushed messages, and the message log
 * (`GET /ingest/messages`, `GET /ingest/messages/{id}`, `POST /ingest/messages/{id}/replay`).
 */
export interface IngestRouterDeps {
  intake: Intake;
  messages: MessageLog;
  bodyLimit: number;
  hl7: Hl7SourceConfig;
  defaultFacility: string;
  dicomWadoRsBase?: string;
}

const FACILITY_RE = /^[A-Za-z0-9_-]{1,32}$/;

interface StoredUnit {
  index: number;
  sourceKey: string;
  status: string;
  outcome?: unknown;
  resources?: string[];
}

/** The answer to an upload: what each unit (HOSO, study) became, in one transaction-response Bundle. */
export function unitsResponse(r: IntakeResult): { status: number; body: unknown } {
  if (r.status === 'duplicate' && r.previous) {
    const units = (r.previous.units ?? []) as StoredUnit[];
    const entry = units.flatMap((u): BundleEntry[] =>
      u.status === 'accepted' ? (u.resources ?? []).map((location) => ({ response: { status: '200 OK', location } })) : [{ response: { status: '422', outcome: u.outcome as never } }],
    );
    return r.previous.status === 'rejected'
      ? { status: 422, body: r.previous.outcome ?? toOperationOutcome([]) }
      : { status: 200, body: { resourceType: 'Bundle', type: 'transaction-response', entry } as Bundle };
  }
  const accepted = r.units.filter((u) => u.status === 'accepted');
  if (accepted.length === 0) {
    const issues = [...(r.outcome?.issue ?? []), ...r.units.flatMap((u) => u.outcome?.issue ?? [])];
    return { status: issues.some((i) => i.code === 'forbidden') ? 403 : 422, body: { resourceType: 'OperationOutcome', issue: issues } };
  }
  const entry: BundleEntry[] = r.units.flatMap((u) => (u.status === 'accepted' ? (u.response?.entry ?? []) : [{ response: { status: '422', ...(u.outcome ? { outcome: u.outcome } : {}) } }]));
  return { status: 200, body: { resourceType: 'Bundle', type: 'transaction-response', entry } as Bundle };
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
    res.setHeader('X-Ingest-Message-Id', result.messageId);
    res.setHeader('X-Ingest-Status', result.status);
    if (result.duplicateOf) res.setHeader('X-Ingest-Duplicate-Of', result.duplicateOf);
    res.status(reply.status).type('application/fhir+json').send(JSON.stringify(reply.body));
  };

  r.post('/ingest/vn-claim', raw, async (req, res) => {
    const f = facilityHeader(req);
    const result = await deps.intake.receive({
      feed: 'vn-claim',
      raw: bodyOf(req),
      ...(f ? { facility: f } : {}),
      ...(req.header('content-type') ? { contentType: req.header('content-type')! } : {}),
    });
    answer(res, result, unitsResponse(result));
  });

  // HL7 v2 over HTTP answers with the same ACK the MLLP listener would send.
  r.post('/ingest/hl7v2', raw, async (req, res) => {
    const f = facilityHeader(req);
    const ack = await receiveHl7v2(deps.intake, bodyOf(req), f ? { ...deps.hl7, facility: f } : deps.hl7, 'x-application/hl7-v2+er7');
    res.status(200).type('x-application/hl7-v2+er7').send(ack);
  });

  r.post('/ingest/dicom', raw, async (req, res) => {
    const result = await deps.intake.receive({
      feed: 'dicom',
      raw: bodyOf(req),
      facility: facilityHeader(req) ?? writingFacility(deps.defaultFacility),
      contentType: req.header('content-type') ?? 'application/dicom',
    });
    answer(res, result, unitsResponse(result));
  });

  r.get('/ingest/messages', async (req, res) => {
    const q = req.query as Record<string, string | undefined>;
    const facility = messageLogFacility(q.facility || undefined);
    const list = await deps.messages.list({
      ...(q.status ? { status: q.status } : {}),
      ...(facility ? { facility } : {}),
      ...(q.feed ? { feed: q.feed } : {}),
      count: int(q._count, '_count', 50, 1000),
      offset: int(q._offset, '_offset', 0, 1_000_000),
    });
    res.json(list);
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
    res.type(m.contentType ?? 'application/octet-stream').send(bytes);
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
