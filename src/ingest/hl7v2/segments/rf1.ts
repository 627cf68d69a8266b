import { segmentMap } from '../segment-maps';

// RF1 (referral information: "giấy chuyển tuyến") → the referral ServiceRequest and its Task (map-referral.ts).
// The IG has no RF1 table; the ids are the ones the claim's XML13 letter uses.
export const RF1 = segmentMap({
  segment: 'RF1',
  igTable: 'Segment RF1 to ServiceRequest (no IG table)',
  resource: 'ServiceRequest',
  fields: {
    1: 'Task.businessStatus', 2: 'ServiceRequest.priority', 3: 'ServiceRequest.category', 4: 'ServiceRequest.orderDetail', 5: 'ServiceRequest.locationCode',
    6: 'ServiceRequest.identifier (and the resource id)', 7: 'ServiceRequest.authoredOn (without RF1-9)', 8: 'Task.restriction.period.end',
    9: 'ServiceRequest.authoredOn', 10: 'ServiceRequest.reasonCode', 11: 'ServiceRequest.identifier (the receiver\'s number)',
  },
});
