import { segmentMap } from '../segment-maps';

// Pharmacy (RDE, RDS, RAS): the order as the prescriber wrote it, read when there is no RXE.
export const RXO = segmentMap({
  segment: 'RXO',
  igTable: 'Segment RXO to MedicationRequest',
  resource: 'MedicationRequest',
  fields: {
    1: 'MedicationRequest.medicationCodeableConcept',
    2: 'MedicationRequest.dosageInstruction.doseAndRate.doseRange.low',
    3: 'MedicationRequest.dosageInstruction.doseAndRate.doseRange.high',
    4: 'MedicationRequest.dosageInstruction.doseAndRate.doseQuantity.unit',
    7: 'MedicationRequest.dosageInstruction.text',
    9: 'MedicationRequest.substitution.allowedCodeableConcept',
    11: 'MedicationRequest.dispenseRequest.quantity.value',
    12: 'MedicationRequest.dispenseRequest.quantity.unit',
    13: 'MedicationRequest.dispenseRequest.numberOfRepeatsAllowed',
    14: 'MedicationRequest.requester',
    20: 'MedicationRequest.reasonCode',
  },
});
