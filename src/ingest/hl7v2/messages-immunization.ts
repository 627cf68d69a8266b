import { mapEncounter } from './map-encounter';
import { mapPatientGroup } from './map-patient-group';
import { mapImmunization } from './map-immunization';
import type { MessageDef } from './messages';
import { blocks } from './segment-groups';
import { mapLooseObservations } from './segments/obx';

// Immunization ("tiêm chủng"): each ORC/RXA group of a VXU → Immunization.

export const IMMUNIZATION_MESSAGES: MessageDef[] = [{
  event: 'VXU^V04',
  structure: 'VXU_V04',
  igMap: 'VXU_V04 to Bundle',
  map: (ctx, patient) => {
    const encounter = mapEncounter(ctx, patient);
    mapPatientGroup(ctx, patient);
    for (const b of blocks(ctx, ['RXA'])) mapImmunization(ctx, b, patient, encounter);
    // The IG's VXU map keeps every OBX as an Observation too, besides what the Immunization takes from it.
    mapLooseObservations(ctx, patient, encounter);
  },
}];
