import { segmentMap } from '../segment-maps';

// Document header (tài liệu lâm sàng) → DocumentReference.
export const TXA = segmentMap({
  segment: 'TXA',
  igTable: 'Segment TXA to DocumentReference',
  resource: 'DocumentReference',
  fields: {
    2: 'DocumentReference.type',
    4: 'DocumentReference.context.period.start', 14: 'DocumentReference.context.related (placer order)', 15: 'DocumentReference.context.related (filler order)',
    3: 'DocumentReference.content.attachment.contentType',
    6: 'DocumentReference.date',
    9: 'DocumentReference.author',
    10: 'DocumentReference.authenticator',
    12: 'DocumentReference.masterIdentifier',
    13: 'DocumentReference.relatesTo.target (T09/T10 replaces)',
    16: 'DocumentReference.identifier',
    17: 'DocumentReference.docStatus',
    18: 'DocumentReference.securityLabel',
    19: 'DocumentReference.status',
    22: 'DocumentReference.authenticator',
    25: 'DocumentReference.description',
  },
});
