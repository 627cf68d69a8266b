import type { Reference } from 'fhir/r4';
import type { MapContext, Seg } from '../context';
import { mapObservation } from '../map-result';
import { segmentMap } from '../segment-maps';

// The OBX table mapObservation (map-result.ts) follows: results, order answers, admission vitals.
export const OBX = segmentMap({
  segment: 'OBX',
  igTable: 'Segment OBX to Observation',
  resource: 'Observation',
  fields: {
    2: 'Observation.value[x] (its type)', 3: 'Observation.code', 4: 'Observation.extension (observation-v2-subid)', 5: 'Observation.value[x]', 6: 'Observation.value[x] unit',
    7: 'Observation.referenceRange', 8: 'Observation.interpretation', 10: 'Observation.extension (observation-nature-of-abnormal-test)', 11: 'Observation.status',
    14: 'Observation.effectiveDateTime', 15: 'Observation.performer (producer Organization)', 16: 'Observation.performer', 17: 'Observation.method',
    18: 'Observation.device (Device.identifier)', 19: 'Observation.extension (observation-analysis-date-time)', 20: 'Observation.bodySite', 21: 'Observation.identifier',
    23: 'Observation.performer (Organization)', 24: 'Organization.address', 25: 'Observation.performer (medical director)', 29: 'Observation.category',
    30: 'Observation.extension (observation-structure-type)',
  },
  // The IG's OBX table maps none of these.
  dropped: {
    9: 'probability: no IG mapping', 12: 'effective date of reference range: no IG mapping', 13: 'user defined access checks: no IG mapping',
    22: 'mood code: no IG mapping', 26: 'patient results release category: no IG mapping', 27: 'root cause: no IG mapping',
    28: 'local process control: no IG mapping', 31: 'action code: the whole message is the update', 32: 'observation value absent reason: no IG mapping',
  },
});

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
