import type { Reference } from 'fhir/r4';
import type { MapContext } from './context';
import { mapAllergy } from './segments/al1';
import { mapIn1 } from './segments/in1';
import { mapNk1 } from './segments/nk1';
import { mapPd1 } from './segments/pd1';

/**
 * The PATIENT group an order, result, pharmacy or immunization message carries besides PID
 * (PD1, NK1, IN1, AL1/IAM: "thông tin hành chính, người thân, thẻ BHYT, dị ứng"). The IG's
 * ORM_O01, OML_O21, ORU_R01 and VXU_V04 maps send them to the same resources as ADT does, so
 * the ADT segment mappers serve here too.
 */
export function mapPatientGroup(ctx: MapContext, patient: Reference): void {
  for (const s of ctx.segs) {
    switch (s.seg.id) {
      case 'PD1': mapPd1(ctx, s, patient); break;
      case 'NK1': mapNk1(ctx, s, patient); break;
      case 'IN1': mapIn1(ctx, s, patient); break;
      case 'AL1': case 'IAM': mapAllergy(ctx, s, patient); break;
    }
  }
}
