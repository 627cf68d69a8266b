import { segmentMap } from '../segment-maps';

// The PV1/PV2 tables the mapper in map-encounter.ts follows.
export const PV1 = segmentMap({
  segment: 'PV1',
  igTable: 'Segment PV1 to Encounter',
  resource: 'Encounter',
  fields: {
    2: 'Encounter.class', 3: 'Encounter.location (current)', 4: 'Encounter.type', 5: 'Encounter.hospitalization.preAdmissionIdentifier',
    6: 'Encounter.location (prior)', 7: 'Encounter.participant (ATND Practitioner)', 8: 'Encounter.participant (REF Practitioner)',
    9: 'Encounter.participant (CON Practitioner)', 10: 'Encounter.serviceType', 11: 'Encounter.location (temporary)', 13: 'Encounter.hospitalization.reAdmission',
    14: 'Encounter.hospitalization.admitSource', 15: 'Encounter.hospitalization.specialArrangement', 16: 'Encounter.hospitalization.specialCourtesy',
    17: 'Encounter.participant (ADM Practitioner)', 19: 'Encounter.identifier (VN)', 36: 'Encounter.hospitalization.dischargeDisposition',
    37: 'Encounter.hospitalization.destination', 38: 'Encounter.hospitalization.dietPreference', 40: 'Location.operationalStatus',
    42: 'Encounter.location (pending)', 44: 'Encounter.period.start', 45: 'Encounter.period.end', 50: 'Encounter.identifier (alternate visit id)',
    52: 'Encounter.participant (PART Practitioner)', 41: 'Account.status', 18: 'Encounter.type (patient type)', 20: 'Coverage.type (the first IN1 Coverage)', 53: 'Encounter.episodeOfCare.display', 54: 'Encounter.episodeOfCare (by identifier)', 39: 'Encounter.serviceProvider', 43: 'Encounter.location (prior temporary)',
  },
  dropped: {
    12: 'preadmit test indicator: no IG mapping',
    21: 'charge price indicator: billing', 22: 'courtesy code: billing', 23: 'credit rating: billing', 24: 'contract code: billing', 25: 'contract effective date: billing',
    26: 'contract amount: billing', 27: 'contract period: billing', 28: 'interest code: billing', 29: 'transfer to bad debt: billing', 30: 'bad debt date: billing',
    31: 'bad debt agency: billing', 32: 'bad debt amount: billing', 33: 'bad debt recovery: billing', 34: 'delete account indicator: billing', 35: 'delete account date: billing',
    46: 'current patient balance: billing',
    47: 'total charges: billing', 48: 'total adjustments: billing', 49: 'total payments: billing', 51: 'visit indicator: structural',
  },
});

export const PV2 = segmentMap({
  segment: 'PV2',
  igTable: 'Segment PV2 to Encounter',
  resource: 'Encounter',
  fields: { 8: 'Encounter.extension (R5 plannedStartDate)', 9: 'Encounter.extension (R5 plannedEndDate)', 38: 'Encounter.extension (encounter-modeOfArrival)', 1: 'Encounter.location (pending)', 3: 'Encounter.reasonCode', 11: 'Encounter.length', 12: 'Encounter.reasonCode.text', 13: 'Encounter.participant (REF Practitioner)', 25: 'Encounter.priority' },
  dropped: { 2: "accommodation code: the IG's row asks for a mapping and gives none" },
});
