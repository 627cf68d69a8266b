import { segmentMap } from '../segment-maps';

// Notes and comments ("ghi chú") → the Annotation of the resource they follow (order, result, drug, referral).
export const NTE = segmentMap({
  segment: 'NTE',
  igTable: 'Segment NTE to Observation; Segment NTE to ServiceRequest',
  resource: 'Annotation',
  fields: { 3: 'note.text', 5: 'note.authorReference', 6: 'note.time' },
  dropped: {
    2: 'source of comment: no IG mapping', 4: 'comment type: the IG maps it for appointments only',
    7: 'expiration date: no IG mapping', 8: 'coded comment: no IG mapping',
  },
});
