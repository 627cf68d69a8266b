import type { MessageDef } from './messages';
import { mapEncounter } from './map-encounter';
import { mapReferral } from './map-referral';

// Referrals ("chuyển tuyến": REF^I12–I15).

const referral = (event: string): MessageDef => ({
  event,
  structure: 'REF_I12',
  igMap: 'REF_I12 to Bundle',
  map: (ctx, patient) => mapReferral(ctx, patient, ctx.find('PV1') ? mapEncounter(ctx, patient) : undefined),
});

export const REFERRAL_MESSAGES: MessageDef[] = [referral('REF^I12'), referral('REF^I13'), referral('REF^I14'), referral('REF^I15')];
