import type { Organization, Practitioner, Reference } from 'fhir/r4';
import { compact, rep, reps, val, where, type MapContext, type Seg } from '../context';
import { address, concept, contactPoint, withSystem, type Rep } from '../datatypes';
import { organization, place, practitioner, practitionerRole } from '../references';
import { segmentMap } from '../segment-maps';

// PRD (provider data of a referral: "bác sĩ chuyển, bác sĩ nhận") → Practitioner + PractitionerRole.
// The IG has no PRD table; this follows its PRT[PractitionerRole] map for the same facts.
export const PRD = segmentMap({
  segment: 'PRD',
  igTable: 'Segment PRD to PractitionerRole (no IG table; after PRT[PractitionerRole])',
  resource: 'PractitionerRole',
  fields: {
    1: 'PractitionerRole.code', 2: 'Practitioner.name', 3: 'Practitioner.address', 4: 'PractitionerRole.location', 5: 'Practitioner.telecom',
    7: 'Practitioner.identifier', 8: 'PractitionerRole.period.start', 9: 'PractitionerRole.period.end', 10: 'PractitionerRole.organization',
    11: 'Organization.address', 13: 'Organization.telecom',
  },
  dropped: { 6: 'preferred method of contact: no FHIR element' },
});

/**
 * One PRD → the provider's PractitionerRole (role PRD-1: RP referring, RT referred to, …).
 * PRD-2 is a name (XPN) and PRD-7 an identifier (PLN): together they are the XCN the shared
 * practitioner() keys a doctor by, so the doctor is the same resource as in other messages.
 */
export function mapProvider(ctx: MapContext, prd: Seg): { role: Reference; code: string } | undefined {
  const name = rep(prd, 2);
  const id = val(prd, 7);
  const xcn: Rep | undefined = name || id ? [[id], ...(name ?? []).slice(0, 6)] : undefined;
  const who = practitioner(ctx, xcn);
  if (!who) return undefined;
  const person = ctx.get<Practitioner>(who.reference!);
  const addr = reps(prd, 3).map(address).filter((x) => !!x);
  const telecom = reps(prd, 5).map(contactPoint).filter((x) => !!x);
  if (person && addr.length) person.address = addr;
  if (person && telecom.length) person.telecom = telecom;
  const org = organization(ctx, rep(prd, 10));
  const orgResource = org && ctx.get<Organization>(org.reference!);
  const orgAddr = reps(prd, 11).map(address).filter((x) => !!x);
  const orgTel = reps(prd, 13).map(contactPoint).filter((x) => !!x);
  if (orgResource && orgAddr.length) orgResource.address = orgAddr;
  if (orgResource && orgTel.length) orgResource.telecom = orgTel;
  const start = ctx.dateTime(val(prd, 8), where(prd, 8))?.slice(0, 10);
  const end = ctx.dateTime(val(prd, 9), where(prd, 9))?.slice(0, 10);
  const code = withSystem(concept(rep(prd, 1)), 'http://terminology.hl7.org/CodeSystem/v2-0286');
  const loc = place(ctx, prd, 4);
  const role = practitionerRole(ctx, who, code, compact({ organization: org, location: loc ? [loc] : undefined, period: start || end ? compact({ start, end }) : undefined }));
  return { role, code: code?.coding?.[0]?.code ?? '' };
}
