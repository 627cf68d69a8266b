import type { Condition, Reference } from 'fhir/r4';
import { issue } from '../../../fhir/outcome';
import { compact, rep, val, where, type MapContext, type Seg } from '../context';
import { concept } from '../datatypes';
import { segmentMap } from '../segment-maps';

// PRB (a problem on the patient's problem list: "danh sách vấn đề / bệnh") → Condition
// (problem-list-item). The IG has no PRB table; the elements are the ones its DG1[Condition] uses.
export const PRB = segmentMap({
  segment: 'PRB',
  igTable: 'Segment PRB to Condition (no IG table; after DG1[Condition])',
  resource: 'Condition',
  fields: {
    1: 'Condition.verificationStatus (DE: entered-in-error)', 2: 'Condition.recordedDate', 3: 'Condition.code', 4: 'Condition.identifier (and the resource id)',
    7: 'Condition.recordedDate (problem established, without PRB-2)', 9: 'Condition.abatementDateTime', 13: 'Condition.verificationStatus (or the life cycle, when a sender puts it here)',
    14: 'Condition.clinicalStatus', 16: 'Condition.onsetDateTime',
  },
});

// PRB-14 life cycle status (user-defined table 0838) → condition-clinical, by the usual words.
const CLINICAL: Record<string, string> = { active: 'active', resolved: 'resolved', inactive: 'inactive', remission: 'remission', recurrence: 'recurrence', relapse: 'relapse' };
// PRB-13 confirmation status (table 0837: confirmed, probable, provisional, ruled out …).
const VERIFICATION: Record<string, string> = { confirmed: 'confirmed', c: 'confirmed', provisional: 'provisional', p: 'provisional', differential: 'differential', 'ruled out': 'refuted', r: 'refuted' };

export function mapPrb(ctx: MapContext, prb: Seg, patient: Reference): Reference | undefined {
  const code = concept(rep(prb, 3));
  if (!code) {
    ctx.issues.push(issue('warning', 'required', 'PRB-3 (problem id) is empty: no Condition made', where(prb, 3)));
    return undefined;
  }
  const coding = code.coding?.[0];
  const instance = val(prb, 4);
  // Some senders put the life cycle word (ACTIVE, Resolved, Deleted) in PRB-13: the two tables share no word, so it is read as meant.
  const lifeWord = (val(prb, 14) || (CLINICAL[val(prb, 13).toLowerCase()] || /^deleted$/i.test(val(prb, 13)) ? val(prb, 13) : '')).toLowerCase();
  const deleted = val(prb, 1) === 'DE' || ctx.msg.trigger === 'PC3' || lifeWord === 'deleted';
  const life = CLINICAL[lifeWord];
  const confirmed = VERIFICATION[val(prb, 13).toLowerCase()];
  const condition = compact<Condition & { id: string }>({
    resourceType: 'Condition',
    id: ctx.id('Condition', 'problem', patient.reference!, instance || coding?.code || code.text || ''),
    identifier: instance ? [{ value: instance }] : undefined,
    clinicalStatus: deleted || !life ? undefined : { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: life }] },
    verificationStatus: deleted
      ? { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'entered-in-error' }] }
      : confirmed ? { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: confirmed }] } : undefined,
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'problem-list-item', display: 'Problem List Item' }] }],
    code,
    subject: patient,
    onsetDateTime: ctx.dateTime(val(prb, 16), where(prb, 16)),
    abatementDateTime: life === 'resolved' || life === 'inactive' || life === 'remission' ? ctx.dateTime(val(prb, 9), where(prb, 9)) : undefined,
    recordedDate: ctx.dateTime(val(prb, 2) || val(prb, 7), where(prb, val(prb, 2) ? 2 : 7)),
  });
  return ctx.put(condition);
}
