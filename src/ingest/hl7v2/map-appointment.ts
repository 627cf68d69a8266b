import type { Appointment, AppointmentParticipant, Period, Practitioner, Reference } from 'fhir/r4';
import { issue } from '../../fhir/outcome';
import { PROVIDER_CODE_SYSTEM } from './config';
import { compact, MapContext, rep, val, where, type Seg } from './context';
import { addMinutes, address, concept, contactPoint } from './datatypes';
import { place as placeOf, practitioner, typedIdentifier } from './references';
import { location } from './map-encounter';
import { notes } from './map-order';
import { codeV2 } from './tables';
import './segments/sch';
import './segments/tq1';

// SCH + AIS/AIG/AIL/AIP (lịch hẹn: scheduling) → Appointment.

const V2_0203 = 'http://terminology.hl7.org/CodeSystem/v2-0203';
const MINUTES: Record<string, number> = { m: 1, min: 1, minute: 1, minutes: 1, h: 60, hr: 60, hour: 60, s: 1 / 60, sec: 1 / 60, d: 1440 };

/** Filler status (HL7 table 0278) of one resource → its ParticipationStatus. */
const PARTICIPATION: Record<string, AppointmentParticipant['status']> = {
  booked: 'accepted', started: 'accepted', complete: 'accepted', overbook: 'accepted', blocked: 'accepted',
  pending: 'needs-action', waitlist: 'tentative', cancelled: 'declined', canceled: 'declined', dc: 'declined', deleted: 'declined', noshow: 'declined',
};

/**
 * AIG/AIL/AIP start (field `at`), start offset (`at`+1) and duration (`at`+3, units `at`+4) →
 * participant.period, per the IG's AIx tables: the offset counts from the appointment's start
 * when the resource's own start is empty; the duration gives the end.
 */
function resourcePeriod(ctx: MapContext, s: Seg, at: number, appointmentStart: string | undefined): Period | undefined {
  const toMinutes = (n: number) => {
    const v = Number(val(s, n));
    const unit = (val(s, n + 1) || 'm').toLowerCase();
    return val(s, n) && Number.isFinite(v) ? v * (MINUTES[unit] ?? 1) : undefined;
  };
  const own = ctx.dateTime(val(s, at), where(s, at));
  const offset = own ? undefined : toMinutes(at + 1);
  const start = own ?? (offset !== undefined && appointmentStart ? addMinutes(appointmentStart, offset) : undefined);
  const length = toMinutes(at + 3);
  const end = start && length !== undefined ? addMinutes(start, length) : undefined;
  return start ? compact<Period>({ start, end }) : undefined;
}

/** SCH-12/16/20 (placer contact, filler contact, enterer) with their phone, address and place. */
function schContacts(ctx: MapContext, sch: Seg): AppointmentParticipant[] {
  const out: AppointmentParticipant[] = [];
  for (const [person, phone, addr, place, code, text] of [[12, 13, 14, 15, 'CALLBCK', 'placer contact'], [16, 17, 18, 19, 'CALLBCK', 'filler contact'], [20, 21, 0, 22, 'enterer', 'entered by']] as const) {
    const who = practitioner(ctx, rep(sch, person));
    const at = placeOf(ctx, sch, place);
    if (who) {
      const p = ctx.get<Practitioner>(who.reference!);
      const telecom = contactPoint(rep(sch, phone) ?? []);
      const address_ = addr ? address(rep(sch, addr) ?? []) : undefined;
      if (p && telecom) p.telecom = [...(p.telecom ?? []).filter((t) => t.value !== telecom.value), telecom];
      if (p && address_) p.address = [address_];
      const system = code === 'enterer' ? 'http://terminology.hl7.org/CodeSystem/provenance-participant-type' : 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';
      out.push({ actor: who, type: [{ coding: [{ system, code }], text }], status: 'accepted' });
    }
    if (at) out.push({ actor: at, status: 'accepted' });
  }
  return out;
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
  const aig = ctx.all('AIG');
  // TQ1 replaced SCH-11 in v2.6; the IG reads TQ1 first and the deprecated field only without it.
  const start = ctx.dateTime(val(tq1, 7) || val(sch, 11, 4) || val(ais, 4) || val(ail[0], 6) || val(aip[0], 6), val(tq1, 7) ? where(tq1!, 7) : where(sch, 11, 1, 4));
  let end = ctx.dateTime(val(tq1, 8) || (val(tq1, 7) ? '' : val(sch, 11, 5)), val(tq1, 8) ? where(tq1!, 8) : where(sch, 11, 1, 5));
  const duration = Number(val(sch, 9) || val(sch, 11, 3) || val(ais, 7));
  const unit = (val(sch, 10) || val(ais, 8) || 'm').toLowerCase();
  const minutes = Number.isFinite(duration) && duration > 0 ? Math.round(duration * (MINUTES[unit] ?? 1)) : undefined;
  if (start && !end && minutes) end = addMinutes(start, minutes);

  const filler = val(sch, 25) || val(ais, 10);
  // AIS-10 repeats SCH-25 in most feeds: the same status reaches the same element; a different one is left out.
  if (val(sch, 25) && val(ais, 10) && val(ais, 10).toLowerCase() !== val(sch, 25).toLowerCase()) ctx.dropped(ais, 10, 'filler status: SCH-25 gives the appointment status, and differs');
  let status = (codeV2('v2-0278-to-appointment-status', filler) ??
    codeV2('v2-0278-to-appointment-status', filler.charAt(0).toUpperCase() + filler.slice(1).toLowerCase()) ??
    codeV2('v2-siu-event-to-appointment-status', ctx.msg.trigger) ?? 'booked') as Appointment['status'];
  if (ctx.msg.trigger === 'S15' || ctx.msg.trigger === 'S16') status = 'cancelled';
  if (!(start && end) && !['proposed', 'cancelled', 'waitlist'].includes(status)) {
    ctx.issues.push(issue('warning', 'incomplete', `Appointment has no start and end time (SCH-11, TQ1-7/8, AIS-4): recorded as proposed instead of ${status}`, where(sch, 11)));
    status = 'proposed';
  }

  const participant: AppointmentParticipant[] = [{ actor: patient, status: 'accepted' }];
  const statusOf = (s: Seg, n: number) => PARTICIPATION[val(s, n).toLowerCase()] ?? 'accepted';
  // AIx-2 segment action code (A add, U update, D delete): a resource deleted from the appointment is no participant.
  const kept = (s: Seg) => val(s, 2).toUpperCase() !== 'D';
  for (const p of aip.filter(kept)) {
    const who = practitioner(ctx, rep(p, 3));
    const role = concept(rep(p, 4));
    if (who) participant.push(compact<AppointmentParticipant>({ actor: who, type: role ? [role] : undefined, status: statusOf(p, 12), period: resourcePeriod(ctx, p, 6, start) }));
  }
  for (const g of aig.filter(kept)) {
    const resource = concept(rep(g, 3));
    const kind = concept(rep(g, 4));
    const display = resource?.text ?? resource?.coding?.[0]?.code;
    if (display) participant.push(compact<AppointmentParticipant>({ actor: { display }, type: kind ? [kind] : undefined, status: statusOf(g, 14), period: resourcePeriod(ctx, g, 8, start) }));
  }
  for (const l of ail.filter(kept)) {
    const where_ = location(ctx, rep(l, 3));
    if (where_) participant.push(compact<AppointmentParticipant>({ actor: where_, status: statusOf(l, 12), period: resourcePeriod(ctx, l, 6, start) }));
  }
  participant.push(...schContacts(ctx, sch));
  const ids = [
    val(sch, 1) && { type: { coding: [{ system: V2_0203, code: 'PLAC' }] }, value: val(sch, 1), assigner: { identifier: { system: PROVIDER_CODE_SYSTEM, value: ctx.facility } } },
    val(sch, 2) && { type: { coding: [{ system: V2_0203, code: 'FILL' }] }, value: val(sch, 2), assigner: { identifier: { system: PROVIDER_CODE_SYSTEM, value: ctx.facility } } },
  ].filter((x): x is Exclude<typeof x, ''> => !!x);
  // SCH-26/27 placer/filler order number: the order this appointment carries out, by identifier.
  const basedOn = ([[26, 'PLAC'], [27, 'FILL']] as const).map(([n, code]) => val(sch, n) && { type: 'ServiceRequest', identifier: typedIdentifier(code, val(sch, n)) }).filter((x): x is Exclude<typeof x, ''> => !!x);
  const reason = concept(rep(sch, 7));
  const type = concept(rep(sch, 8));
  const service = concept(rep(ais, 3));
  // R4's app-4 spells the no-show status 'no-show', which no Appointment can have: so only cancellations carry SCH-6.
  const cancel = status === 'cancelled' ? concept(rep(sch, 6)) : undefined;
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
    basedOn,
    participant,
  });
  ctx.put(appointment);
}
