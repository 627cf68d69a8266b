import { mapAccount, mapCharges } from './map-billing';
import { mapEncounter } from './map-encounter';
import type { MessageDef } from './messages';

// Patient accounting ("viện phí"): BAR → Account, DFT → Account + ChargeItem per FT1.

const billing = (event: string, structure: string): MessageDef => ({
  event,
  structure,
  igMap: `${structure} to Bundle`,
  map: (ctx, patient) => {
    const encounter = mapEncounter(ctx, patient);
    const account = mapAccount(ctx, patient);
    mapCharges(ctx, patient, encounter, account);
  },
});

export const BILLING_MESSAGES: MessageDef[] = [
  billing('BAR^P01', 'BAR_P01'),
  billing('BAR^P02', 'BAR_P02'),
  billing('BAR^P05', 'BAR_P05'),
  billing('BAR^P06', 'BAR_P06'),
  billing('BAR^P12', 'BAR_P12'),
  billing('DFT^P03', 'DFT_P03'),
  billing('DFT^P11', 'DFT_P11'),
];
