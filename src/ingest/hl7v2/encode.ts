import { escapeHl7, type Delimiters } from './escape';
import type { Hl7Field, Hl7Message, Hl7Segment } from './parse';

/**
 * Tree → ER7, the inverse of the parser: values are escaped, empty positions kept, so a parsed
 * message written back reads the same. Used for ACKs and for checking the parser against
 * other implementations.
 */
export function encodeField(f: Hl7Field | undefined, d: Delimiters): string {
  if (!f) return '';
  return f.map((rep) => rep.map((comp) => comp.map((s) => escapeHl7(s, d)).join(d.subcomponent || '&')).join(d.component)).join(d.repetition);
}

export function encodeSegment(s: Hl7Segment, d: Delimiters): string {
  const header = s.id === 'MSH' || s.id === 'FHS' || s.id === 'BHS';
  // For header segments field 1 is the separator itself and field 2 is written as is.
  const parts = header ? [s.id, s.fields[2]?.[0]?.[0]?.[0] ?? ''] : [s.id];
  for (let n = header ? 3 : 1; n < s.fields.length; n++) parts.push(encodeField(s.fields[n], d));
  return parts.join(d.field);
}

/** Segments end in CR, as MLLP and the standard expect. */
export function encodeHl7v2(m: Pick<Hl7Message, 'segments' | 'delimiters'>): string {
  return m.segments.map((s) => encodeSegment(s, m.delimiters)).join('\r') + '\r';
}
