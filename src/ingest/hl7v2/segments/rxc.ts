import { segmentMap } from '../segment-maps';

// Compound components (thành phần pha chế) → Medication.ingredient.
export const RXC = segmentMap({
  segment: 'RXC',
  igTable: 'Segment RXC to Medication',
  resource: 'Medication',
  fields: {
    1: 'Medication.ingredient.isActive',
    2: 'Medication.ingredient.itemCodeableConcept',
    3: 'Medication.ingredient.strength.numerator.value',
    4: 'Medication.ingredient.strength.numerator.unit',
  },
});
