import type { Encounter, EncounterLocation, EncounterParticipant, Reference } from 'fhir/r4';
import { issue } from '../../fhir/outcome';
import { PROVIDER_CODE_SYSTEM } from './config';
import { compact, MapContext, rep, val, where, type Seg } from './context';
import { concept } from './datatypes';
import { location, practitioner } from './references';
import { codeV2, translateV2 } from './tables';

// PV1 (Patient Visit, "đợt khám/điều trị") → Encounter; PV1-3/PV1-6 (khoa/phòng/giường) → Location.

const PARTICIPANTS: [number, string][] = [[7, 'ATND'], [8, 'REF'], [9, 'CON'], [17, 'ADM']];

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

export function mapEncounter(ctx: MapContext, patient: Reference, adtEvent?: string): Reference | undefined {
  const pv1 = ctx.find('PV1');
  if (!pv1) return undefined;
  const patientClass = val(pv1, 2);
  if (patientClass === 'N' || (!patientClass && !val(pv1, 19) && !val(pv1, 3))) return undefined;
  const key = visitKey(pv1, ctx.find('PID'), patient);
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
  const prior = adtEvent === 'A02' ? location(ctx, rep(pv1, 6)) : undefined;
  if (prior) locations.push({ location: prior, status: 'completed' });
  const participant: EncounterParticipant[] = [];
  for (const [field, code] of PARTICIPANTS) {
    const who = practitioner(ctx, rep(pv1, field));
    if (who) participant.push({ type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code }] }], individual: who });
  }
  const admitSource = concept(rep(pv1, 14));
  const discharge = concept(rep(pv1, 36));
  const visit = val(pv1, 19);
  const ended = end && adtEvent !== 'A13' ? end : undefined;
  const encounter = compact<Encounter & { id: string }>({
    resourceType: 'Encounter',
    id: ctx.id('Encounter', key),
    identifier: visit ? [{ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'VN' }] }, value: visit, assigner: { identifier: { system: PROVIDER_CODE_SYSTEM, value: ctx.facility } } }] : undefined,
    status,
    class: cls ?? { system: 'http://terminology.hl7.org/CodeSystem/v3-NullFlavor', code: 'UNK' },
    subject: patient,
    participant,
    period: start || ended ? compact({ start, end: ended }) : undefined,
    hospitalization: admitSource || discharge ? compact({ admitSource, dischargeDisposition: discharge }) : undefined,
    location: locations,
  });
  return ctx.put(encounter);
}
