import { segmentMap } from '../segment-maps';

// The OBR table map-order.ts (ServiceRequest) and map-result.ts (DiagnosticReport, Specimen) follow.
export const OBR = segmentMap({
  segment: 'OBR',
  igTable: 'Segment OBR to ServiceRequest, OBR to DiagnosticReport, OBR to Specimen',
  resource: 'ServiceRequest',
  fields: {
    2: 'ServiceRequest.identifier / DiagnosticReport.identifier (PLAC)', 3: 'ServiceRequest.identifier / DiagnosticReport.identifier (FILL)',
    4: 'ServiceRequest.code / DiagnosticReport.code', 5: 'ServiceRequest.priority', 6: 'ServiceRequest.occurrenceDateTime',
    7: 'DiagnosticReport.effectiveDateTime / Specimen.collection', 8: 'Specimen.collection.collectedPeriod.end', 9: 'Specimen.collection.quantity',
    10: 'Specimen.collection.collector', 11: 'ServiceRequest.intent', 14: 'Specimen.receivedTime', 15: 'Specimen.type / bodySite',
    16: 'ServiceRequest.requester (without ORC-12)', 18: 'ServiceRequest.identifier (accession, imaging)', 22: 'DiagnosticReport.issued',
    24: 'DiagnosticReport.category', 25: 'DiagnosticReport.status', 27: 'ServiceRequest.occurrenceDateTime / priority', 29: 'ServiceRequest.basedOn', 50: 'ServiceRequest.basedOn.display (parent service)',
    31: 'ServiceRequest.reasonCode', 32: 'DiagnosticReport.resultsInterpreter', 34: 'DiagnosticReport.performer (technician)',
    35: 'DiagnosticReport.performer (transcriptionist)', 39: 'Specimen.note', 46: 'ServiceRequest.orderDetail', 47: 'ServiceRequest.orderDetail',
  },
  // The IG's OBR tables give these no FHIR element.
  dropped: {
    12: 'danger code: no IG mapping', 13: 'relevant clinical information: the IG maps it to an R5 CodeableReference extension R4 cannot hold',
    20: 'filler field 1: no IG mapping', 21: 'filler field 2: no IG mapping', 23: 'charge to practice: billing, no IG mapping',
    26: 'parent result: no IG mapping', 28: 'result copies to: no IG mapping', 30: 'transportation mode: no IG mapping',
    33: 'assistant result interpreter: no IG mapping', 36: 'scheduled date/time: no IG mapping', 49: 'result handling: no IG mapping',
  },
});
