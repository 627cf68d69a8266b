import type { Account, Reference } from 'fhir/r4';
import type { MapContext } from './context';
import { mapAccount, mapCharges } from './map-billing';
import { mapEncounter } from './map-encounter';
import { mapPatientGroup } from './map-patient-group';
import type { MessageDef } from './messages';
import { mapDg1 } from './segments/dg1';
import { mapLooseObservations } from './segments/obx';
import { mapPr1 } from './segments/pr1';

// Patient accounting ("viện phí"): BAR → Account, DFT → Account + ChargeItem per FT1; the
// diagnoses, procedures, insurance and guarantor in them follow the shared segment maps.

function accountBody(ctx: MapContext, patient: Reference, encounter: Reference | undefined, account: Reference | undefined): void {
  const coverage = mapPatientGroup(ctx, patient);
  for (const s of ctx.segs) {
    switch (s.seg.id) {
      case 'DG1': mapDg1(ctx, s, patient, encounter); break;
      case 'PR1': mapPr1(ctx, s, patient, encounter); break;
    }
  }
  const acc = account && ctx.get<Account>(account.reference!);
  if (acc && coverage.length) acc.coverage = coverage.map((c, i) => ({ coverage: c, priority: i + 1 }));
  mapLooseObservations(ctx, patient, encounter);
}

const billing = (event: string, structure: string): MessageDef => ({
  event,
  structure,
  igMap: `${structure} to Bundle`,
  map: (ctx, patient) => {
    const encounter = mapEncounter(ctx, patient);
    const account = mapAccount(ctx, patient);
    accountBody(ctx, patient, encounter, account);
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
