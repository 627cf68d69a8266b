import { segmentMap } from '../segment-maps';

// Pharmacy dispense (cấp phát thuốc) → MedicationDispense.
export const RXD = segmentMap({
  segment: 'RXD',
  igTable: 'Segment RXD to MedicationDispense',
  resource: 'MedicationDispense',
  fields: {
    2: 'MedicationDispense.medicationCodeableConcept',
    3: 'MedicationDispense.whenHandedOver',
    4: 'MedicationDispense.quantity.value',
    5: 'MedicationDispense.quantity.unit',
    7: 'MedicationDispense.identifier (RXN)',
    9: 'MedicationDispense.dosageInstruction.text',
    10: 'MedicationDispense.performer.actor',
  },
});
