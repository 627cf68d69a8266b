import { segmentMap } from '../segment-maps';

// Pharmacy encoded order (đơn thuốc đã duyệt) → MedicationRequest.
export const RXE = segmentMap({
  segment: 'RXE',
  igTable: 'Segment RXE to MedicationRequest',
  resource: 'MedicationRequest',
  fields: {
    2: 'MedicationRequest.medicationCodeableConcept',
    3: 'MedicationRequest.dosageInstruction.doseAndRate.doseRange.low',
    4: 'MedicationRequest.dosageInstruction.doseAndRate.doseRange.high',
    5: 'MedicationRequest.dosageInstruction.doseAndRate.doseQuantity.unit',
    7: 'MedicationRequest.dosageInstruction.text',
    9: 'MedicationRequest.substitution.allowedCodeableConcept',
    10: 'MedicationRequest.dispenseRequest.quantity.value',
    11: 'MedicationRequest.dispenseRequest.quantity.unit',
    12: 'MedicationRequest.dispenseRequest.numberOfRepeatsAllowed',
    13: 'MedicationRequest.requester',
    15: 'MedicationRequest.identifier (RXN)',
    27: 'MedicationRequest.reasonCode',
  },
});
