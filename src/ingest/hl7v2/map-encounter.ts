import type { Encounter, EncounterLocation, EncounterParticipant, Location, Reference } from 'fhir/r4';
import { issue } from '../../fhir/outcome';
import { PROVIDER_CODE_SYSTEM } from './config';
import { compact, MapContext, rep, reps, val, where, type Seg } from './context';
import { concept } from './datatypes';
import { location, organization, practitioner } from './references';
import { c } from './datatypes';
import { codeV2, translateV2 } from './tables';
import './segments/pv1';

// PV1 (Patient Visit, "đợt khám/điều trị") → Encounter; PV1-3/PV1-6 (khoa/phòng/giường) → Location.

const PARTICIPANTS: [number, string][] = [[7, 'ATND'], [8, 'REF'], [9, 'CON'], [17, 'ADM'], [52, 'PART']];

export { location } from './references';

/** The visit key: visit number, else account number, else patient + admission time. */
function visitKey(pv1: Seg, pid: Seg | undefined, patient: Reference): string | undefined {
  const visit = val(pv1, 19);
  if (visit) return visit;
  const account = val(pid, 18);
  if (account) return `account:${account}`;
  const admitted = val(pv1, 44);
  return admitted ? `${patient.reference}|${admitted}` : undefined;
}

/** The PID/PV1/PV2 a visit is read from: the message's first, unless a message holds several (A17). */
export interface VisitSegments {
  pid?: Seg;
  pv1?: Seg;
  pv2?: Seg;
}

export function mapEncounter(ctx: MapContext, patient: Reference, adtEvent?: string, group?: VisitSegments): Reference | undefined {
  const pv1 = group ? group.pv1 : ctx.find('PV1');
  if (!pv1) return undefined;
  const pv2 = group ? group.pv2 : ctx.find('PV2');
  const patientClass = val(pv1, 2);
  if (patientClass === 'N' || (!patientClass && !val(pv1, 19) && !val(pv1, 3))) return undefined;
  const key = visitKey(pv1, group ? group.pid : ctx.find('PID'), patient);
  if (!key) {
    if (adtEvent) ctx.issues.push(issue('warning', 'required', 'PV1-19 (visit number) is empty and there is no admission time: no Encounter made', where(pv1, 19)));
    return undefined;
  }
  const start = ctx.dateTime(val(pv1, 44), where(pv1, 44));
  const end = ctx.dateTime(val(pv1, 45), where(pv1, 45));
  let status = (adtEvent && codeV2('v2-adt-event-to-encounter-status', adtEvent)) as Encounter['status'] | undefined;
  if (!status || status === 'in-progress') status = end && adtEvent !== 'A13' ? 'finished' : 'in-progress';
  const cls = translateV2('v2-0004-to-encounter-class', patientClass);
  if (patientClass && !cls) ctx.issues.push(issue('warning', 'code-invalid', `PV1-2 patient class '${patientClass}' is not in HL7 table 0004`, where(pv1, 2)));
  const locations: EncounterLocation[] = [];
  const current = location(ctx, rep(pv1, 3));
  if (current) locations.push({ location: current, status: status === 'finished' ? 'completed' : 'active' });
  // PV1-6 is where the patient was before (a transfer's origin); PV1-11 a temporary place, PV1-42
  // and PV2-1 where the patient is expected next (pending moves, A14/A15/A25/A26).
  const prior = location(ctx, rep(pv1, 6));
  if (prior) locations.push({ location: prior, status: 'completed' });
  const priorTemporary = location(ctx, rep(pv1, 43));
  if (priorTemporary) locations.push({ location: priorTemporary, status: 'completed' });
  const temporary = location(ctx, rep(pv1, 11));
  if (temporary) locations.push({ location: temporary, status: 'active' });
  for (const pending of [location(ctx, rep(pv1, 42)), location(ctx, rep(pv2, 1))]) if (pending) locations.push({ location: pending, status: 'planned' });
  const bedStatus = val(pv1, 40);
  if (bedStatus && current) {
    const loc = ctx.get<Location>(current.reference!);
    if (loc) loc.operationalStatus = { system: 'http://terminology.hl7.org/CodeSystem/v2-0116', code: bedStatus };
  }
  const participant: EncounterParticipant[] = [];
  for (const [field, code] of PARTICIPANTS) {
    for (const x of reps(pv1, field)) {
    const who = practitioner(ctx, x);
    if (who) participant.push({ type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code }] }], individual: who });
    }
  }
  const referral = practitioner(ctx, rep(pv2, 13));
  if (referral) participant.push({ type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'REF' }] }], individual: referral });
  const admitSource = concept(rep(pv1, 14));
  const discharge = concept(rep(pv1, 36));
  const preAdmit = val(pv1, 5);
  const reAdmission = concept(rep(pv1, 13));
  const arrangements = reps(pv1, 15).map(concept).filter((x) => !!x);
  const courtesy = concept(rep(pv1, 16));
  const destination = location(ctx, rep(pv1, 37));
  const diets = reps(pv1, 38).map(concept).filter((x) => !!x);
  const hospitalization = compact({
    preAdmissionIdentifier: preAdmit ? { value: preAdmit } : undefined,
    admitSource,
    reAdmission,
    dietPreference: diets,
    specialCourtesy: courtesy ? [courtesy] : undefined,
    specialArrangement: arrangements,
    destination,
    dischargeDisposition: discharge,
  });
  const visit = val(pv1, 19);
  const alternate = val(pv1, 50);
  const los = Number(val(pv2, 11));
  const reasons = [concept(rep(pv2, 3)), ...(val(pv2, 12) ? [{ text: val(pv2, 12) }] : [])].filter((x) => !!x);
  const priority = concept(rep(pv2, 25));
  // PV2-38 mode of arrival (table 0430: ambulance, car, on foot …) → the IG's encounter-modeOfArrival (HL7 extension pack).
  const arrival = concept(rep(pv2, 38))?.coding?.[0];
  if (arrival && !arrival.system) arrival.system = 'http://terminology.hl7.org/CodeSystem/v2-0430';
  const ended = end && adtEvent !== 'A13' ? end : undefined;
  const expectedIn = pv2 ? ctx.dateTime(val(pv2, 8), where(pv2, 8)) : undefined;
  const expectedOut = pv2 ? ctx.dateTime(val(pv2, 9), where(pv2, 9)) : undefined;
  // PV1-54 service episode identifier (PV1-53 its description): the IG's episodeOfCare, by identifier.
  const episode = val(pv1, 54);
  // PV2-22 visit protection indicator (Y: a visit to keep from view, "bảo mật"): the IG's meta.security, as restricted.
  const isProtected = val(pv2, 22).toUpperCase() === 'Y';
  const encounter = compact<Encounter & { id: string }>({
    resourceType: 'Encounter',
    id: ctx.id('Encounter', key),
    meta: isProtected ? { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R', display: 'restricted' }] } : undefined,
    extension: [
      ...(arrival ? [{ url: 'http://hl7.org/fhir/StructureDefinition/encounter-modeOfArrival', valueCoding: arrival }] : []),
      // PV2-8/9 expected admission and discharge ("dự kiến nhập/ra viện"): R5's planned dates, as the IG's cross-version extensions.
      ...(expectedIn ? [{ url: 'http://hl7.org/fhir/5.0/StructureDefinition/extension-Encounter.plannedStartDate', valueDateTime: expectedIn }] : []),
      ...(expectedOut ? [{ url: 'http://hl7.org/fhir/5.0/StructureDefinition/extension-Encounter.plannedEndDate', valueDateTime: expectedOut }] : []),
    ],
    identifier: [
      visit && { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'VN' }] }, value: visit, assigner: { identifier: { system: PROVIDER_CODE_SYSTEM, value: ctx.facility } } },
      alternate && { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'VN' }] }, use: 'secondary' as const, value: alternate },
    ].filter((x): x is Exclude<typeof x, ''> => !!x),
    status,
    class: cls ?? { system: 'http://terminology.hl7.org/CodeSystem/v3-NullFlavor', code: 'UNK' },
    // PV1-4 admission type, then PV1-18 patient type (user table 0018: "loại người bệnh"), which the IG leaves to Encounter.type where it fits.
    type: [...reps(pv1, 4), ...reps(pv1, 18)].map(concept).filter((x) => !!x),
    serviceType: concept(rep(pv1, 10)),
    priority,
    subject: patient,
    episodeOfCare: episode ? [compact<Reference>({ type: 'EpisodeOfCare', identifier: { value: episode }, display: val(pv1, 53) || undefined })] : undefined,
    serviceProvider: val(pv1, 39) ? organization(ctx, [[c(rep(pv1, 39), 2) || val(pv1, 39)], [], [val(pv1, 39)]]) : undefined,
    participant,
    period: start || ended ? compact({ start, end: ended }) : undefined,
    length: Number.isFinite(los) && los > 0 ? { value: los, unit: 'd', system: 'http://unitsofmeasure.org', code: 'd' } : undefined,
    reasonCode: reasons,
    hospitalization: Object.keys(hospitalization).length ? hospitalization : undefined,
    location: locations,
  });
  return ctx.put(encounter);
}
