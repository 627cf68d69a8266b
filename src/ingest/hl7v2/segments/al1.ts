import type { AllergyIntolerance, Reference } from 'fhir/r4';
import { compact, rep, reps, val, where, type MapContext, type Seg } from '../context';
import { c, concept } from '../datatypes';
import { practitioner } from '../references';
import { segmentMap } from '../segment-maps';

// AL1 and IAM (allergies, "dị ứng") → AllergyIntolerance. IAM is AL1 with an identity and an
// action code; its fields sit one further along from IAM-3.
export const AL1 = segmentMap({
  segment: 'AL1',
  igTable: 'Segment AL1 to AllergyIntolerance',
  resource: 'AllergyIntolerance',
  fields: { 2: 'AllergyIntolerance.category', 3: 'AllergyIntolerance.code', 4: 'AllergyIntolerance.criticality', 5: 'AllergyIntolerance.reaction.manifestation', 6: 'AllergyIntolerance.onsetDateTime' },
});
export const IAM = segmentMap({
  segment: 'IAM',
  igTable: 'Segment IAM to AllergyIntolerance',
  resource: 'AllergyIntolerance',
  fields: {
    2: 'AllergyIntolerance.category', 3: 'AllergyIntolerance.code', 4: 'AllergyIntolerance.criticality', 5: 'AllergyIntolerance.reaction.manifestation',
    6: 'AllergyIntolerance.verificationStatus', 7: 'AllergyIntolerance.identifier', 11: 'AllergyIntolerance.onsetDateTime', 12: 'AllergyIntolerance.onsetString',
    13: 'AllergyIntolerance.recordedDate', 14: 'AllergyIntolerance.asserter', 17: 'AllergyIntolerance.clinicalStatus', 18: 'AllergyIntolerance.recorder',
  },
});

// HL7 table 0127 allergen type → category (the IG's AllergenType map).
const CATEGORY: Record<string, AllergyIntolerance['category']> = {
  DA: ['medication'], FA: ['food'], EA: ['environment'], AA: ['environment'], PA: ['environment'], LA: ['environment'], MC: ['medication'], MA: undefined,
};
// HL7 table 0128 severity → criticality (the IG's AllergySeverity[criticality] map).
const CRITICALITY: Record<string, AllergyIntolerance['criticality']> = { SV: 'high', MO: 'low', MI: 'low', U: 'unable-to-assess' };
const ALLERGY_TYPES = new Set(['DA', 'FA', 'EA', 'AA', 'PA', 'LA', 'MA']);

export function mapAllergy(ctx: MapContext, s: Seg, patient: Reference): Reference | undefined {
  const iam = s.seg.id === 'IAM';
  const code = concept(rep(s, 3));
  if (!code) return undefined;
  const type = val(s, 2).toUpperCase();
  // AL1-5 was free text (ST) before v2.5: a lone first component is a description, not a code.
  const reactions = reps(s, 5).map((r) => (r.length === 1 ? (c(r, 1) ? { text: c(r, 1) } : undefined) : concept(r))).filter((x) => !!x);
  const ident = iam ? val(s, 7) : '';
  const deleted = iam && val(s, 6) === 'D';
  const clinical = iam && /^(I|INACTIVE)$/i.test(val(s, 17)) ? 'inactive' : iam && /^(R|RESOLVED)$/i.test(val(s, 17)) ? 'resolved' : 'active';
  const allergy = compact<AllergyIntolerance & { id: string }>({
    resourceType: 'AllergyIntolerance',
    id: ctx.id('AllergyIntolerance', patient.reference!, ident ? `id:${ident}` : code.coding?.[0]?.code ?? code.text ?? ''),
    identifier: ident ? [{ value: ident }] : undefined,
    clinicalStatus: deleted ? undefined : { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: clinical }] },
    verificationStatus: deleted ? { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification', code: 'entered-in-error' }] } : undefined,
    type: ALLERGY_TYPES.has(type) ? 'allergy' : undefined,
    category: CATEGORY[type],
    criticality: CRITICALITY[val(s, 4).toUpperCase()],
    code,
    patient,
    onsetDateTime: ctx.dateTime(val(s, iam ? 11 : 6), where(s, iam ? 11 : 6)),
    onsetString: iam && !val(s, 11) ? val(s, 12) || undefined : undefined,
    recordedDate: iam ? ctx.dateTime(val(s, 13), where(s, 13)) : undefined,
    asserter: iam ? practitioner(ctx, rep(s, 14)) : undefined,
    recorder: iam ? practitioner(ctx, rep(s, 18)) : undefined,
    reaction: reactions.length ? [{ manifestation: reactions }] : undefined,
  });
  return ctx.put(allergy);
}
