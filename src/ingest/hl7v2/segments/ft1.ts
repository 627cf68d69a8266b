import { segmentMap } from '../segment-maps';

// Financial transaction (một dòng viện phí) → ChargeItem.
export const FT1 = segmentMap({
  segment: 'FT1',
  igTable: 'Segment FT1 to ChargeItem',
  resource: 'ChargeItem',
  fields: {
    2: 'ChargeItem.identifier',
    4: 'ChargeItem.occurrenceDateTime',
    5: 'ChargeItem.enteredDate',
    6: 'ChargeItem.note (non-charge transaction types)',
    7: 'ChargeItem.code',
    10: 'ChargeItem.quantity',
    11: 'ChargeItem.priceOverride',
    13: 'ChargeItem.costCenter',
    29: 'ChargeItem.productCodeableConcept',
    19: 'ChargeItem.reason',
    20: 'ChargeItem.performer.actor',
    21: 'ChargeItem.enterer',
    24: 'ChargeItem.enterer',
    25: 'ChargeItem.code',
  },
});
