import type { Coverage, Organization, Reference, RelatedPerson } from 'fhir/r4';
import { VN_IDENTIFIER_SYSTEM } from '../config';
import { compact, rep, reps, val, where, type MapContext, type Seg } from '../context';
import { address, c, concept, contactPoint, humanName } from '../datatypes';
import { codeV2 } from '../tables';
import { organization, relatedPersonId, typedIdentifier } from '../references';
import { segmentMap } from '../segment-maps';

// IN1/IN2/IN3 (insurance: in Vietnam mostly the BHYT card, "thẻ bảo hiểm y tế") → Coverage + payor Organization.
export const IN1 = segmentMap({
  segment: 'IN1',
  igTable: 'Segment IN1 to Coverage',
  resource: 'Coverage',
  fields: {
    2: 'Coverage.class (plan)', 3: 'Organization.identifier (payor)', 4: 'Organization.name (payor)', 5: 'Organization.address (payor)',
    7: 'Organization.telecom (payor)', 8: 'Coverage.class (group)', 9: 'Coverage.class (group).name', 12: 'Coverage.period.start',
    13: 'Coverage.period.end', 15: 'Coverage.type', 16: 'RelatedPerson.name (subscriber)', 17: 'Coverage.relationship',
    10: 'Organization.identifier (policy holder)', 11: 'Coverage.policyHolder (Organization)', 18: 'RelatedPerson.birthDate (insured)',
    19: 'RelatedPerson.address (insured)', 36: 'Coverage.identifier / Coverage.subscriberId', 6: 'Organization.contact.name (payor)', 37: 'Coverage.costToBeneficiary (deductible)', 43: 'RelatedPerson.gender (insured)', 49: 'Coverage.subscriberId',
  },
});
export const IN2 = segmentMap({ segment: 'IN2', igTable: 'Segment IN2 to Coverage (no IG table: extra insured data)', resource: 'Coverage', fields: { 1: 'RelatedPerson.identifier (insured, EI)', 2: 'RelatedPerson.identifier (insured, SS)', 61: 'Coverage.identifier (MB: patient member number)' } });
export const IN3 = segmentMap({ segment: 'IN3', igTable: 'Segment IN3 to CareTeam', resource: 'Coverage', fields: {} });

// HL7 table 0063 → subscriber-relationship for the insured.
const RELATIONSHIP: Record<string, string> = { SEL: 'self', SPO: 'spouse', CHD: 'child', FTH: 'parent', MTH: 'parent', PAR: 'parent', OTH: 'other', EME: 'other' };

export function mapIn1(ctx: MapContext, in1: Seg, patient: Reference): Reference | undefined {
  const policy = val(in1, 36);
  const plan = val(in1, 2);
  const companyId = val(in1, 3);
  const companyName = val(in1, 4);
  if (!policy && !plan && !companyId && !companyName) return undefined;
  const payor = organization(ctx, [[companyName], [], [companyId]]) ?? { display: 'unknown payor' };
  const org = payor.reference ? ctx.get<Organization>(payor.reference) : undefined;
  if (org) {
    const addr = reps(in1, 5).map(address).filter((x) => !!x);
    const tel = reps(in1, 7).map(contactPoint).filter((x) => !!x);
    if (addr.length) org.address = addr;
    if (tel.length) org.telecom = tel;
    // IN1-6 the insurer's contact person ("cán bộ phụ trách"): the payor's contact.
    const contact = reps(in1, 6).map(humanName).find(Boolean);
    if (contact) org.contact = [{ name: contact }];
  }
  const relCode = c(rep(in1, 17), 1).toUpperCase();
  const relationship = RELATIONSHIP[relCode] ?? (relCode ? 'other' : undefined);
  let subscriber: Reference | undefined = relationship === 'self' ? patient : undefined;
  const insured = reps(in1, 16).map(humanName).find(Boolean);
  // IN2 right after its IN1: IN2-1 the insured's employee number and IN2-2 social security number (no IG table exists for IN2).
  const next = ctx.segs[ctx.segs.indexOf(in1) + 1];
  const in2 = next?.seg.id === 'IN2' ? next : undefined;
  const insuredIds = ([[1, 'EI'], [2, 'SS']] as const).filter(([n]) => val(in2, n)).map(([n, code]) => typedIdentifier(code, val(in2, n)));
  if (!subscriber && insured) {
    const id = relatedPersonId(ctx, patient, `insured:${insured.text ?? ''}`);
    // IN1-18/19/43 describe the insured person, so they go to the subscriber RelatedPerson.
    ctx.put(compact({
      resourceType: 'RelatedPerson' as const, id, active: true, patient, identifier: insuredIds.length ? insuredIds : undefined, name: [insured], relationship: concept(rep(in1, 17)) ? [concept(rep(in1, 17))!] : undefined,
      birthDate: ctx.dateTime(val(in1, 18), where(in1, 18))?.slice(0, 10),
      address: reps(in1, 19).map(address).filter((x) => !!x),
      gender: codeV2('v2-0001-to-administrative-gender', val(in1, 43)) as RelatedPerson['gender'],
    }));
    subscriber = { reference: `RelatedPerson/${id}`, display: insured.text };
  }
  else if (subscriber === patient) {
    for (const f of [18, 19, 43]) if (reps(in1, f).length) ctx.dropped(in1, f, 'insured person data: the insured is the patient, whom PID describes');
    for (const f of [1, 2]) if (val(in2, f)) ctx.dropped(in2, f, 'insured person identifier: the insured is the patient, whom PID describes');
  }
  // IN1-11 insured's group employer (with IN1-10 its id) is the IG's policyHolder.
  const holder = organization(ctx, rep(in1, 11));
  const holderOrg = holder && ctx.get<Organization>(holder.reference!);
  const holderId = holderOrg ? c(rep(in1, 10), 1) : '';
  if (holderOrg && holderId && !holderOrg.identifier?.some((i) => i.value === holderId)) holderOrg.identifier = [...(holderOrg.identifier ?? []), { value: holderId }];
  const bhyt = /^[A-Z]{2}\d{13}$/.test(policy);
  const classes: Coverage['class'] = [];
  if (plan) classes.push({ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/coverage-class', code: 'plan' }] }, value: plan });
  const group = val(in1, 8);
  if (group) classes.push(compact({ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/coverage-class', code: 'group' }] }, value: group, name: val(in1, 9) || undefined }));
  const start = ctx.dateTime(val(in1, 12), where(in1, 12))?.slice(0, 10);
  const end = ctx.dateTime(val(in1, 13), where(in1, 13))?.slice(0, 10);
  const coverage = compact<Coverage & { id: string }>({
    resourceType: 'Coverage',
    id: ctx.id('Coverage', patient.reference!, companyId || companyName, policy || plan),
    identifier: [
      ...(policy ? [compact({ system: bhyt ? VN_IDENTIFIER_SYSTEM.BHYT : undefined, value: policy })] : []),
      ...(val(in2, 61) ? [typedIdentifier('MB', val(in2, 61))] : []),
    ],
    status: 'active',
    type: concept(rep(in1, 15)),
    policyHolder: holder,
    subscriber,
    subscriberId: val(in1, 49) || policy || undefined,
    beneficiary: patient,
    relationship: relationship ? { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/subscriber-relationship', code: relationship }] } : undefined,
    period: start || end ? compact({ start, end }) : undefined,
    payor: [payor],
    class: classes,
    costToBeneficiary: deductible(ctx, in1),
  });
  return ctx.put(coverage);
}

/** IN1-37 policy deductible (CP: amount&currency ^ price type) → costToBeneficiary of type deductible. */
function deductible(ctx: MapContext, in1: Seg): Coverage['costToBeneficiary'] {
  const cp = rep(in1, 37);
  const amount = cp?.[0]?.[0] ?? '';
  if (!amount) return undefined;
  const currency = cp?.[0]?.[1] ?? '';
  if (!/^\d+(\.\d+)?$/.test(amount) || !/^[A-Z]{3}$/.test(currency)) {
    ctx.dropped(in1, 37, `policy deductible '${amount}': not an amount with its currency`);
    return undefined;
  }
  return [{ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/coverage-copay-type', code: 'deductible' }] }, valueMoney: { value: Number(amount), currency } }];
}
