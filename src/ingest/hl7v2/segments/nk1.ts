import type { Reference, RelatedPerson } from 'fhir/r4';
import { compact, rep, reps, val, type MapContext, type Seg } from '../context';
import { address, c, concept, contactPoint, humanName } from '../datatypes';
import { relatedPersonId, typedIdentifier } from '../references';
import { segmentMap } from '../segment-maps';
import { codeV2, translateV2 } from '../tables';

// NK1 (next of kin, "người thân, người liên hệ") → RelatedPerson, besides Patient.contact.
export const NK1 = segmentMap({
  segment: 'NK1',
  igTable: 'Segment NK1 to RelatedPerson',
  resource: 'RelatedPerson',
  fields: {
    2: 'RelatedPerson.name', 3: 'RelatedPerson.relationship', 4: 'RelatedPerson.address', 5: 'RelatedPerson.telecom',
    6: 'RelatedPerson.telecom', 7: 'RelatedPerson.relationship', 8: 'RelatedPerson.period.start', 9: 'RelatedPerson.period.end',
    12: 'RelatedPerson.identifier', 15: 'RelatedPerson.gender', 16: 'RelatedPerson.birthDate', 20: 'RelatedPerson.communication.language',
    30: 'RelatedPerson.name', 31: 'RelatedPerson.telecom', 32: 'RelatedPerson.address', 33: 'RelatedPerson.identifier', 40: 'RelatedPerson.telecom', 41: 'RelatedPerson.telecom',
    13: 'Patient.contact.organization', 37: 'RelatedPerson.identifier (SS)',
  },
});

export function mapNk1(ctx: MapContext, nk1: Seg, patient: Reference): Reference | undefined {
  const names = [...reps(nk1, 2), ...reps(nk1, 30)].map(humanName).filter((x) => !!x);
  const telecom = [...reps(nk1, 5), ...reps(nk1, 6), ...reps(nk1, 31), ...reps(nk1, 40), ...reps(nk1, 41)].map(contactPoint).filter((x) => !!x);
  const addresses = [...reps(nk1, 4), ...reps(nk1, 32)].map(address).filter((x) => !!x);
  // NK1-12 employee number, NK1-33 identifiers, NK1-37 contact person's social security number.
  const ids = [...reps(nk1, 12), ...reps(nk1, 33)].map((cx) => c(cx, 1)).filter(Boolean);
  const ssn = val(nk1, 37);
  if (!names.length && !telecom.length && !ids.length) return undefined;
  const rel = rep(nk1, 3);
  const relationship = [concept(rel), concept(rep(nk1, 7))].filter((x) => !!x);
  const fhirRel = translateV2('v2-0063-to-contact-relationship', c(rel, 1));
  if (fhirRel && relationship[0]) relationship[0].coding = [...(relationship[0].coding ?? []), fhirRel];
  const key = ids[0] ? `id:${ids[0]}` : `name:${names[0]?.text ?? ''}|${c(rel, 1)}`;
  const start = ctx.dateTime(val(nk1, 8), 'NK1-8')?.slice(0, 10);
  const end = ctx.dateTime(val(nk1, 9), 'NK1-9')?.slice(0, 10);
  const lang = concept(rep(nk1, 20));
  const person = compact<RelatedPerson & { id: string }>({
    resourceType: 'RelatedPerson',
    id: relatedPersonId(ctx, patient, key),
    active: true,
    patient,
    identifier: [...ids.map((value) => ({ value })), ...(ssn ? [typedIdentifier('SS', ssn)] : [])],
    relationship,
    name: names,
    telecom,
    gender: codeV2('v2-0001-to-administrative-gender', val(nk1, 15)) as RelatedPerson['gender'],
    birthDate: ctx.dateTime(val(nk1, 16), 'NK1-16')?.slice(0, 10),
    address: addresses,
    period: start || end ? compact({ start, end }) : undefined,
    communication: lang ? [{ language: lang }] : undefined,
  });
  return ctx.put(person);
}
