import type { Device, Encounter, Practitioner, PractitionerRole, Reference } from 'fhir/r4';
import { compact, rep, reps, val, where, type MapContext, type Seg } from '../context';
import { address, concept, contactPoint } from '../datatypes';
import { device, location, organization, practitioner, practitionerRole } from '../references';
import { segmentMap } from '../segment-maps';

// ROL and PRT (roles and participations: "bác sĩ điều trị, người chăm sóc") → Practitioner +
// PractitionerRole, and an Encounter.participant when the role is part of a visit.
export const ROL = segmentMap({
  segment: 'ROL',
  igTable: 'Segment ROL to Encounter-PractitionerRole',
  resource: 'PractitionerRole',
  fields: {
    1: 'PractitionerRole.identifier', 2: 'the participation itself (DE: left out)', 3: 'PractitionerRole.code', 4: 'PractitionerRole.practitioner', 5: 'Encounter.participant.period.start',
    6: 'Encounter.participant.period.end', 9: 'PractitionerRole.specialty', 10: 'PractitionerRole.specialty (organization unit type)', 11: 'Practitioner.address', 12: 'Practitioner.telecom', 13: 'PractitionerRole.location', 14: 'PractitionerRole.organization',
  },

});
export const PRT = segmentMap({
  segment: 'PRT',
  igTable: 'Segment PRT to PractitionerRole',
  resource: 'PractitionerRole',
  fields: {
    1: 'PractitionerRole.identifier', 2: 'the participation itself (DE: left out)', 4: 'PractitionerRole.code', 5: 'PractitionerRole.practitioner', 6: 'PractitionerRole.specialty', 7: 'PractitionerRole.specialty (organization unit type)', 8: 'PractitionerRole.organization',
    9: 'PractitionerRole.location', 10: 'Device.identifier (PRT[Device])', 11: 'PractitionerRole.period.start', 12: 'PractitionerRole.period.end', 14: 'Practitioner.address',
    15: 'Practitioner.telecom (PractitionerRole.telecom without a person)', 17: 'Device.manufactureDate', 18: 'Device.expirationDate', 19: 'Device.lotNumber',
    20: 'Device.serialNumber', 21: 'Device.distinctIdentifier', 22: 'Device.type',
  },
  dropped: {
    3: 'action reason: no IG mapping', 13: 'qualitative duration: no IG mapping',
    16: 'UDI device identifier: the IG puts it in Device.udiCarrier, which needs the UDI issuer this feed does not give',
    23: 'preferred method of contact: no telecom to mark', 24: 'contact identifiers: no IG element in R4',
  },
});

/**
 * PRT-10 (device taking part: "thiết bị") → Device per the IG's PRT[Device] map, with the
 * manufacture and expiry dates, lot, serial, donation id and type of PRT-17–22.
 */
export function mapPrtDevice(ctx: MapContext, s: Seg): Reference | undefined {
  const ref = device(ctx, reps(s, 10));
  const dev = ref && ctx.get<Device>(ref.reference!);
  if (!dev) return undefined;
  Object.assign(dev, compact<Partial<Device>>({
    manufactureDate: ctx.dateTime(val(s, 17), where(s, 17)),
    expirationDate: ctx.dateTime(val(s, 18), where(s, 18)),
    lotNumber: val(s, 19) || undefined,
    serialNumber: val(s, 20) || undefined,
    distinctIdentifier: val(s, 21) || undefined,
    type: concept(rep(s, 22)),
  }));
  return ref;
}

/**
 * ROL or PRT → the PractitionerRole it describes (and an Encounter.participant in a visit). A PRT
 * naming no person (PRT-5) but an organization, place or contact is still a role there, per the
 * IG's PRT map; a ROL needs its person.
 */
export function mapRole(ctx: MapContext, s: Seg, encounter: Reference | undefined): Reference | undefined {
  const prt = s.seg.id === 'PRT';
  // PRT-2 / ROL-2 action code (table 0287: AD add, UP update, DE delete, …): a deleted participation
  // is not written to the visit, order or result this message restates. The role itself (the
  // doctor's, shared by every visit) stays as it is.
  if (['DE', 'D'].includes(val(s, 2).toUpperCase())) {
    for (let n = 3; n < s.seg.fields.length; n++) if (s.seg.fields[n]?.length) ctx.dropped(s, n, 'the participation is deleted (action code DE)');
    return undefined;
  }
  const who = practitioner(ctx, rep(s, prt ? 5 : 4));
  if (!who && !prt) return undefined;
  const addr = reps(s, prt ? 14 : 11).map(address).filter((x) => !!x);
  const telecom = reps(s, prt ? 15 : 12).map(contactPoint).filter((x) => !!x);
  const loc = location(ctx, rep(s, prt ? 9 : 13));
  // PRT-8 / ROL-14 organization: the IG's PractitionerRole.organization.
  const org = organization(ctx, rep(s, prt ? 8 : 14));
  if (!who && !org && !loc && !telecom.length) return undefined;
  const role = concept(rep(s, prt ? 4 : 3));
  const ident = val(s, 1);
  const start = ctx.dateTime(val(s, prt ? 11 : 5), where(s, prt ? 11 : 5));
  const end = ctx.dateTime(val(s, prt ? 12 : 6), where(s, prt ? 12 : 6));
  const period = start || end ? compact({ start, end }) : undefined;
  const details = {
    identifier: ident ? [{ value: ident }] : undefined,
    period,
    specialty: [concept(rep(s, prt ? 6 : 9)), concept(rep(s, prt ? 7 : 10))].filter((x) => !!x),
    location: loc ? [loc] : undefined,
    organization: org,
  };
  let ref: Reference;
  if (who) {
    const p = ctx.get<Practitioner>(who.reference!);
    if (p && addr.length) p.address = addr;
    if (p && telecom.length) p.telecom = telecom;
    ref = practitionerRole(ctx, who, role, compact(details));
  } else {
    if (addr.length) ctx.dropped(s, 14, "address: the IG's PRT map makes it the person's (PRT-5), and there is none");
    const id = ctx.id('PractitionerRole', 'prt', org?.reference ?? '', loc?.reference ?? '', role?.coding?.[0]?.code ?? role?.text ?? '');
    ctx.put(compact<PractitionerRole & { id: string }>({ resourceType: 'PractitionerRole', id, active: true, code: role ? [role] : undefined, ...details, telecom }));
    ref = compact<Reference>({ reference: `PractitionerRole/${id}`, display: org?.display ?? loc?.display });
  }
  const enc = encounter && ctx.get<Encounter>(encounter.reference!);
  if (enc) enc.participant = [...(enc.participant ?? []), compact({ type: role ? [role] : undefined, individual: ref, period })];
  return ref;
}

/** A PRT: the role it describes and the device it names (either may be absent). */
export function mapParticipation(ctx: MapContext, s: Seg, encounter: Reference | undefined): { role?: Reference; device?: Reference } {
  return { role: mapRole(ctx, s, encounter), device: s.seg.id === 'PRT' ? mapPrtDevice(ctx, s) : undefined };
}

/**
 * PRT segments no message mapper has read (after PID, PV1, an order, a drug or a charge): mapped
 * on their own per the IG's PRT maps; one in the visit (after PV1/PV2) is also an
 * Encounter.participant, as the IG's message maps put it.
 */
export function mapRemainingParticipations(ctx: MapContext): void {
  if (!ctx.segs.some((s) => s.seg.id === 'PRT' && !s.used.size)) return;
  const encounter = ctx.bundle().entry?.find((e) => e.resource?.resourceType === 'Encounter')?.resource;
  let anchor = '';
  for (const s of ctx.segs) {
    if (s.seg.id !== 'PRT') {
      anchor = s.seg.id;
      continue;
    }
    if (s.used.size) continue;
    const inVisit = (anchor === 'PV1' || anchor === 'PV2') && encounter;
    mapParticipation(ctx, s, inVisit ? { reference: `Encounter/${encounter.id}` } : undefined);
  }
}
