import type { MapContext } from './context';
import { hl7Location } from './location';
import { segmentMapOf } from './segment-maps';

/**
 * `--explain`: every v2 field that carried a value, the FHIR element it went to, or why it was
 * dropped. Built from what the mappers read (the accessors in context.ts record it), so it
 * describes this message's conversion, not what a table says should happen.
 */
export interface FieldUse {
  /** `PID-5`, `OBX(2)-5`. */
  field: string;
  element?: string;
  dropped?: string;
}

export interface Explanation {
  fields: FieldUse[];
  /** Non-empty fields, and how many of them reached the output. */
  nonEmpty: number;
  mapped: number;
}

// Fields that carry the message's own plumbing rather than data: delimiters, and the ids every
// message has and that go to the ACK or the intake record rather than to a resource.
const PLUMBING: Record<string, Record<number, string>> = {
  MSH: { 1: 'field separator', 2: 'encoding characters' },
};
// "Set ID" fields number the segment within the message: position, not data.
// (RF1-1 is the referral status, data; TXA, ARV, DB1, CON, RGS and IN3 open with a Set ID too.)
const SET_ID = new Set(['AIG', 'AIL', 'AIP', 'AIS', 'AL1', 'ARV', 'CON', 'DB1', 'DG1', 'FT1', 'GT1', 'IAM', 'IN1', 'IN3', 'NK1', 'NTE', 'OBR', 'OBX', 'PID', 'PR1', 'PV1', 'RGS', 'SPM', 'TQ1', 'TQ2', 'TXA']);

function empty(field: string[][][] | undefined): boolean {
  return !field || field.every((r) => r.every((c) => c.every((s) => s === '' || s === '""')));
}

export function explain(ctx: MapContext): Explanation {
  const fields: FieldUse[] = [];
  let nonEmpty = 0;
  let mapped = 0;
  for (const s of ctx.segs) {
    const table = segmentMapOf(s.seg.id);
    for (let n = 1; n < s.seg.fields.length; n++) {
      if (PLUMBING[s.seg.id]?.[n] || (n === 1 && SET_ID.has(s.seg.id)) || empty(s.seg.fields[n])) continue;
      nonEmpty++;
      const field = hl7Location(s.seg.id, s.occ, n);
      const note = s.notes?.get(n);
      if (note && 'dropped' in note) {
        fields.push({ field, dropped: note.dropped });
      } else if (s.used.has(n)) {
        mapped++;
        fields.push({ field, element: note?.element ?? table?.fields[n] ?? table?.resource ?? 'read' });
      } else {
        const reason = table?.dropped?.[n] ?? (table || s.used.size ? 'field not mapped by this gateway' : `segment ${s.seg.id} not mapped for ${ctx.msg.type}^${ctx.msg.trigger}`);
        fields.push({ field, dropped: reason });
      }
    }
  }
  return { fields, nonEmpty, mapped };
}
