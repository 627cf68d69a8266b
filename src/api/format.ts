import type { Request, Response } from 'express';
import { notePatients, viewFor, viewNeedsParse } from '../auth/rules';
import { gunzipSync } from 'node:zlib';
import { FhirError } from '../fhir/outcome';

/**
 * Content negotiation for FHIR: `_format` wins over `Accept`. JSON is native; XML is produced
 * by a serialiser registered at start-up (see `registerXml`).
 */
export type Format = 'json' | 'xml';

let xml: { serialize(resource: unknown): string; parse(text: string): unknown } | undefined;

export function registerXml(x: typeof xml): void {
  xml = x;
}

export function xmlAvailable(): boolean {
  return xml !== undefined;
}

const JSON_TYPES = ['json', 'application/json', 'application/fhir+json', 'application/json+fhir'];
const XML_TYPES = ['xml', 'application/xml', 'application/fhir+xml', 'application/xml+fhir', 'text/xml'];

export function responseFormat(req: Request): Format {
  return formatFor(typeof req.query._format === 'string' ? req.query._format : undefined, req.headers.accept);
}

/** The answer's format from `_format` (which wins) and the Accept header. */
export function formatFor(format: string | undefined, acceptHeader: string | undefined): Format {
  const f = format?.split(';')[0]!.trim().toLowerCase();
  if (f) {
    if (JSON_TYPES.includes(f)) return 'json';
    if (XML_TYPES.includes(f)) {
      if (!xml) throw new FhirError(406, `_format '${f}' is not available`, 'not-supported');
      return 'xml';
    }
    throw new FhirError(406, `_format '${f}' is not supported; use json or xml`, 'not-supported');
  }
  const accept = (acceptHeader ?? '').toLowerCase();
  if (xml && XML_TYPES.some((t) => t.includes('/') && accept.includes(t)) && !JSON_TYPES.some((t) => t.includes('/') && accept.includes(t))) return 'xml';
  return 'json';
}

/**
 * The format of a FHIR request body, from its Content-Type. Anything that is not FHIR JSON or
 * XML is refused (415) rather than guessed at: `curl -d @patient.json` sends a form, and text
 * sent as JSON would fail later with a less useful message. No Content-Type at all is JSON,
 * FHIR's own default.
 */
export function requestFormat(req: Request): Format {
  const ct = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (ct === '' || (ct.includes('/') && JSON_TYPES.includes(ct))) return 'json';
  if (ct.includes('/') && XML_TYPES.includes(ct)) return 'xml';
  const hint = ct === 'application/x-www-form-urlencoded' || ct === 'multipart/form-data'
    ? ` (a form upload: send the resource itself as the body, e.g. curl --data-binary @file.json -H 'Content-Type: application/fhir+json')`
    : '';
  throw new FhirError(415, `Content-Type '${ct}' is not accepted here: send application/fhir+json or application/fhir+xml${hint}`, 'not-supported');
}

/** Parses a FHIR body in the request's content type (JSON is checked by the caller's parser). */
export function parseXmlBody(text: string): unknown {
  if (!xml) throw new FhirError(415, 'FHIR XML is not available on this server', 'not-supported');
  return xml.parse(text);
}

/**
 * A resource already serialised (the cached read path): its JSON, or its gzip form, or both;
 * with the patients it is about when the producer knows them, for the audit (a text that is
 * sent without being parsed names them no other way).
 */
export type Serialised = ({ json: string; gzip?: Buffer } | { json?: undefined; gzip: Buffer }) & { patients?: readonly string[] };

/**
 * What this client may see of an answer (types outside its scopes leave a Bundle; other
 * facilities' data under own-facility reads): the resource, or the serialised forms when they
 * can go out as they are.
 */
export function visible(resource: unknown, serialised?: Serialised): { resource: unknown; json?: string; gzip?: Buffer } {
  if (!serialised) return { resource: viewFor(resource) };
  let json = serialised.json;
  const text = () => (json ??= gunzipSync(serialised.gzip!).toString('utf8'));
  if (!viewNeedsParse(text)) {
    notePatients(serialised.patients);
    return { resource, ...(json !== undefined ? { json } : {}), ...(serialised.gzip ? { gzip: serialised.gzip } : {}) };
  }
  const parsed: unknown = JSON.parse(text());
  const view = viewFor(parsed);
  if (view !== parsed) return { resource: view, json: JSON.stringify(view) };
  return { resource, json: json!, ...(serialised.gzip ? { gzip: serialised.gzip } : {}) };
}

/**
 * Sends a resource, or one already serialised. A gzip form (compressed once, when it was cached)
 * goes out as it is to a client that accepts gzip: a cached summary is some 30 times a Patient's
 * size and compresses about 9:1. The JSON text is decompressed from it only when needed.
 */
export function sendResource(req: Request, res: Response, status: number, resource: unknown, serialised?: Serialised): void {
  const v = visible(resource, serialised);
  resource = v.resource;
  let json = v.json;
  const gzip = v.gzip;
  const format = responseFormat(req);
  const pretty = req.query._pretty === 'true';
  if (gzip && format === 'json' && !pretty) {
    res.vary('Accept-Encoding');
    if (req.acceptsEncodings('gzip', 'identity') === 'gzip') {
      res.status(status).type('application/fhir+json; charset=utf-8').setHeader('Content-Encoding', 'gzip');
      res.send(gzip);
      return;
    }
  }
  if (gzip) json ??= gunzipSync(gzip).toString('utf8');
  if (format === 'xml') {
    res.status(status).type('application/fhir+xml; charset=utf-8').send(xml!.serialize(json !== undefined ? JSON.parse(json) : resource));
    return;
  }
  const body = pretty ? JSON.stringify(json !== undefined ? JSON.parse(json) : resource, null, 2) : (json ?? JSON.stringify(resource));
  res.status(status).type('application/fhir+json; charset=utf-8').send(body);
}
