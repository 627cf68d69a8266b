import type { MessageDef } from './messages';
import { mapAppointment } from './map-appointment';
import { mapEncounter } from './map-encounter';
import { mapPatientGroup } from './map-patient-group';
import { mapDg1 } from './segments/dg1';
import { mapLooseObservations } from './segments/obx';

// Scheduling ("lịch hẹn khám").

// The IG's SIU_S12 map: the PATIENT group's PV1 → Encounter, its OBX/DG1 → Observation/Condition.
const appointment = (event: string): MessageDef => ({
  event,
  structure: 'SIU_S12',
  igMap: 'SIU_S12 to Bundle',
  map: (ctx, patient) => {
    const encounter = mapEncounter(ctx, patient);
    mapPatientGroup(ctx, patient);
    mapAppointment(ctx, patient);
    for (const dg1 of ctx.all('DG1')) mapDg1(ctx, dg1, patient, encounter);
    mapLooseObservations(ctx, patient, encounter);
  },
});

export const SCHEDULING_MESSAGES: MessageDef[] = [appointment('SIU^S12'), appointment('SIU^S13'), appointment('SIU^S14'), appointment('SIU^S15'),
  // S16–S26: discontinue, delete, resource changes, block/unblock, no-show; status per event.
  ...Array.from({ length: 11 }, (_, i) => appointment(`SIU^S${16 + i}`))];
