/**
 * Segment maps as data: for each segment, the HL7 v2-to-FHIR IG table it follows and, per field,
 * the FHIR element the field goes to. Each segment file in `segments/` declares one and the
 * mapper beside it reads the same fields, so `--explain` names targets from here and the mapper
 * does not repeat them. A field a mapper read that has no row here is reported as mapped to the
 * segment's main resource.
 */
export interface SegmentMap {
  segment: string;
  /** The IG's segment map name, e.g. `Segment PID to Patient`. */
  igTable: string;
  /** The resource the segment mostly becomes, for fields without their own row. */
  resource: string;
  fields: Record<number, string>;
  /** Fields left out on purpose, with why (shown by `--explain` even when not read). */
  dropped?: Record<number, string>;
}

const maps = new Map<string, SegmentMap>();

/** Declares (and registers) a segment map; call at module level of the segment's file. */
export function segmentMap(m: SegmentMap): SegmentMap {
  maps.set(m.segment, m);
  return m;
}

export function segmentMapOf(segment: string): SegmentMap | undefined {
  return maps.get(segment);
}

export function allSegmentMaps(): SegmentMap[] {
  return [...maps.values()];
}
