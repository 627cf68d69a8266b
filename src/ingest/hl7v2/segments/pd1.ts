import type { Patient, Reference } from 'fhir/r4';
import { reps, type MapContext, type Seg } from '../context';
import { organization, practitioner } from '../references';
import { segmentMap } from '../segment-maps';

// PD1 (additional demographics: "nơi đăng ký khám chữa bệnh ban đầu", family doctor) → Patient.
export const PD1 = segmentMap({
  segment: 'PD1',
  igTable: 'Segment PD1 to Patient',
  resource: 'Patient',
  fields: { 3: 'Patient.generalPractitioner (Organization)', 4: 'Patient.generalPractitioner (Practitioner)' },
  dropped: { 1: 'living dependency: no FHIR Patient element', 2: 'living arrangement: no FHIR Patient element', 11: 'publicity code: consent, not demographics', 12: 'protection indicator: handled by access policy, not stored', 16: 'immunization registry status: IIS only' },
});

export function mapPd1(ctx: MapContext, pd1: Seg, patient: Reference): void {
  const gps = [...reps(pd1, 3).map((x) => organization(ctx, x)), ...reps(pd1, 4).map((x) => practitioner(ctx, x))].filter((x) => !!x);
  if (!gps.length) return;
  const p = ctx.get<Patient>(patient.reference!);
  if (p) p.generalPractitioner = [...(p.generalPractitioner ?? []), ...gps];
}
