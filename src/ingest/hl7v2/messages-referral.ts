import type { MessageDef } from './messages';
import { mapEncounter } from './map-encounter';
import { mapPatientGroup } from './map-patient-group';
import { mapReferral } from './map-referral';
import { mapLooseObservations } from './segments/obx';

// Referrals ("chuyển tuyến": REF^I12–I15).

const referral = (event: string): MessageDef => ({
  event,
  structure: 'REF_I12',
  igMap: 'REF_I12 to Bundle',
  map: (ctx, patient) => {
    const encounter = ctx.find('PV1') ? mapEncounter(ctx, patient) : undefined;
    mapPatientGroup(ctx, patient);
    mapReferral(ctx, patient, encounter);
    // The letter's clinical summary (OBR/OBX: "tóm tắt kết quả cận lâm sàng") as the patient's Observations.
    mapLooseObservations(ctx, patient, encounter);
  },
});

export const REFERRAL_MESSAGES: MessageDef[] = [referral('REF^I12'), referral('REF^I13'), referral('REF^I14'), referral('REF^I15')];
