import { orderGroups } from './groups';
import { mapDocument } from './map-document';
import { mapEncounter } from './map-encounter';
import { mapPatientGroup } from './map-patient-group';
import { mapServiceRequest } from './map-order';
import type { MessageDef } from './messages';

// Clinical documents ("tài liệu lâm sàng"): MDM T01–T11 → DocumentReference, with the orders it answers.

const document = (trigger: string): MessageDef => ({
  event: `MDM^${trigger}`,
  structure: ['T01', 'T03', 'T05', 'T07', 'T09', 'T11'].includes(trigger) ? 'MDM_T01' : 'MDM_T02',
  igMap: ['T01', 'T03', 'T05', 'T07', 'T09', 'T11'].includes(trigger) ? 'MDM_T01 to Bundle' : 'MDM_T02 to Bundle',
  map: (ctx, patient) => {
    const encounter = mapEncounter(ctx, patient);
    mapPatientGroup(ctx, patient);
    const basedOn = orderGroups(ctx).flatMap((g) => mapServiceRequest(ctx, g, patient, encounter, false) ?? []);
    mapDocument(ctx, patient, encounter, basedOn);
  },
});

export const DOCUMENT_MESSAGES: MessageDef[] = ['T01', 'T02', 'T03', 'T04', 'T05', 'T06', 'T07', 'T08', 'T09', 'T10', 'T11'].map(document);
