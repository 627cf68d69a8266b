import { issue, type Issue } from '../../fhir/outcome';
import { decodeHl7Bytes } from './charset';
import { DEFAULT_DELIMITERS, unescapeHl7, type Delimiters } from './escape';

/**
 * ER7 text → typed segments. Our own parser rather than a library: the fast ones do not decode
 * escapes, the correct ones are ~10× slower, and none handled batches and legacy Vietnamese
 * encodings the way intake needs. Pure: bytes in, tree and Issues out, never throws.
 */

/** One field: `[repetition][component][subcomponent]`, escapes already decoded. Empty = `[]`. */
export type Hl7Field = string[][][];

export interface Hl7Segment {
  id: string;
  /** `fields[n]` is SEG-n (for MSH, `fields[1]` is the field separator and `fields[2]` MSH-2). */
  fields: Hl7Field[];
}

export interface Hl7Message {
  delimiters: Delimiters;
  segments: Hl7Segment[];
  /** MSH-9.1 / .2 / .3, MSH-10, MSH-12.1, MSH-3.1, MSH-4.1. */
  type: string;
  trigger: string;
  structure: string;
  controlId: string;
  version: string;
  sendingApplication: string;
  sendingFacility: string;
  /** The encoding the bytes were read with; an ACK is written back in it. */
  charset: string;
  issues: Issue[];
}

export interface Hl7Batch {
  messages: Hl7Message[];
  /** FHS/BHS/BTS/FTS envelope segments, kept for provenance. */
  envelope: Hl7Segment[];
  charset: string;
  /** Problems outside any one message (character set, stray lines, empty input). */
  issues: Issue[];
}

export interface ParseOptions {
  /** Per-source legacy encoding (iconv-lite name), overriding MSH-18. */
  charset?: string;
}

const SEGMENT_ID = /^[A-Z][A-Z0-9]{2}$/;
const ENVELOPE = new Set(['FHS', 'BHS', 'BTS', 'FTS']);
const SUPPORTED_VERSION = /^2\.(3|3\.1|4|5|5\.1|6|7|7\.1|8|8\.1|8\.2)$/;
const EMPTY: Hl7Field = [];

function splitOn(s: string, sep: string): string[] {
  return sep && s.indexOf(sep) >= 0 ? s.split(sep) : [s];
}

/** Most fields are one plain value: check for any delimiter once before splitting three ways. */
function parseField(raw: string, d: Delimiters, charset: string): Hl7Field {
  if (raw === '') return EMPTY;
  if (raw.indexOf(d.component) < 0 && raw.indexOf(d.repetition) < 0 && raw.indexOf(d.escape) < 0 && (!d.subcomponent || raw.indexOf(d.subcomponent) < 0)) {
    return [[[raw]]];
  }
  const reps = splitOn(raw, d.repetition);
  const field: Hl7Field = new Array(reps.length);
  for (let r = 0; r < reps.length; r++) {
    const comps = splitOn(reps[r]!, d.component);
    const rep: string[][] = new Array(comps.length);
    for (let c = 0; c < comps.length; c++) {
      const subs = splitOn(comps[c]!, d.subcomponent);
      for (let k = 0; k < subs.length; k++) subs[k] = unescapeHl7(subs[k]!, d, charset);
      rep[c] = subs;
    }
    field[r] = rep;
  }
  return field;
}

function parseSegment(line: string, d: Delimiters, charset: string): Hl7Segment {
  const parts = line.split(d.field);
  const id = parts[0]!;
  const fields: Hl7Field[] = new Array(parts.length);
  fields[0] = [[[id]]];
  if (id === 'MSH' || id === 'FHS' || id === 'BHS') {
    // The separator and the encoding characters are data here, not structure.
    fields[1] = [[[d.field]]];
    fields[2] = parts[1] ? [[[parts[1]]]] : EMPTY;
    for (let n = 2; n < parts.length; n++) fields[n + 1] = parseField(parts[n]!, d, charset);
  } else {
    for (let n = 1; n < parts.length; n++) fields[n] = parseField(parts[n]!, d, charset);
  }
  return { id, fields };
}

/** MSH-1/MSH-2 from a header line, with the defaults (and an Issue) when they are missing. */
export function delimitersOf(header: string, issues: Issue[]): Delimiters {
  const field = header[3];
  if (!field || /[A-Za-z0-9\s]/.test(field)) {
    issues.push(issue('error', 'structure', 'MSH-1 (field separator) is missing', 'MSH-1'));
    return DEFAULT_DELIMITERS;
  }
  const end = header.indexOf(field, 4);
  const enc = end < 0 ? header.slice(4) : header.slice(4, end);
  if (enc.length < 3) {
    issues.push(issue('error', 'structure', `MSH-2 (encoding characters) is '${enc}', expected at least 3 characters such as ^~\\&`, 'MSH-2'));
    return { ...DEFAULT_DELIMITERS, field };
  }
  return { field, component: enc[0]!, repetition: enc[1]!, escape: enc[2]!, subcomponent: enc[3] ?? '', truncation: enc[4] ?? '' };
}

/** First repetition, component, subcomponent: the common case for reading a field. */
export function first(f: Hl7Field | undefined, component = 1, sub = 1): string {
  return f?.[0]?.[component - 1]?.[sub - 1] ?? '';
}

function buildMessage(lines: string[], charset: string): Hl7Message {
  const issues: Issue[] = [];
  const d = delimitersOf(lines[0]!, issues);
  const segments = lines.map((l) => parseSegment(l, d, charset));
  const msh = segments[0]!.fields;
  const m: Hl7Message = {
    delimiters: d,
    segments,
    type: first(msh[9]),
    trigger: first(msh[9], 2),
    structure: first(msh[9], 3),
    controlId: first(msh[10]),
    version: first(msh[12]),
    sendingApplication: first(msh[3]),
    sendingFacility: first(msh[4]),
    charset,
    issues,
  };
  if (!m.type) issues.push(issue('error', 'required', 'MSH-9 (message type) is missing', 'MSH-9'));
  if (!m.controlId) issues.push(issue('error', 'required', 'MSH-10 (message control id) is missing', 'MSH-10'));
  if (!m.version) issues.push(issue('warning', 'required', 'MSH-12 (version) is missing', 'MSH-12'));
  else if (!SUPPORTED_VERSION.test(m.version)) issues.push(issue('warning', 'not-supported', `MSH-12 version ${m.version} is outside 2.3–2.8`, 'MSH-12'));
  return m;
}

/** Already-decoded text → messages. Segments may end in CR, LF or CRLF. */
export function parseHl7v2Text(text: string, charset = 'utf8'): Hl7Batch {
  const issues: Issue[] = [];
  const messages: Hl7Message[] = [];
  const envelope: Hl7Segment[] = [];
  let current: string[] | undefined;
  let envelopeDelimiters = DEFAULT_DELIMITERS;
  const flush = () => {
    if (current) messages.push(buildMessage(current, charset));
    current = undefined;
  };
  // CR is the HL7 terminator; files edited on other systems use LF or CRLF. When CRs are
  // present, a lone LF is data (senders put raw line breaks in report text), not a new segment.
  const lines = text.split(text.indexOf('\r') >= 0 ? /\r\n?/ : /\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!;
    if (line === '') continue;
    let id = line.slice(0, 3);
    if (!SEGMENT_ID.test(id) || (line.length > 3 && /[A-Za-z0-9]/.test(line[3]!))) {
      line = line.trim();
      id = line.slice(0, 3);
      if (line === '') continue;
      if (!SEGMENT_ID.test(id) || (line.length > 3 && /[A-Za-z0-9]/.test(line[3]!))) {
        issues.push(issue('warning', 'structure', `Line ${i + 1} is not a segment and was skipped`, `line ${i + 1}`));
        continue;
      }
    }
    if (id === 'MSH') {
      flush();
      current = [line];
    } else if (ENVELOPE.has(id)) {
      flush();
      if (id === 'FHS' || id === 'BHS') envelopeDelimiters = delimitersOf(line, issues);
      envelope.push(parseSegment(line, envelopeDelimiters, charset));
    } else if (current) {
      current.push(line);
    } else {
      issues.push(issue('error', 'structure', `Segment ${id} before any MSH`, `line ${i + 1}`));
    }
  }
  flush();
  if (messages.length === 0) issues.push(issue('fatal', 'structure', 'No MSH segment: not an HL7 v2 message', 'MSH'));
  return { messages, envelope, charset, issues };
}

/** Raw bytes (one message, a batch, or a file of messages) → messages. */
export function parseHl7v2(raw: Buffer, opts: ParseOptions = {}): Hl7Batch {
  const decoded = decodeHl7Bytes(raw, opts.charset);
  const batch = parseHl7v2Text(decoded.text, decoded.charset);
  batch.issues.unshift(...decoded.issues);
  return batch;
}
