import type { Account, Encounter, Location, Patient, Reference } from 'fhir/r4';
import { issue } from '../../fhir/outcome';
import { rep, reps, val, where, type MapContext, type Seg } from './context';
import { c } from './datatypes';
import { mapEncounter, type VisitSegments } from './map-encounter';
import { mapMerge, mapPatient } from './map-patient';
import type { MessageDef } from './messages';
import { location } from './references';
import { mapDg1 } from './segments/dg1';
import { mapLooseObservations } from './segments/obx';
import { mapPatientGroup } from './map-patient-group';
import { mapPr1 } from './segments/pr1';
import { mapParticipation } from './segments/rol';

// ADT (admission, discharge, transfer: "tiếp nhận, nhập viện, chuyển khoa, ra viện"), per the
// IG's ADT_A01/A02/A03/A05/A06/A09/A12/A15/A16/A17/A20/A21/A24/A30/A39/A43/A45/A60 message maps.

/** Everything in an ADT message besides the patient and the visit, in segment order. */
function adtBody(ctx: MapContext, patient: Reference, encounter: Reference | undefined): void {
  mapPatientGroup(ctx, patient);
  for (const s of ctx.segs) {
    switch (s.seg.id) {
      case 'DG1': mapDg1(ctx, s, patient, encounter); break;
      case 'PR1': mapPr1(ctx, s, patient, encounter); break;
      case 'ROL': case 'PRT': mapParticipation(ctx, s, encounter); break;
    }
  }
  mapLooseObservations(ctx, patient, encounter);
}

// Encounter.status the event implies where the ConceptMap has none (A21 leave, A23 deletion).
const STATUS: Record<string, Encounter['status']> = { A21: 'onleave', A23: 'entered-in-error' };

function visitEvent(ctx: MapContext, patient: Reference, trigger: string): void {
  const encounter = mapEncounter(ctx, patient, trigger);
  const status = STATUS[trigger];
  if (encounter && status) ctx.get<Encounter>(encounter.reference!)!.status = status;
  adtBody(ctx, patient, encounter);
}

const def = (event: string, structure: string, map: MessageDef['map']): MessageDef => ({ event, structure, igMap: `${structure} to Bundle`, map });
const visit = (trigger: string, structure: string): MessageDef => def(`ADT^${trigger}`, structure, (ctx, patient) => visitEvent(ctx, patient, trigger));

/** The MRG after each PID (A30, A40, A47 carry one pair or several). */
function eachMerge(ctx: MapContext, patient: Reference, event: string, then?: (pid: Seg, mrg: Seg, survivor: Reference) => void): void {
  const pids = ctx.all('PID');
  for (const pid of pids) {
    const survivor = pid === pids[0] ? patient : mapPatient(ctx, pid);
    const next = ctx.segs.slice(ctx.segs.indexOf(pid) + 1).find((s) => s.seg.id === 'MRG' || s.seg.id === 'PID');
    if (survivor && next?.seg.id === 'MRG') (then ?? ((p, m, s) => mapMerge(ctx, p, m, s)))(pid, next, survivor);
    else if (survivor) ctx.issues.push(issue('error', 'required', `${event} without an MRG segment after the PID`, 'MRG'));
  }
}

/** A17 swaps two patients' beds: two PID/PV1 groups, each its own visit. */
function swap(ctx: MapContext, patient: Reference): void {
  const groups: VisitSegments[] = [];
  for (const s of ctx.segs) {
    if (s.seg.id === 'PID') groups.push({ pid: s });
    else if (s.seg.id === 'PV1' && groups.length) groups[groups.length - 1]!.pv1 = s;
    else if (s.seg.id === 'PV2' && groups.length) groups[groups.length - 1]!.pv2 = s;
  }
  groups.forEach((g, i) => {
    const who = i === 0 ? patient : mapPatient(ctx, g.pid!);
    if (who) mapEncounter(ctx, who, 'A17', g);
  });
}

/** A24 links two records of the same person that are not (yet) merged. */
function link(ctx: MapContext, patient: Reference): void {
  const pids = ctx.all('PID');
  const other = pids[1] && mapPatient(ctx, pids[1]);
  if (!other) {
    ctx.issues.push(issue('error', 'required', 'A24 needs two PID segments', 'PID'));
    return;
  }
  const a = ctx.get<Patient>(patient.reference!)!;
  const b = ctx.get<Patient>(other.reference!)!;
  a.link = [...(a.link ?? []), { other, type: 'seealso' }];
  b.link = [...(b.link ?? []), { other: patient, type: 'seealso' }];
}

/** A41/A44: an account merged into (or moved to) the patient of the PID. */
function account(ctx: MapContext, patient: Reference, event: string, move: boolean): void {
  eachMerge(ctx, patient, event, (pid, mrg, survivor) => {
    const prior = val(mrg, 3);
    if (!prior) {
      // The IG's ADT_A39 map links the MRG-1 record whatever the trigger; with no account there is nothing else to do.
      const same = reps(mrg, 1).some((cx) => reps(pid, 3).some((p) => c(p, 1) === c(cx, 1)));
      if (!same && !move) mapMerge(ctx, pid, mrg, survivor);
      ctx.issues.push(issue('warning', 'required', 'MRG-3 (prior patient account number) is empty: no account merged or moved', where(mrg, 3)));
      return;
    }
    const current = val(pid, 18);
    ctx.put<Account & { id: string }>({
      resourceType: 'Account',
      id: ctx.id('Account', `account:${prior}`),
      identifier: [{ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'AN' }] }, value: prior }],
      status: move ? 'active' : 'inactive',
      subject: [survivor],
    });
    if (!move && current) {
      ctx.put<Account & { id: string }>({
        resourceType: 'Account',
        id: ctx.id('Account', `account:${current}`),
        identifier: [{ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'AN' }] }, value: current }],
        status: 'active',
        subject: [survivor],
      });
    }
  });
}

/** A45: a visit moves to the patient of the PID; the PV1 describes the visit, MRG-5 names it. */
function moveVisit(ctx: MapContext, patient: Reference): void {
  const mrg = ctx.find('MRG');
  const pv1 = ctx.find('PV1');
  if (!val(mrg, 5) && !val(pv1, 19)) {
    ctx.issues.push(issue('error', 'required', 'A45 names no visit to move (MRG-5 and PV1-19 empty)', mrg ? where(mrg, 5) : 'MRG'));
    return;
  }
  if (pv1 && !val(pv1, 19) && val(mrg, 5)) pv1.seg.fields[19] = [[[val(mrg, 5)]]];
  const encounter = mapEncounter(ctx, patient, 'A45');
  if (!encounter) ctx.issues.push(issue('error', 'required', 'A45 without a PV1 describing the visit', 'PV1'));
}

/** A20: a bed's status changed (NPU); no patient involved. */
function bedStatus(ctx: MapContext): void {
  const npu = ctx.find('NPU');
  const bed = npu && location(ctx, rep(npu, 1));
  if (!bed) {
    ctx.issues.push(issue('error', 'required', 'A20 without a bed location (NPU-1)', 'NPU-1'));
    return;
  }
  const status = val(npu, 2);
  if (status) ctx.get<Location>(bed.reference!)!.operationalStatus = { system: 'http://terminology.hl7.org/CodeSystem/v2-0116', code: status };
}

export const ADT_MESSAGES: MessageDef[] = [
  visit('A01', 'ADT_A01'), visit('A02', 'ADT_A02'), visit('A03', 'ADT_A03'), visit('A04', 'ADT_A01'),
  visit('A05', 'ADT_A05'), visit('A06', 'ADT_A06'), visit('A07', 'ADT_A06'), visit('A08', 'ADT_A01'),
  visit('A09', 'ADT_A09'), visit('A10', 'ADT_A09'), visit('A11', 'ADT_A09'), visit('A12', 'ADT_A12'),
  visit('A13', 'ADT_A01'), visit('A14', 'ADT_A05'), visit('A15', 'ADT_A15'), visit('A16', 'ADT_A16'),
  def('ADT^A17', 'ADT_A17', swap),
  { ...def('ADT^A20', 'ADT_A20', () => undefined), mapWithoutPatient: bedStatus },
  visit('A21', 'ADT_A21'), visit('A22', 'ADT_A21'), visit('A23', 'ADT_A21'),
  def('ADT^A24', 'ADT_A24', link),
  visit('A25', 'ADT_A21'), visit('A26', 'ADT_A21'), visit('A27', 'ADT_A21'),
  // A28/A31 use ADT_A05, whose IG map makes the PV1 an Encounter too (mapEncounter skips a PV1 of class N).
  visit('A28', 'ADT_A05'),
  def('ADT^A29', 'ADT_A21', (ctx, patient) => {
    ctx.get<Patient>(patient.reference!)!.active = false;
  }),
  def('ADT^A30', 'ADT_A30', (ctx, patient) => eachMerge(ctx, patient, 'A30')),
  visit('A31', 'ADT_A05'),
  def('ADT^A40', 'ADT_A39', (ctx, patient) => eachMerge(ctx, patient, 'A40')),
  def('ADT^A41', 'ADT_A39', (ctx, patient) => account(ctx, patient, 'A41', false)),
  def('ADT^A44', 'ADT_A43', (ctx, patient) => account(ctx, patient, 'A44', true)),
  def('ADT^A45', 'ADT_A45', moveVisit),
  def('ADT^A47', 'ADT_A30', (ctx, patient) => eachMerge(ctx, patient, 'A47')),
  visit('A60', 'ADT_A60'),
];
