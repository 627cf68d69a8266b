import type { Reference } from 'fhir/r4';
import type { MapContext, Seg } from '../context';
import { mapObservation } from '../map-result';

// OBX outside results (admission vitals, height/weight in ADT: "sinh hiệu lúc nhập viện") →
// Observation, the same mapping as results use, with the NTEs after each OBX as notes.
export function mapLooseObservations(ctx: MapContext, patient: Reference, encounter: Reference | undefined): void {
  let n = 0;
  for (let i = 0; i < ctx.segs.length; i++) {
    const obx = ctx.segs[i]!;
    if (obx.seg.id !== 'OBX') continue;
    const notes: Seg[] = [];
    for (let j = i + 1; j < ctx.segs.length && ctx.segs[j]!.seg.id === 'NTE'; j++) notes.push(ctx.segs[j]!);
    mapObservation(ctx, { obx, notes }, `adt|${encounter?.reference ?? patient.reference}`, ++n, patient, encounter);
  }
}
