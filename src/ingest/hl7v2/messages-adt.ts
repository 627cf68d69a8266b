import { issue } from '../../fhir/outcome';
import type { MessageDef } from './messages';
import { mapEncounter } from './map-encounter';
import { mapMerge, mapPatient } from './map-patient';

// ADT (admission, discharge, transfer: "tiếp nhận, nhập viện, chuyển khoa, ra viện").

const visit = (event: string, structure: string): MessageDef => ({
  event,
  structure,
  igMap: `${structure} to Bundle`,
  map: (ctx, patient) => void mapEncounter(ctx, patient, event.slice(4)),
});

const person = (event: string, structure: string): MessageDef => ({ event, structure, igMap: `${structure} to Bundle`, map: () => undefined });

export const ADT_MESSAGES: MessageDef[] = [
  visit('ADT^A01', 'ADT_A01'), visit('ADT^A02', 'ADT_A02'), visit('ADT^A03', 'ADT_A03'), visit('ADT^A04', 'ADT_A01'),
  visit('ADT^A05', 'ADT_A05'), visit('ADT^A06', 'ADT_A06'), visit('ADT^A07', 'ADT_A06'), visit('ADT^A08', 'ADT_A01'),
  visit('ADT^A11', 'ADT_A09'), visit('ADT^A12', 'ADT_A12'), visit('ADT^A13', 'ADT_A01'), visit('ADT^A14', 'ADT_A05'),
  person('ADT^A28', 'ADT_A05'), person('ADT^A31', 'ADT_A05'),
  {
    event: 'ADT^A40',
    structure: 'ADT_A39',
    igMap: 'ADT_A39 to Bundle',
    map: (ctx, patient) => {
      // A40 may carry several PID/MRG pairs; each MRG follows the PID it merges into.
      const pids = ctx.all('PID');
      for (const pid of pids) {
        const survivor = pid === pids[0] ? patient : mapPatient(ctx, pid);
        const next = ctx.segs.slice(ctx.segs.indexOf(pid) + 1).find((s) => s.seg.id === 'MRG' || s.seg.id === 'PID');
        if (survivor && next?.seg.id === 'MRG') mapMerge(ctx, pid, next, survivor);
        else if (survivor) ctx.issues.push(issue('error', 'required', 'A40 without an MRG segment after the PID', 'MRG'));
      }
    },
  },
];
