import type { Account, Reference, RelatedPerson } from 'fhir/r4';
import { compact, rep, reps, val, where, type MapContext, type Seg } from '../context';
import { address, c, concept, contactPoint, humanName } from '../datatypes';
import { organization, relatedPersonId, typedIdentifier } from '../references';
import { segmentMap } from '../segment-maps';
import { codeV2 } from '../tables';

// GT1 (guarantor, "người bảo lãnh thanh toán") → RelatedPerson (or the patient) as Account.guarantor.
export const GT1 = segmentMap({
  segment: 'GT1',
  igTable: 'Segment GT1 to Account (guarantor) / RelatedPerson',
  resource: 'RelatedPerson',
  fields: {
    2: 'RelatedPerson.identifier', 3: 'RelatedPerson.name', 5: 'RelatedPerson.address', 6: 'RelatedPerson.telecom', 7: 'RelatedPerson.telecom',
    8: 'RelatedPerson.birthDate', 9: 'RelatedPerson.gender', 11: 'RelatedPerson.relationship', 12: 'RelatedPerson.identifier (SS)', 13: 'Account.guarantor.period.start', 14: 'Account.guarantor.period.end',
    21: 'Account.guarantor.party (Organization)', 22: 'Account.guarantor.onHold', 36: 'RelatedPerson.communication.language',
  },
});

export function mapGt1(ctx: MapContext, gt1: Seg, patient: Reference): void {
  const name = reps(gt1, 3).map(humanName).find(Boolean);
  const number = val(gt1, 2);
  const ssn = val(gt1, 12);
  const rel = rep(gt1, 11);
  const self = c(rel, 1).toUpperCase() === 'SEL';
  let party: Reference = patient;
  if (self && ssn) ctx.dropped(gt1, 12, 'the guarantor is the patient: PID-19 carries the SSN');
  if (!self && (name || number)) {
    const id = relatedPersonId(ctx, patient, number ? `guarantor:${number}` : `guarantor:${name?.text ?? ''}`);
    const relationship = concept(rel);
    party = ctx.put(compact<RelatedPerson & { id: string }>({
      resourceType: 'RelatedPerson',
      id,
      active: true,
      patient,
      identifier: [...(number ? [{ value: number }] : []), ...(ssn ? [typedIdentifier('SS', ssn)] : [])],
      relationship: relationship ? [relationship] : undefined,
      name: name ? [name] : undefined,
      telecom: [...reps(gt1, 6), ...reps(gt1, 7)].map(contactPoint).filter((x) => !!x),
      address: reps(gt1, 5).map(address).filter((x) => !!x),
      birthDate: ctx.dateTime(val(gt1, 8), where(gt1, 8))?.slice(0, 10),
      gender: codeV2('v2-0001-to-administrative-gender', val(gt1, 9)) as RelatedPerson['gender'],
      // GT1-36 primary language
      communication: concept(rep(gt1, 36)) ? [{ language: concept(rep(gt1, 36))! }] : undefined,
    }));
  }
  const pid = ctx.find('PID');
  const accountNo = val(pid, 18);
  const start = ctx.dateTime(val(gt1, 13), where(gt1, 13))?.slice(0, 10);
  const end = ctx.dateTime(val(gt1, 14), where(gt1, 14))?.slice(0, 10);
  const id = ctx.id('Account', accountNo ? `account:${accountNo}` : patient.reference!);
  const existing = ctx.get<Account>(`Account/${id}`);
  // GT1-22 billing hold flag: the guarantor's onHold.
  const hold = val(gt1, 22).toUpperCase();
  const guarantor = compact({ party, onHold: hold === 'Y' ? true : hold === 'N' ? false : undefined, period: start || end ? compact({ start, end }) : undefined });
  if (existing) {
    existing.guarantor = [...(existing.guarantor ?? []), guarantor];
    return;
  }
  ctx.put(compact<Account & { id: string }>({
    resourceType: 'Account',
    id,
    identifier: accountNo ? [{ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'AN' }] }, value: accountNo }] : undefined,
    status: 'active',
    subject: [patient],
    guarantor: [guarantor],
  }));
}
