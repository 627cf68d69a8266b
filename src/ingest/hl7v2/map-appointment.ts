import type { Appointment, AppointmentParticipant, Reference } from 'fhir/r4';
import { issue } from '../../fhir/outcome';
import { PROVIDER_CODE_SYSTEM } from './config';
import { compact, MapContext, rep, val, where } from './context';
import { concept } from './datatypes';
import { practitioner } from './references';
import { location } from './map-encounter';
import { notes } from './map-order';
import { codeV2 } from './tables';

// SCH + AIS/AIG/AIL/AIP (lịch hẹn: scheduling) → Appointment.

const V2_0203 = 'http://terminology.hl7.org/CodeSystem/v2-0203';
const MINUTES: Record<string, number> = { m: 1, min: 1, minute: 1, minutes: 1, h: 60, hr: 60, hour: 60, s: 1 / 60, sec: 1 / 60, d: 1440 };

/** Adds minutes to a FHIR dateTime, keeping its offset. */
function plusMinutes(dt: string, minutes: number): string | undefined {
  const m = /([+-]\d{2}):(\d{2})$/.exec(dt);
  const t = Date.parse(dt);
  if (!m || Number.isNaN(t)) return undefined;
  const offsetMin = (m[1]!.startsWith('-') ? -1 : 1) * (Math.abs(Number(m[1])) * 60 + Number(m[2]));
  const local = new Date(t + (minutes + offsetMin) * 60_000).toISOString().slice(0, 19);
  return `${local}${m[0]}`;
}

export function mapAppointment(ctx: MapContext, patient: Reference): void {
  const sch = ctx.find('SCH');
  if (!sch) {
    ctx.issues.push(issue('error', 'required', 'SIU message without SCH segment', 'SCH'));
    return;
  }
  const key = val(sch, 2) || val(sch, 1);
  if (!key) {
    ctx.issues.push(issue('error', 'required', 'SCH-1 and SCH-2 (appointment ids) are both empty', where(sch, 2)));
    return;
  }
  const ais = ctx.find('AIS');
  const tq1 = ctx.find('TQ1');
  const aip = ctx.all('AIP');
  const ail = ctx.all('AIL');
  const start = ctx.dateTime(val(sch, 11, 4) || val(tq1, 7) || val(ais, 4) || val(ail[0], 6) || val(aip[0], 6), where(sch, 11, 1, 4));
  let end = ctx.dateTime(val(sch, 11, 5) || val(tq1, 8), where(sch, 11, 1, 5));
  const duration = Number(val(sch, 9) || val(sch, 11, 3) || val(ais, 7));
  const unit = (val(sch, 10) || val(ais, 8) || 'm').toLowerCase();
  const minutes = Number.isFinite(duration) && duration > 0 ? Math.round(duration * (MINUTES[unit] ?? 1)) : undefined;
  if (start && !end && minutes) end = plusMinutes(start, minutes);

  const filler = val(sch, 25);
  let status = (codeV2('v2-0278-to-appointment-status', filler) ??
    codeV2('v2-0278-to-appointment-status', filler.charAt(0).toUpperCase() + filler.slice(1).toLowerCase()) ??
    codeV2('v2-siu-event-to-appointment-status', ctx.msg.trigger) ?? 'booked') as Appointment['status'];
  if (ctx.msg.trigger === 'S15' || ctx.msg.trigger === 'S16') status = 'cancelled';
  if (!(start && end) && !['proposed', 'cancelled', 'waitlist'].includes(status)) {
    ctx.issues.push(issue('warning', 'incomplete', `Appointment has no start and end time (SCH-11, TQ1-7/8, AIS-4): recorded as proposed instead of ${status}`, where(sch, 11)));
    status = 'proposed';
  }

  const participant: AppointmentParticipant[] = [{ actor: patient, status: 'accepted' }];
  for (const p of aip) {
    const who = practitioner(ctx, rep(p, 3));
    const role = concept(rep(p, 4));
    if (who) participant.push(compact<AppointmentParticipant>({ actor: who, type: role ? [role] : undefined, status: 'accepted' }));
  }
  for (const l of ail) {
    const where_ = location(ctx, rep(l, 3));
    if (where_) participant.push({ actor: where_, status: 'accepted' });
  }
  const ids = [
    val(sch, 1) && { type: { coding: [{ system: V2_0203, code: 'PLAC' }] }, value: val(sch, 1), assigner: { identifier: { system: PROVIDER_CODE_SYSTEM, value: ctx.facility } } },
    val(sch, 2) && { type: { coding: [{ system: V2_0203, code: 'FILL' }] }, value: val(sch, 2), assigner: { identifier: { system: PROVIDER_CODE_SYSTEM, value: ctx.facility } } },
  ].filter((x): x is Exclude<typeof x, ''> => !!x);
  const reason = concept(rep(sch, 7));
  const type = concept(rep(sch, 8));
  const service = concept(rep(ais, 3));
  const cancel = status === 'cancelled' || status === 'noshow' ? concept(rep(sch, 6)) : undefined;
  const comment = notes(ctx.all('NTE')).map((n) => n.text).join('\n');
  const appointment = compact<Appointment & { id: string }>({
    resourceType: 'Appointment',
    id: ctx.id('Appointment', key),
    identifier: ids,
    status,
    cancelationReason: cancel,
    serviceType: service ? [service] : undefined,
    appointmentType: type,
    reasonCode: reason ? [reason] : undefined,
    start: start && end ? start : undefined,
    end: start && end ? end : undefined,
    minutesDuration: minutes,
    comment,
    participant,
  });
  ctx.put(appointment);
}
