import type { MapContext, Seg } from './context';

/**
 * Pharmacy, immunization and billing messages repeat one block per order or transaction: an ORC
 * (or, without ORC, the first segment of the given ids) opens a block that runs to the next
 * opener. Segments before the first opener belong to the patient/visit and are not included.
 */
export interface SegmentBlock {
  index: number;
  segs: Seg[];
}

export function blocks(ctx: MapContext, openers: string[]): SegmentBlock[] {
  const out: SegmentBlock[] = [];
  let current: SegmentBlock | undefined;
  const anyOrc = ctx.segs.some((s) => s.seg.id === 'ORC');
  const open = anyOrc ? ['ORC'] : openers;
  for (const s of ctx.segs) {
    if (open.includes(s.seg.id)) {
      current = { index: out.length, segs: [] };
      out.push(current);
    }
    current?.segs.push(s);
  }
  return out;
}

export function first(b: SegmentBlock, id: string): Seg | undefined {
  return b.segs.find((s) => s.seg.id === id);
}

export function every(b: SegmentBlock, id: string): Seg[] {
  return b.segs.filter((s) => s.seg.id === id);
}

/** The segments of `id` that follow `after` within the block, up to the next `stop` segment. */
export function following(b: SegmentBlock, after: Seg | undefined, id: string, stop: string[]): Seg[] {
  if (!after) return [];
  const out: Seg[] = [];
  for (const s of b.segs.slice(b.segs.indexOf(after) + 1)) {
    if (stop.includes(s.seg.id)) break;
    if (s.seg.id === id) out.push(s);
  }
  return out;
}
