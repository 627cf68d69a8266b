import { segmentMap } from '../segment-maps';

// The ORC table map-order.ts follows (Segment ORC to ServiceRequest): which fields go where, and which not.
export const ORC = segmentMap({
  segment: 'ORC',
  igTable: 'Segment ORC to ServiceRequest',
  resource: 'ServiceRequest',
  fields: {
    1: 'ServiceRequest.status (without ORC-5)', 2: 'ServiceRequest.identifier (PLAC)', 3: 'ServiceRequest.identifier (FILL)', 4: 'ServiceRequest.requisition',
    5: 'ServiceRequest.status', 7: 'ServiceRequest.occurrenceDateTime / priority', 9: 'ServiceRequest.authoredOn', 12: 'ServiceRequest.requester (Practitioner)',
    21: 'ServiceRequest.requester (PractitionerRole.organization)', 22: 'Organization.address (ordering facility)', 23: 'Organization.telecom (ordering facility)',
    24: 'Practitioner.address (ordering provider)', 29: 'ServiceRequest.locationCode',
  },
  // The IG's ORC[ServiceRequest] table gives these no FHIR element.
  dropped: {
    6: 'response flag: no IG mapping', 8: 'parent order: no IG mapping', 10: 'entered by: no IG mapping', 11: 'verified by: no IG mapping',
    13: "enterer's location: no IG mapping", 15: 'order effective date/time: no IG mapping', 16: 'order control code reason: no IG mapping',
    17: 'entering organization: no IG mapping', 18: 'entering device: no IG mapping', 19: 'action by: no IG mapping',
    30: 'enterer authorization mode: no IG mapping', 31: "parent universal service identifier: the IG's ORC table names no element",
  },
});
