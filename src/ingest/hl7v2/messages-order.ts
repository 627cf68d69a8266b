import type { Reference, ServiceRequest } from 'fhir/r4';
import { issue } from '../../fhir/outcome';
import type { MapContext, Seg } from './context';
import type { MessageDef } from './messages';
import { orderGroups, type OrderGroup } from './groups';
import { mapCharges } from './map-billing';
import { mapDocument } from './map-document';
import { mapEncounter } from './map-encounter';
import { mapPatientGroup } from './map-patient-group';
import { mapServiceRequest } from './map-order';
import { mapOrderObservations, mapOrderSpecimens, mapPatientObservations, mapReport } from './map-result';
import { mapDg1 } from './segments/dg1';
import { mapOrderProvenance } from './segments/orc';

// Orders and results ("chỉ định, kết quả cận lâm sàng").

const orderOrResult = (event: string, structure: string, result: boolean): MessageDef => ({
  event,
  structure,
  igMap: `${structure} to Bundle`,
  map: (ctx, patient) => {
    const encounter = mapEncounter(ctx, patient);
    mapPatientGroup(ctx, patient);
    if (result) mapPatientObservations(ctx, patient, encounter);
    const groups = orderGroups(ctx);
    if (!groups.length) ctx.issues.push(issue('error', 'required', `${event} without ORC or OBR`, 'OBR'));
    const orders: Reference[] = [];
    for (const g of groups) {
      const order = mapServiceRequest(ctx, g, patient, encounter, result);
      if (order) orders.push(order);
      mapOrderProvenance(ctx, g.orc, order);
      // DG1 in the order (IG ORM_O01 ORDER_DETAIL, OML_O21 OBSERVATION_REQUEST): a Condition the request is for.
      const reasons = orderDiagnoses(ctx, groups, g).map((dg1) => mapDg1(ctx, dg1, patient, encounter)).filter((r): r is NonNullable<typeof r> => !!r);
      const sr = order && ctx.get<ServiceRequest>(order.reference!);
      if (sr && reasons.length) sr.reasonReference = [...(sr.reasonReference ?? []), ...reasons];
      if (result) mapReport(ctx, g, patient, encounter, order);
      else {
        mapOrderObservations(ctx, g, patient, encounter, order);
        mapOrderSpecimens(ctx, g, patient, order);
      }
    }
    // TXA in a result (the IG's ORU_R01 ORDER_DOCUMENT lists it without a target): the document's
    // header as a DocumentReference, per TXA[DocumentReference], its content left to the report.
    if (result && ctx.find('TXA')) mapDocument(ctx, patient, encounter, orders, false);
    // FT1 in the ORDER group (IG ORM_O01, OML_O21, ORU_R01 list it without a target): the charge
    // for the order, the same ChargeItem a DFT would make ("phí dịch vụ kỹ thuật").
    mapCharges(ctx, patient, encounter, undefined);
  },
});

/** The DG1 segments between an order's first segment and the next order's. */
function orderDiagnoses(ctx: MapContext, groups: OrderGroup[], g: OrderGroup): Seg[] {
  const start = (x: OrderGroup) => Math.min(...[x.orc, x.obr].filter((s): s is Seg => !!s).map((s) => ctx.segs.indexOf(s)));
  const from = start(g);
  const next = groups[groups.indexOf(g) + 1];
  const to = next ? start(next) : ctx.segs.length;
  return ctx.segs.slice(from, to).filter((s) => s.seg.id === 'DG1');
}

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
