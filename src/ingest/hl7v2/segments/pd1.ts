import type { Observation, Patient, Reference } from 'fhir/r4';
import { concept } from '../datatypes';
import { rep, reps, type MapContext, type Seg } from '../context';
import { organization, practitioner } from '../references';
import { segmentMap } from '../segment-maps';

// PD1 (additional demographics: "nơi đăng ký khám chữa bệnh ban đầu", family doctor) → Patient.
export const PD1 = segmentMap({
  segment: 'PD1',
  igTable: 'Segment PD1 to Patient',
  resource: 'Patient',
  fields: { 3: 'Patient.generalPractitioner (Organization)', 4: 'Patient.generalPractitioner (Practitioner)', 7: 'Observation.valueCodeableConcept (advance directive, PD1[Observation-LivingWill])',
    6: 'Patient.extension (patient-disability)', 14: 'Patient.extension (patient-congregation)' },
  dropped: { 1: 'living dependency: no FHIR Patient element', 2: 'living arrangement: no FHIR Patient element', 11: 'publicity code: consent, not demographics', 12: 'protection indicator: handled by access policy, not stored', 16: 'immunization registry status: IIS only' },
});

/**
 * PD1-7 living will (table 0315: "di chúc y tế", rare in Vietnam but sent by imported HIS) → an
 * Observation LOINC 75320-2 (advance directive), the IG's PD1[Observation-LivingWill] map.
 */
function livingWill(ctx: MapContext, pd1: Seg, patient: Reference): void {
  const value = concept(rep(pd1, 7));
  if (!value) return;
  const coding = value.coding?.[0];
  if (coding && !coding.system) coding.system = 'http://terminology.hl7.org/CodeSystem/v2-0315';
  ctx.put<Observation & { id: string }>({
    resourceType: 'Observation',
    id: ctx.id('Observation', patient.reference ?? '', 'living-will'),
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '75320-2', display: 'Advance directive' }] },
    subject: patient,
    valueCodeableConcept: value,
  });
}

export function mapPd1(ctx: MapContext, pd1: Seg, patient: Reference): void {
  livingWill(ctx, pd1, patient);
  // PD1-6 handicap and PD1-14 place of worship ("nơi sinh hoạt tôn giáo"): the IG's Patient extensions.
  const p0 = ctx.get<Patient>(patient.reference!);
  const handicap = concept(rep(pd1, 6));
  const worship = reps(pd1, 14).map((x) => x[0]?.[0]?.trim()).find(Boolean);
  if (p0 && (handicap || worship)) {
    // One of each: a second PD1 for the same patient replaces, as for the other demographics.
    const own = new Set(['http://hl7.org/fhir/StructureDefinition/patient-disability', 'http://hl7.org/fhir/StructureDefinition/patient-congregation']);
    p0.extension = [...(p0.extension ?? []).filter((e) => !own.has(e.url)),
      ...(handicap ? [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-disability', valueCodeableConcept: handicap }] : []),
      ...(worship ? [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-congregation', valueString: worship }] : [])];
  }
  const gps = [...reps(pd1, 3).map((x) => organization(ctx, x)), ...reps(pd1, 4).map((x) => practitioner(ctx, x))].filter((x) => !!x);
  if (!gps.length) return;
  const p = ctx.get<Patient>(patient.reference!);
  if (p) p.generalPractitioner = [...(p.generalPractitioner ?? []), ...gps];
}
