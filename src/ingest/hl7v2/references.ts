import type { CodeableConcept, Device, HumanName, Identifier, Location, Organization, Practitioner, PractitionerRole, Reference } from 'fhir/r4';
import { PROVIDER_CODE_SYSTEM } from './config';
import { compact, rep, type MapContext, type Seg } from './context';
import { c, humanName, systemUri, type Rep } from './datatypes';

/**
 * One resource per real thing (issue #14 item 3): a practitioner, organization, location or
 * related person gets an id derived from what identifies it, so the same doctor in a thousand
 * messages is one Practitioner that each message updates, not a thousand copies. Every mapper
 * that meets an XCN, XON, PL or a person related to the patient goes through here.
 */

const V2_0203 = 'http://terminology.hl7.org/CodeSystem/v2-0203';

/** An identifier typed by HL7 table 0203 (SS, MB, AN, PLAC …). */
export function typedIdentifier(code: string, value: string): Identifier {
  return { type: { coding: [{ system: V2_0203, code }] }, value };
}

/** Names compare without case, accents' composition or spacing differences. */
function nameKey(parts: string[]): string {
  return parts.filter(Boolean).join(' ').normalize('NFC').toLocaleLowerCase('vi').replace(/\s+/g, ' ').trim();
}

const OID = /^[0-2](\.(0|[1-9]\d*))+$/;

/** HD (namespace ^ universal id ^ type) → a system URI when it names one; malformed OIDs name none. */
function hdSystem(rep: Rep | undefined, component: number): string | undefined {
  const uid = c(rep, component, 2);
  if (OID.test(uid)) return `urn:oid:${uid}`;
  const ns = c(rep, component, 1);
  if (/^\d+(\.\d+)+$/.test(ns)) return OID.test(ns) ? `urn:oid:${ns}` : undefined;
  return systemUri(ns);
}

/** Practitioner id: facility + assigning authority + identifier, else a hash of the name. */
export function practitionerId(ctx: MapContext, xcn: Rep | undefined): string | undefined {
  const value = c(xcn, 1);
  if (value) return ctx.id('Practitioner', c(xcn, 9) || c(xcn, 9, 2), value);
  const name = nameKey([c(xcn, 2), c(xcn, 3), c(xcn, 4)]);
  return name ? ctx.id('Practitioner', 'name', name) : undefined;
}

/** XCN name components (family ^ given ^ second ^ suffix ^ prefix ^ degree) → HumanName. */
function xcnName(xcn: Rep): HumanName | undefined {
  const name = humanName([xcn[1] ?? [], xcn[2] ?? [], xcn[3] ?? [], xcn[4] ?? [], xcn[5] ?? [], xcn[6] ?? [], xcn[9] ?? []]);
  return name;
}

/**
 * XCN (or CNN/NDL-style PPN) → a Practitioner put in the Bundle, and a reference to it with the
 * name as display. Within one message the same person seen twice keeps whichever mention
 * carries more (a later bare id does not erase the name an earlier field gave).
 */
export function practitioner(ctx: MapContext, xcn: Rep | undefined): Reference | undefined {
  const id = practitionerId(ctx, xcn);
  if (!id || !xcn) return undefined;
  const value = c(xcn, 1);
  const name = xcnName(xcn);
  const type = c(xcn, 13);
  const identifier = value
    ? compact<Identifier>({
        type: type ? { coding: [{ system: V2_0203, code: type }] } : undefined,
        system: hdSystem(xcn, 9),
        value,
        assigner: c(xcn, 9) ? undefined : { identifier: { system: PROVIDER_CODE_SYSTEM, value: ctx.facility } },
      })
    : undefined;
  const degree = c(xcn, 7) || c(xcn, 21);
  const key = `Practitioner/${id}`;
  const known = ctx.get<Practitioner>(key);
  const resource = compact<Practitioner & { id: string }>({
    resourceType: 'Practitioner',
    id,
    identifier: identifier ? [identifier] : known?.identifier,
    name: name ? [name] : known?.name,
    qualification: degree ? [{ code: { text: degree } }] : known?.qualification,
  });
  ctx.put(resource);
  const display = resource.name?.[0]?.text || value;
  return compact<Reference>({ reference: key, display });
}

/** The role a practitioner plays (attending, ordering, ROL-3/PRT-4): one PractitionerRole per practitioner and role. */
export function practitionerRole(ctx: MapContext, who: Reference, role: CodeableConcept | undefined, extra: Partial<PractitionerRole> = {}): Reference {
  const roleKey = role?.coding?.[0]?.code ?? role?.text ?? '';
  const id = ctx.id('PractitionerRole', who.reference ?? '', roleKey);
  ctx.put(compact<PractitionerRole & { id: string }>({
    resourceType: 'PractitionerRole',
    id,
    active: true,
    practitioner: who,
    code: role ? [role] : undefined,
    ...extra,
  }));
  return { reference: `PractitionerRole/${id}`, display: who.display };
}

/**
 * XON (name ^ type ^ id (deprecated) ^ … ^ authority(6) ^ id type(7) ^ … ^ identifier(10)) →
 * Organization, id from its identifier, else its name.
 */
export function organization(ctx: MapContext, xon: Rep | undefined): Reference | undefined {
  const name = c(xon, 1);
  const value = c(xon, 10) || c(xon, 3);
  if (!name && !value) return undefined;
  const id = ctx.id('Organization', value ? `id:${c(xon, 6)}|${value}` : `name:${nameKey([name])}`);
  const type = c(xon, 7);
  ctx.put(compact<Organization & { id: string }>({
    resourceType: 'Organization',
    id,
    identifier: value ? [compact<Identifier>({ type: type ? { coding: [{ system: V2_0203, code: type }] } : undefined, system: hdSystem(xon, 6), value })] : undefined,
    name: name || undefined,
    type: c(xon, 2) ? [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0204', code: c(xon, 2) }] }] : undefined,
    active: true,
  }));
  return compact<Reference>({ reference: `Organization/${id}`, display: name || undefined });
}

/**
 * CWE naming an organization (OBX-15 producer's id): the IG's CWE[Organization], code →
 * identifier.value, coding system → identifier.system, text → name.
 */
export function organizationFromCwe(ctx: MapContext, cwe: Rep | undefined): Reference | undefined {
  const value = c(cwe, 1);
  if (!value) return undefined;
  const system = systemUri(c(cwe, 3));
  const name = c(cwe, 9) || c(cwe, 2);
  const id = ctx.id('Organization', `cwe:${c(cwe, 3)}|${value}`);
  ctx.put(compact<Organization & { id: string }>({
    resourceType: 'Organization',
    id,
    identifier: [compact<Identifier>({ system, value })],
    name: name || undefined,
    active: true,
  }));
  return compact<Reference>({ reference: `Organization/${id}`, display: name || undefined });
}

/** EI (entity id ^ namespace ^ universal id ^ type) → Identifier; the universal id names the system when it is an OID. */
export function eiIdentifier(ei: Rep | undefined): Identifier | undefined {
  const value = c(ei, 1);
  if (!value) return undefined;
  const uid = c(ei, 3);
  const system = OID.test(uid) ? `urn:oid:${uid}` : systemUri(c(ei, 2));
  return compact<Identifier>({ system, value });
}

/**
 * Equipment (OBX-18, PRT-10: "máy xét nghiệm") → one Device per instance identifier, so every
 * result from the same analyser points at the same Device.
 */
export function device(ctx: MapContext, eis: Rep[]): Reference | undefined {
  const identifier = eis.map(eiIdentifier).filter((i, n, all): i is Identifier => !!i && all.findIndex((o) => o?.value === i.value && o?.system === i.system) === n);
  if (!identifier.length) return undefined;
  const id = ctx.id('Device', identifier[0]!.system ?? '', identifier[0]!.value!);
  ctx.put(compact<Device & { id: string }>({ resourceType: 'Device', id, identifier }));
  return { reference: `Device/${id}` };
}

/** HD (MSH-4, MSH-6, PL facility) → Organization; an MA_CSKCB is named in the facility code system. */
export function organizationFromHd(ctx: MapContext, hd: Rep | undefined, component = 1): Reference | undefined {
  const ns = c(hd, component, 1);
  const uid = c(hd, component, 2);
  if (!ns && !uid) return undefined;
  const id = ctx.id('Organization', `hd:${uid || ns}`);
  ctx.put(compact<Organization & { id: string }>({
    resourceType: 'Organization',
    id,
    identifier: [compact<Identifier>({ system: uid ? hdSystem(hd, component) : PROVIDER_CODE_SYSTEM, value: uid || ns })],
    name: ns || undefined,
    active: true,
  }));
  return compact<Reference>({ reference: `Organization/${id}`, display: ns || undefined });
}

/**
 * PL (point of care ^ room ^ bed ^ facility …) → a Location per distinct place, id from the parts.
 * A PL naming no ward, room or bed but a building (PL.7) or floor (PL.8) of a facility (PL.4) is
 * that building or floor.
 */
export function location(ctx: MapContext, pl: Rep | undefined): Reference | undefined {
  const parts = [c(pl, 1), c(pl, 2), c(pl, 3)];
  const ward = parts.some(Boolean);
  const site = [c(pl, 4), c(pl, 7), c(pl, 8)];
  if (!ward && !site[1] && !site[2]) return undefined;
  const physical = ward ? (parts[2] ? ['bd', 'Bed'] : parts[1] ? ['ro', 'Room'] : ['wa', 'Ward']) : site[2] ? ['lvl', 'Level'] : ['bu', 'Building'];
  const status = ward ? c(pl, 5) : '';
  const loc = compact<Location & { id: string }>({
    resourceType: 'Location',
    id: ward ? ctx.id('Location', ...parts) : ctx.id('Location', 'site', ...site),
    status: 'active',
    operationalStatus: status ? { system: 'http://terminology.hl7.org/CodeSystem/v2-0116', code: status } : undefined,
    name: (ward ? [...parts, site[1]] : site).filter(Boolean).join(' / '),
    description: c(pl, 9) || undefined,
    mode: 'instance',
    physicalType: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/location-physical-type', code: physical[0]!, display: physical[1]! }] },
    managingOrganization: { identifier: { system: PROVIDER_CODE_SYSTEM, value: ctx.facility } },
  });
  return { ...ctx.put(loc), display: loc.name! };
}

/** The Location a segment's PL field names; a PL naming no place this can key is reported dropped, not counted. */
export function place(ctx: MapContext, s: Seg | undefined, field: number): Reference | undefined {
  const pl = rep(s, field);
  const ref = location(ctx, pl);
  if (!ref && pl && s) ctx.dropped(s, field, 'place: no ward, room, bed, building or floor (PL.1–3, 7, 8) to name a Location by');
  return ref;
}

/** A person related to the patient (NK1, GT1, IN1 insured): one per patient and person. */
export function relatedPersonId(ctx: MapContext, patient: Reference, ...key: string[]): string {
  return ctx.id('RelatedPerson', patient.reference ?? '', ...key.map((k) => nameKey([k])));
}
