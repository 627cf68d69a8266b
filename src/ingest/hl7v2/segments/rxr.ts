import { segmentMap } from '../segment-maps';

// Route (đường dùng) of the order, dispense or administration it follows.
export const RXR = segmentMap({
  segment: 'RXR',
  igTable: 'Segment RXR to Immunization; Segment RXR to MedicationRequest',
  resource: 'MedicationRequest',
  fields: {
    1: 'dosage.route | Immunization.route',
    2: 'dosage.site | Immunization.site',
    4: 'dosage.method',
  },
});
