import type { Encounter, Practitioner, Reference } from 'fhir/r4';
import { compact, rep, reps, val, where, type MapContext, type Seg } from '../context';
import { address, concept, contactPoint } from '../datatypes';
import { location, organization, practitioner, practitionerRole } from '../references';
import { segmentMap } from '../segment-maps';

// ROL and PRT (roles and participations: "bác sĩ điều trị, người chăm sóc") → Practitioner +
// PractitionerRole, and an Encounter.participant when the role is part of a visit.
export const ROL = segmentMap({
  segment: 'ROL',
  igTable: 'Segment ROL to Encounter-PractitionerRole',
  resource: 'PractitionerRole',
  fields: {
    1: 'PractitionerRole.identifier', 3: 'PractitionerRole.code', 4: 'PractitionerRole.practitioner', 5: 'Encounter.participant.period.start',
    6: 'Encounter.participant.period.end', 9: 'PractitionerRole.specialty', 10: 'PractitionerRole.specialty (organization unit type)', 11: 'Practitioner.address', 12: 'Practitioner.telecom', 13: 'PractitionerRole.location',
  },
  dropped: { 2: 'action code: the whole message is the update' },
});
export const PRT = segmentMap({
  segment: 'PRT',
  igTable: 'Segment PRT to PractitionerRole',
  resource: 'PractitionerRole',
  fields: {
    1: 'PractitionerRole.identifier', 4: 'PractitionerRole.code', 5: 'PractitionerRole.practitioner', 6: 'PractitionerRole.specialty', 7: 'PractitionerRole.specialty (organization unit type)', 8: 'PractitionerRole.organization',
    9: 'PractitionerRole.location', 11: 'Encounter.participant.period.start', 12: 'Encounter.participant.period.end', 14: 'Practitioner.address', 15: 'Practitioner.telecom',
  },
  dropped: { 2: 'action code: the whole message is the update' },
});

export function mapRole(ctx: MapContext, s: Seg, encounter: Reference | undefined): Reference | undefined {
  const prt = s.seg.id === 'PRT';
  const who = practitioner(ctx, rep(s, prt ? 5 : 4));
  if (!who) return undefined;
  const p = ctx.get<Practitioner>(who.reference!);
  if (p) {
    const addr = reps(s, prt ? 14 : 11).map(address).filter((x) => !!x);
    const tel = reps(s, prt ? 15 : 12).map(contactPoint).filter((x) => !!x);
    if (addr.length) p.address = addr;
    if (tel.length) p.telecom = tel;
  }
  const role = concept(rep(s, prt ? 4 : 3));
  const specialties = [concept(rep(s, prt ? 6 : 9)), concept(rep(s, prt ? 7 : 10))].filter((x) => !!x);
  const loc = location(ctx, rep(s, prt ? 9 : 13));
  const org = prt ? organization(ctx, rep(s, 8)) : undefined;
  const ident = val(s, 1);
  const start = ctx.dateTime(val(s, prt ? 11 : 5), where(s, prt ? 11 : 5));
  const end = ctx.dateTime(val(s, prt ? 12 : 6), where(s, prt ? 12 : 6));
  const ref = practitionerRole(ctx, who, role, compact({
    identifier: ident ? [{ value: ident }] : undefined,
    specialty: specialties,
    location: loc ? [loc] : undefined,
    organization: org,
  }));
  const enc = encounter && ctx.get<Encounter>(encounter.reference!);
  if (enc) {
    enc.participant = [...(enc.participant ?? []), compact({ type: role ? [role] : undefined, individual: ref, period: start || end ? compact({ start, end }) : undefined })];
  }
  return ref;
}
