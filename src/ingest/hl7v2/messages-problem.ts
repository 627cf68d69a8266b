import { mapEncounter } from './map-encounter';
import { mapPatientGroup } from './map-patient-group';
import type { MessageDef } from './messages';
import { mapPrb } from './segments/prb';
import { mapLooseObservations } from './segments/obx';

// Problem lists ("danh sách vấn đề sức khỏe"): PPR^PC1 add, PC2 update, PC3 delete → Condition per PRB.

const problem = (trigger: string): MessageDef => ({
  event: `PPR^${trigger}`,
  structure: 'PPR_PC1',
  igMap: 'PPR_PC1 (no IG message map; PRB after DG1[Condition])',
  map: (ctx, patient) => {
    const encounter = mapEncounter(ctx, patient);
    mapPatientGroup(ctx, patient);
    for (const prb of ctx.all('PRB')) mapPrb(ctx, prb, patient);
    mapLooseObservations(ctx, patient, encounter);
  },
});

export const PROBLEM_MESSAGES: MessageDef[] = [problem('PC1'), problem('PC2'), problem('PC3')];
