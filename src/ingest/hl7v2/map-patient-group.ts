import type { Account, Reference } from 'fhir/r4';
import { val, type MapContext } from './context';
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
  return coverage;
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
    identifier: [{ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'AN' }] }, value: number }],
    status: 'active',
    subject: [patient],
  });
}
