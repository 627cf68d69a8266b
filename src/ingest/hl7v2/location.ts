/**
 * HL7 locations as people read them in interface logs: `PID-3[2].1` is the first component of
 * the second repetition of PID-3; `OBX(4)-5` is OBX-5 in the fourth OBX. Occurrence and
 * repetition appear only when they are not the first, so the common case stays short.
 */
export function hl7Location(segment: string, occurrence = 1, field?: number, repetition = 1, component?: number, sub?: number): string {
  let s = occurrence > 1 ? `${segment}(${occurrence})` : segment;
  if (field === undefined) return s;
  s += `-${field}`;
  if (repetition > 1) s += `[${repetition}]`;
  if (component !== undefined) s += `.${component}`;
  if (sub !== undefined) s += `.${sub}`;
  return s;
}
