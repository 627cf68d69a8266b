import type { Condition, Encounter, Reference } from 'fhir/r4';
import { compact, rep, reps, val, where, type MapContext, type Seg } from '../context';
import { concept, systemUri } from '../datatypes';
import { practitioner } from '../references';
import { segmentMap } from '../segment-maps';
import { translateIg } from '../tables';

// DG1 (diagnosis, "chẩn đoán": ICD-10 in Vietnam) → Condition (encounter-diagnosis) + Encounter.diagnosis.
export const DG1 = segmentMap({
  segment: 'DG1',
  igTable: 'Segment DG1 to Condition; Segment DG1 to Encounter',
  resource: 'Condition',
  fields: {
    2: 'Condition.code.coding.system', 3: 'Condition.code', 4: 'Condition.code.text', 5: 'Condition.onsetDateTime',
    6: 'Encounter.diagnosis.use', 15: 'Encounter.diagnosis.rank', 16: 'Condition.asserter', 19: 'Condition.recordedDate',
    20: 'Condition.identifier', 21: 'Condition.verificationStatus', 22: 'Condition.extension (condition-dueTo, by identifier)',
  },
});

// HL7 table 0052 → diagnosis-role where the IG's DiagnosisType map has no code (it maps only A):
// Vietnamese records distinguish the admission, working and discharge diagnoses (chẩn đoán vào
// viện, điều trị, ra viện), so W and F keep a role here. A deviation from the IG.
const ROLE: Record<string, [string, string]> = {
  A: ['AD', 'Admission diagnosis'], W: ['CM', 'Comorbidity diagnosis'], F: ['DD', 'Discharge diagnosis'],
  P: ['pre-op', 'pre-op diagnosis'], PO: ['post-op', 'post-op diagnosis'], B: ['billing', 'Billing'],
};

export function mapDg1(ctx: MapContext, dg1: Seg, patient: Reference, encounter: Reference | undefined): Reference | undefined {
  const code = concept(rep(dg1, 3)) ?? (val(dg1, 4) ? { text: val(dg1, 4) } : undefined);
  if (!code) return undefined;
  // DG1-4 is the IG's code.text; the CWE's own text stays in coding.display.
  if (val(dg1, 4)) code.text = val(dg1, 4);
  const coding = code.coding?.[0];
  // DG1-2 (diagnosis coding method, deprecated) names DG1-3's code system when DG1-3 does not; when
  // both name one, they must agree for DG1-2 to say anything.
  const method = val(dg1, 2);
  const methodUri = systemUri(method) ?? (/^I10|ICD-?10/i.test(method) ? 'http://hl7.org/fhir/sid/icd-10' : undefined);
  if (coding && !coding.system && methodUri) coding.system = methodUri;
  else if (coding && !coding.system && /^I10|ICD-?10/i.test(rep(dg1, 3)?.[2]?.[0] || '')) coding.system = 'http://hl7.org/fhir/sid/icd-10';
  else if (method && coding?.system !== methodUri) ctx.dropped(dg1, 2, `coding method '${method}': DG1-3 names another code system (${coding?.system ?? 'none'})`);
  const ident = val(dg1, 20);
  const deleted = val(dg1, 21) === 'D';
  // DG1-22 parent diagnosis (the DG1-20 of the diagnosis this one follows from, "biến chứng của"): the IG's condition-dueTo.
  const parent = val(dg1, 22);
  if (!parent && reps(dg1, 22).length) ctx.dropped(dg1, 22, 'parent diagnosis: no entity identifier (EI.1) to refer to it by');
  const condition = compact<Condition & { id: string }>({
    resourceType: 'Condition',
    id: ctx.id('Condition', ident ? `id:${ident}` : `${encounter?.reference ?? patient.reference}|${coding?.code ?? code.text}`),
    extension: parent && parent !== ident ? [{ url: 'http://hl7.org/fhir/StructureDefinition/condition-dueTo', valueReference: { type: 'Condition', identifier: { value: parent } } }] : undefined,
    identifier: ident ? [{ value: ident }] : undefined,
    clinicalStatus: deleted ? undefined : { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
    verificationStatus: deleted ? { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'entered-in-error' }] } : undefined,
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'encounter-diagnosis', display: 'Encounter Diagnosis' }] }],
    code,
    subject: patient,
    encounter,
    onsetDateTime: ctx.dateTime(val(dg1, 5), where(dg1, 5)),
    recordedDate: ctx.dateTime(val(dg1, 19), where(dg1, 19)),
    asserter: reps(dg1, 16).map((x) => practitioner(ctx, x)).find(Boolean),
  });
  const ref = ctx.put(condition);
  const enc = encounter && ctx.get<Encounter>(encounter.reference!);
  if (enc && !deleted) {
    const ig = translateIg('diagnosistype', val(dg1, 6));
    const role = ig ? [ig.code!, ig.display ?? ig.code!] : ROLE[val(dg1, 6).toUpperCase()];
    const rank = Number(val(dg1, 15));
    enc.diagnosis = [...(enc.diagnosis ?? []), compact({
      condition: ref,
      use: role ? { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/diagnosis-role', code: role[0], display: role[1] }] } : undefined,
      rank: Number.isInteger(rank) && rank > 0 ? rank : undefined,
    })];
  }
  return ref;
}
