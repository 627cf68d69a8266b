import type { CodeableConcept, Reference, ServiceRequest, Task } from 'fhir/r4';
import { issue } from '../../fhir/outcome';
import { deterministicId, referralId } from '../ids';
import { PROVIDER_CODE_SYSTEM } from './config';
import { compact, MapContext, reps, val, where } from './context';
import { concept, withSystem } from './datatypes';
import { notes } from './map-order';
import { mapProvider } from './segments/prd';
import './segments/rf1';

// REF^I12–I15 (giấy chuyển tuyến: referral) RF1 + PRD + DG1 → ServiceRequest + Task, on the same
// ids as the claim's XML13 letter of the same referral (sending facility, referral number).

const REFERRAL = { system: 'http://snomed.info/sct', code: '3457005', display: 'Patient referral' };

/** The same Organization the claim mapper writes for a MA_CSKCB, so both feeds name one resource. */
function organization(ctx: MapContext, code: string): Reference {
  const id = deterministicId('', 'Organization', code);
  if (!ctx.has(`Organization/${id}`)) ctx.put({ resourceType: 'Organization', id, identifier: [{ system: PROVIDER_CODE_SYSTEM, value: code }], active: true });
  return { reference: `Organization/${id}` };
}

export function mapReferral(ctx: MapContext, patient: Reference, encounter: Reference | undefined): void {
  const rf1 = ctx.find('RF1');
  if (!rf1) {
    ctx.issues.push(issue('error', 'required', `REF^${ctx.msg.trigger} without RF1 segment`, 'RF1'));
    return;
  }
  // RF1-6 originating referral identifier = the letter's SO_CHUYENTUYEN; RF1-11 the receiver's own number.
  const number = val(rf1, 6);
  if (!number) {
    ctx.issues.push(issue('error', 'required', 'RF1-6 (originating referral identifier) is empty: the referral cannot be identified', where(rf1, 6)));
    return;
  }
  // The referring side is the sender (MSH-4 / the source's configured MA_CSKCB); the referred-to side MSH-6.
  const fromCode = ctx.facility;
  const toCode = val(ctx.find('MSH'), 6);
  const from = organization(ctx, fromCode);
  const to = toCode ? organization(ctx, toCode) : undefined;
  const cancelled = ctx.msg.trigger === 'I14';
  const reasons: CodeableConcept[] = [];
  for (const dg1 of ctx.all('DG1')) {
    const c = concept(reps(dg1, 3)[0]);
    if (c) reasons.push(c);
  }
  const reasonText = concept(reps(rf1, 10)[0]);
  if (reasonText) reasons.push(reasonText);
  const authoredOn = ctx.dateTime(val(rf1, 9) || val(rf1, 7), where(rf1, 9));
  // PRD: the referring (RP) and referred-to (RT) doctors; the one referred to performs it beside the facility.
  const providers = ctx.all('PRD').map((p) => mapProvider(ctx, p)).filter((p) => !!p);
  const referredTo = providers.filter((p) => p.code === 'RT').map((p) => p.role);
  const identifier = [{ system: 'http://fhir.ehealth.gov.vn/core/sid/referral-letter', value: number, assigner: from }];
  // RF1-11: the number the receiving side gave the referral.
  const external = val(rf1, 11);
  // RF1-3 type (table 0281: lab, medical, psychiatric …), RF1-4 disposition (0282: report back, take over,
  // second opinion) as what is asked, RF1-5 category (0284: inpatient, outpatient …) where it is to happen.
  const kind = withSystem(concept(reps(rf1, 3)[0]), 'http://terminology.hl7.org/CodeSystem/v2-0281');
  const disposition = reps(rf1, 4).map((r) => withSystem(concept(r), 'http://terminology.hl7.org/CodeSystem/v2-0282')).filter((x): x is CodeableConcept => !!x);
  const setting = withSystem(concept(reps(rf1, 5)[0]), 'http://terminology.hl7.org/CodeSystem/v2-0284');
  const expires = ctx.dateTime(val(rf1, 8), where(rf1, 8));
  const request = ctx.put(compact<ServiceRequest & { id: string }>({
    resourceType: 'ServiceRequest',
    id: referralId('ServiceRequest', fromCode, number),
    identifier: external ? [...identifier, ...(to ? [{ value: external, assigner: to }] : [{ value: external }])] : identifier,
    status: cancelled ? 'revoked' : 'completed',
    intent: 'order',
    category: [{ coding: [REFERRAL] }, ...(kind ? [kind] : [])],
    orderDetail: disposition.length ? disposition : undefined,
    locationCode: setting ? [setting] : undefined,
    code: { coding: [REFERRAL] },
    priority: val(rf1, 2) === 'S' ? 'stat' : val(rf1, 2) === 'A' ? 'asap' : undefined,
    subject: patient,
    encounter,
    authoredOn,
    requester: from,
    performer: to || referredTo.length ? [...(to ? [to] : []), ...referredTo] : undefined,
    reasonCode: reasons.length ? reasons : undefined,
    note: notes(ctx.all('NTE'), ctx),
  }));
  // As with the claim's letter, a feed records a referral that happened: its Task is completed (or cancelled, I14).
  ctx.put(compact<Task & { id: string }>({
    resourceType: 'Task',
    id: referralId('Task', fromCode, number),
    identifier,
    status: cancelled ? 'cancelled' : 'completed',
    intent: 'order',
    businessStatus: concept(reps(rf1, 1)[0]),
    focus: request,
    for: patient,
    encounter,
    authoredOn,
    requester: from,
    owner: to,
    // RF1-8 expiration: the letter is valid until then (a BHYT referral letter is valid for a set time).
    restriction: expires ? { period: { end: expires } } : undefined,
  }));
}
