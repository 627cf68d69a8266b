import type { MessageDef } from './messages';

// Referrals ("chuyển tuyến": REF^I12–I15).

export const REFERRAL_MESSAGES: MessageDef[] = [];
