import type { Account, Coverage, Reference } from 'fhir/r4';
import { rep, val, type MapContext } from './context';
import { concept, withSystem } from './datatypes';
import { typedIdentifier } from './references';
import { mapAllergy } from './segments/al1';
import { mapGt1 } from './segments/gt1';
import { mapIn1 } from './segments/in1';
import { mapNk1 } from './segments/nk1';
import { mapPd1 } from './segments/pd1';

/**
 * The PATIENT group a message carries besides PID (PD1, NK1, GT1, IN1, AL1/IAM: "thông tin hành
 * chính, người thân, người bảo lãnh, thẻ BHYT, dị ứng"). Orders, results, pharmacy, immunization,
 * referrals, scheduling, documents and accounts carry the same segments as ADT, and the IG's
 * message maps send them to the same resources, so the ADT segment mappers serve everywhere.
 * GT1 has no IG table (it is "under construction" there); it follows our GT1 map in every message
 * rather than only in ADT, because a guarantor is the same fact whichever message brings it.
 * Returns the Coverages made, in IN1 order (an Account lists them by priority).
 */
export function mapPatientGroup(ctx: MapContext, patient: Reference): Reference[] {
  patientAccount(ctx, patient);
  const coverage: Reference[] = [];
  for (const s of ctx.segs) {
    switch (s.seg.id) {
      case 'PD1': mapPd1(ctx, s, patient); break;
      case 'NK1': mapNk1(ctx, s, patient); break;
      case 'GT1': mapGt1(ctx, s, patient); break;
      case 'IN1': {
        const c = mapIn1(ctx, s, patient);
        if (c) coverage.push(c);
        break;
      }
      case 'AL1': case 'IAM': mapAllergy(ctx, s, patient); break;
    }
  }
  financialClass(ctx, coverage[0]);
  return coverage;
}

/**
 * PV1-20 financial class ("đối tượng": BHYT, viện phí, dịch vụ) → the type of the visit's first
 * Coverage, the IG's PV1[Coverage] map, which writes the same Coverage[1] as the first IN1. With no
 * IN1 there is no payor, which an R4 Coverage needs, so the class stays out.
 */
function financialClass(ctx: MapContext, first: Reference | undefined): void {
  const pv1 = ctx.find('PV1');
  const cls = withSystem(concept(rep(pv1, 20)), 'http://terminology.hl7.org/CodeSystem/v2-0064');
  if (!cls || !pv1) return;
  const coverage = first && ctx.get<Coverage>(first.reference!);
  if (!coverage) return ctx.dropped(pv1, 20, 'financial class: an R4 Coverage needs a payor, and no IN1 names one');
  if (coverage.type) return ctx.dropped(pv1, 20, 'financial class: IN1-15 already gives the Coverage its type');
  coverage.type = cls;
}

/**
 * PID-18 (patient account number, "số tài khoản viện phí") → Account, the IG's PID[Account] map,
 * which GT1 adds guarantors to. A BAR/DFT makes the fuller Account itself first; this one stands aside.
 */
function patientAccount(ctx: MapContext, patient: Reference): void {
  const number = val(ctx.find('PID'), 18);
  if (!number) return;
  const id = ctx.id('Account', `account:${number}`);
  if (ctx.has(`Account/${id}`)) return;
  ctx.put<Account & { id: string }>({
    resourceType: 'Account',
    id,
    identifier: [typedIdentifier('AN', number)],
    status: accountStatus(ctx) ?? 'active',
    subject: [patient],
  });
}

// PV1-41 account status (user table 0117): the usual words and letters; anything else stays out.
const ACCOUNT_STATUS: Record<string, Account['status']> = { a: 'active', active: 'active', i: 'inactive', inactive: 'inactive', c: 'inactive', closed: 'inactive', h: 'on-hold', hold: 'on-hold' };

/** PV1-41 → Account.status, when it is a status FHIR has. */
export function accountStatus(ctx: MapContext): Account['status'] | undefined {
  const pv1 = ctx.find('PV1');
  const raw = val(pv1, 41);
  if (!raw) return undefined;
  const status = ACCOUNT_STATUS[raw.toLowerCase()];
  if (!status) ctx.dropped(pv1, 41, `account status '${raw}': not a status an R4 Account has`);
  return status;
}
