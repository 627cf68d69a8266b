import { segmentMap } from '../segment-maps';

// Administration (tiêm chủng, dùng thuốc): VXU → Immunization, RAS → MedicationAdministration.
export const RXA = segmentMap({
  segment: 'RXA',
  igTable: 'Segment RXA to Immunization; Segment RXA to MedicationAdministration',
  resource: 'Immunization',
  fields: {
    3: 'Immunization.occurrenceDateTime | MedicationAdministration.effective[x].start',
    4: 'MedicationAdministration.effectivePeriod.end',
    5: 'Immunization.vaccineCode | MedicationAdministration.medication[x]',
    6: 'Immunization.doseQuantity.value | MedicationAdministration.dosage.dose.value',
    7: 'Immunization.doseQuantity.unit | MedicationAdministration.dosage.dose.unit',
    9: 'Immunization.primarySource / reportOrigin',
    10: 'Immunization.performer.actor (AP) | MedicationAdministration.performer.actor',
    15: 'Immunization.lotNumber',
    16: 'Immunization.expirationDate',
    17: 'Immunization.manufacturer',
    18: 'Immunization.statusReason | MedicationAdministration.statusReason',
    19: 'Immunization.reasonCode | MedicationAdministration.reasonCode',
    20: 'Immunization.status | MedicationAdministration.status',
    21: 'Immunization.status (D → entered-in-error)',
    22: 'Immunization.recorded',
  },
});
