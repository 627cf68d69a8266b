import { randomUUID } from 'node:crypto';
import type { Issue } from '../../fhir/outcome';
import { encodeHl7Text } from './charset';
import { encodeField } from './encode';
import { DEFAULT_DELIMITERS, escapeHl7, type Delimiters } from './escape';
import type { Hl7Message } from './parse';

/**
 * Original-mode acknowledgement built from the inbound MSH: AA accepted, AE application error
 * (understood but not accepted), AR rejected (could not be processed at all). Each error or
 * warning becomes an ERR segment naming the HL7 code and where the problem is.
 */
export type AckCode = 'AA' | 'AE' | 'AR' | CommitAckCode;
/** Enhanced mode's accept acknowledgement (MSH-15): the message is safely kept, not yet processed. */
export type CommitAckCode = 'CA' | 'CE' | 'CR';

export interface AckOptions {
  code: AckCode;
  issues?: Issue[];
  /** MSA-3 text; defaults to the first error's diagnostics. */
  text?: string;
  /** MSH-10 of the ACK itself; random when not given. */
  controlId?: string;
  now?: Date;
}

/** HL7 table 0357 (message error condition codes) by Issue code: protocol vocabulary, not clinical codes. */
const HL7_ERROR_CODE: Partial<Record<Issue['code'], [string, string]>> = {
  structure: ['100', 'Segment sequence error'],
  required: ['101', 'Required field missing'],
  value: ['102', 'Data type error'],
  'code-invalid': ['103', 'Table value not found'],
  'not-supported': ['200', 'Unsupported message type'],
  duplicate: ['205', 'Duplicate key identifier'],
  conflict: ['205', 'Duplicate key identifier'],
  invalid: ['207', 'Application internal error'],
  processing: ['207', 'Application internal error'],
};
const SEVERITY: Record<Issue['severity'], string> = { fatal: 'E', error: 'E', warning: 'W', information: 'I' };

/** AR when the message could not be read (no usable MSH), AE when it could but has errors. */
export function ackCodeFor(issues: Issue[], readable = true): AckCode {
  if (!readable || issues.some((i) => i.severity === 'fatal')) return 'AR';
  return issues.some((i) => i.severity === 'error') ? 'AE' : 'AA';
}

/** Vietnam keeps one offset all year, so the local timestamp is UTC + 7 h. */
function hl7Timestamp(now: Date): string {
  const t = new Date(now.getTime() + 7 * 3600_000).toISOString();
  return `${t.slice(0, 4)}${t.slice(5, 7)}${t.slice(8, 10)}${t.slice(11, 13)}${t.slice(14, 16)}${t.slice(17, 19)}+0700`;
}

const LOCATION = /^([A-Z][A-Z0-9]{2})(?:\((\d+)\))?(?:-(\d+)(?:\[(\d+)\])?(?:\.(\d+))?(?:\.(\d+))?)?$/;

/** `OBX(4)-5[2].1` → ERL `OBX^4^5^2^1` (segment id, sequence, field, repetition, component, sub). */
function errorLocation(expression: string | undefined, d: Delimiters): string {
  const m = expression ? LOCATION.exec(expression) : null;
  if (!m) return '';
  const [, seg, occ, field, rep, comp, sub] = m;
  const parts = [seg!, occ ?? '1', field ?? '', field ? rep ?? '1' : '', comp ?? '', sub ?? ''];
  while (parts.length && parts[parts.length - 1] === '') parts.pop();
  return parts.join(d.component);
}

function errSegment(i: Issue, version: string, d: Delimiters): string {
  const [code, name] = HL7_ERROR_CODE[i.code] ?? ['207', 'Application internal error'];
  const f = d.field;
  const c = d.component;
  const text = escapeHl7(i.diagnostics, d);
  const loc = errorLocation(i.expression, d);
  if (/^2\.[34]/.test(version)) {
    // Before 2.5 ERR-1 is the only field: location then code as subcomponents.
    const sub = d.subcomponent || '&';
    const eld = loc.split(c).slice(0, 3);
    while (eld.length < 3) eld.push('');
    return `ERR${f}${[...eld, [code, escapeHl7(name, d), 'HL70357'].join(sub)].join(c)}`;
  }
  return ['ERR', '', loc, [code, escapeHl7(name, d), 'HL70357'].join(c), SEVERITY[i.severity], '', '', '', text].join(f);
}

/** The ACK as ER7 text (segments end in CR). `inbound` may be undefined when no MSH could be read. */
export function buildAck(inbound: Hl7Message | undefined, opts: AckOptions): string {
  const d = inbound?.delimiters ?? DEFAULT_DELIMITERS;
  const msh = inbound?.segments[0]?.fields ?? [];
  const version = inbound?.version || '2.5.1';
  const issues = (opts.issues ?? []).filter((i) => i.severity !== 'information');
  const enc = `${d.component}${d.repetition}${d.escape}${d.subcomponent}${d.truncation}`;
  const trigger = inbound?.trigger ? escapeHl7(inbound.trigger, d) : '';
  const header = [
    'MSH', enc,
    encodeField(msh[5], d), encodeField(msh[6], d), encodeField(msh[3], d), encodeField(msh[4], d),
    hl7Timestamp(opts.now ?? new Date()), '',
    /^2\.3/.test(version) ? ['ACK', trigger].join(d.component) : ['ACK', trigger, 'ACK'].join(d.component),
    escapeHl7(opts.controlId ?? randomUUID().replace(/-/g, '').slice(0, 20), d),
    encodeField(msh[11], d) || 'P',
    escapeHl7(version, d),
  ].join(d.field);
  const firstError = issues.find((i) => i.severity === 'error' || i.severity === 'fatal');
  const accepted = opts.code === 'AA' || opts.code === 'CA';
  const text = opts.text ?? (accepted ? '' : firstError?.diagnostics ?? '');
  const msa = ['MSA', opts.code, escapeHl7(inbound?.controlId ?? '', d), escapeHl7(text.slice(0, 80), d)].join(d.field).replace(new RegExp(`\\${d.field}+$`), '');
  const errs = accepted ? issues.filter((i) => i.severity === 'warning') : issues;
  return [header, msa, ...errs.slice(0, 50).map((i) => errSegment(i, version, d))].join('\r') + '\r';
}

/** The ACK as bytes in the inbound message's character set, ready for MLLP or HTTP. */
export function buildAckBytes(inbound: Hl7Message | undefined, opts: AckOptions): Buffer {
  return encodeHl7Text(buildAck(inbound, opts), inbound?.charset ?? 'utf8');
}
