import type { MapContext, Seg } from './context';

/**
 * The order groups of ORM/OMI/OMG/OML/ORU: an ORC and/or OBR with what follows it (IPC, OBX,
 * NTE). Notes attach to the OBX before them, else to the order. Segments are not re-checked
 * against the message structure: real feeds vary too much, and position is what matters.
 */
export interface ObservationItem {
  obx: Seg;
  notes: Seg[];
  /** PRT after the OBX (v2.7+): who or what took part in this observation. */
  participations?: Seg[];
}

export interface OrderGroup {
  index: number;
  orc?: Seg;
  obr?: Seg;
  ipc: Seg[];
  specimens: Seg[];
  observations: ObservationItem[];
  notes: Seg[];
}

export function orderGroups(ctx: MapContext): OrderGroup[] {
  const groups: OrderGroup[] = [];
  let current: OrderGroup | undefined;
  let lastObx: ObservationItem | undefined;
  // OUL^R22–R24 put the SPM before the OBR it was taken for: held until that order opens.
  let pendingSpecimens: Seg[] = [];
  // …and the OBX after such an SPM (the specimen's own observations: volume, appearance) with it.
  let pendingObservations: ObservationItem[] = [];
  // How many of the open group's observations came with its held specimen, not after its OBR.
  let carried = 0;
  const open = (): OrderGroup => {
    carried = pendingObservations.length;
    current = { index: groups.length, ipc: [], specimens: pendingSpecimens, observations: pendingObservations, notes: [] };
    pendingSpecimens = [];
    pendingObservations = [];
    groups.push(current);
    lastObx = undefined;
    return current;
  };
  for (const s of ctx.segs) {
    switch (s.seg.id) {
      case 'ORC':
        // OUL and OML send OBR before its ORC; an ORC right after a bare OBR completes that order.
        if (current?.obr && !current.orc && current.observations.length === carried) current.orc = s;
        else open().orc = s;
        break;
      case 'OBR':
        if (!current || current.obr || current.observations.length > carried) open();
        current!.obr = s;
        lastObx = undefined;
        break;
      case 'IPC':
        if (current) current.ipc.push(s);
        break;
      case 'OBX':
        if (!current && !pendingSpecimens.length) continue;
        lastObx = { obx: s, notes: [] };
        (current ? current.observations : pendingObservations).push(lastObx);
        break;
      case 'PRT':
        if (lastObx) (lastObx.participations ??= []).push(s);
        break;
      case 'NTE':
        if (lastObx) lastObx.notes.push(s);
        else if (current) current.notes.push(s);
        break;
      case 'SPM':
        // OBX after an SPM describe the specimen; they stay results of the same order.
        if (current) current.specimens.push(s);
        else pendingSpecimens.push(s);
        lastObx = undefined;
        break;
    }
  }
  return groups.filter((g) => g.orc || g.obr);
}
