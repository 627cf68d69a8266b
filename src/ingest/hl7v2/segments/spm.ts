import { segmentMap } from '../segment-maps';

// Specimen (bệnh phẩm) → Specimen; without SPM, OBR-7/8/9/10/14/15/39 per the IG's OBR[Specimen] map.
export const SPM = segmentMap({
  segment: 'SPM',
  igTable: 'Segment SPM to Specimen',
  resource: 'Specimen',
  fields: {
    2: 'Specimen.identifier',
    3: 'Specimen.parent.identifier',
    4: 'Specimen.type',
    6: 'Specimen.container.additiveCodeableConcept',
    7: 'Specimen.collection.method',
    8: 'Specimen.collection.bodySite',
    12: 'Specimen.collection.quantity',
    14: 'Specimen.note',
    17: 'Specimen.collection.collected[x]',
    18: 'Specimen.receivedTime',
    20: 'Specimen.status',
    24: 'Specimen.condition',
    27: 'Specimen.container.type',
    30: 'Specimen.accessionIdentifier',
    31: 'Specimen.identifier',
  },
});
