import { issue } from '../../fhir/outcome';
import type { MessageDef } from './messages';
import { orderGroups } from './groups';
import { mapEncounter } from './map-encounter';
import { mapServiceRequest } from './map-order';
import { mapOrderObservations, mapOrderSpecimens, mapPatientObservations, mapReport } from './map-result';

// Orders and results ("chỉ định, kết quả cận lâm sàng").

const orderOrResult = (event: string, structure: string, result: boolean): MessageDef => ({
  event,
  structure,
  igMap: `${structure} to Bundle`,
  map: (ctx, patient) => {
    const encounter = mapEncounter(ctx, patient);
    if (result) mapPatientObservations(ctx, patient, encounter);
    const groups = orderGroups(ctx);
    if (!groups.length) ctx.issues.push(issue('error', 'required', `${event} without ORC or OBR`, 'OBR'));
    for (const g of groups) {
      const order = mapServiceRequest(ctx, g, patient, encounter, result);
      if (result) mapReport(ctx, g, patient, encounter, order);
      else {
        mapOrderObservations(ctx, g, patient, encounter, order);
        mapOrderSpecimens(ctx, g, patient, order);
      }
    }
  },
});

export const ORDER_MESSAGES: MessageDef[] = [
  orderOrResult('ORM^O01', 'ORM_O01', false),
  orderOrResult('OMI^O23', 'OMI_O23', false),
  orderOrResult('OMG^O19', 'OMG_O19', false),
  orderOrResult('OML^O21', 'OML_O21', false),
  orderOrResult('ORU^R01', 'ORU_R01', true),
  orderOrResult('OML^O33', 'OML_O33', false),
  orderOrResult('OML^O35', 'OML_O35', false),
  orderOrResult('ORU^R30', 'ORU_R30', true),
  orderOrResult('ORU^R32', 'ORU_R30', true),
  orderOrResult('OUL^R22', 'OUL_R22', true),
  orderOrResult('OUL^R23', 'OUL_R23', true),
  orderOrResult('OUL^R24', 'OUL_R24', true),
];
