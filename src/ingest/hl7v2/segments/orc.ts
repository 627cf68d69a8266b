import type { Provenance, ProvenanceAgent, Reference } from 'fhir/r4';
import { compact, rep, reps, val, where, type MapContext, type Seg } from '../context';
import { device, organization, place, practitioner } from '../references';
import { segmentMap } from '../segment-maps';

// The ORC table map-order.ts follows (Segment ORC to ServiceRequest): which fields go where, and which not.
export const ORC = segmentMap({
  segment: 'ORC',
  igTable: 'Segment ORC to ServiceRequest',
  resource: 'ServiceRequest',
  fields: {
    1: 'ServiceRequest.status (without ORC-5)', 2: 'ServiceRequest.identifier (PLAC)', 3: 'ServiceRequest.identifier (FILL)', 4: 'ServiceRequest.requisition',
    5: 'ServiceRequest.status', 7: 'ServiceRequest.occurrenceDateTime / priority', 9: 'ServiceRequest.authoredOn', 12: 'ServiceRequest.requester (Practitioner)',
    21: 'ServiceRequest.requester (PractitionerRole.organization)', 22: 'Organization.address (ordering facility)', 23: 'Organization.telecom (ordering facility)',
    24: 'Practitioner.address (ordering provider)', 29: 'ServiceRequest.locationCode',
    8: 'ServiceRequest.basedOn (parent order, without OBR-29)', 10: 'Provenance.agent (enterer)', 11: 'Provenance.agent (verifier)',
    13: 'Provenance.location', 17: 'Provenance.agent.onBehalfOf (entering organization)', 18: 'Provenance.agent (entering device)', 19: 'Provenance.agent (performer)', 31: 'ServiceRequest.basedOn.display (parent service, without OBR-50)',
  },
  // The IG's ORC[ServiceRequest] table gives these no FHIR element.
  dropped: {
    6: 'response flag: no IG mapping', 15: 'order effective date/time: no IG mapping', 16: 'order control code reason: no IG mapping',
    30: 'enterer authorization mode: no IG mapping',
  },
});

const PARTICIPANT = 'http://terminology.hl7.org/CodeSystem/provenance-participant-type';
// ORC-1 order control → the IG's Provenance.activity (v3 DataOperation): new order, status change.
const ACTIVITY: Record<string, string> = { NW: 'CREATE', SC: 'UPDATE', XO: 'UPDATE', CA: 'NULLIFY', OC: 'NULLIFY' };

/**
 * Who entered, verified and acted on an order (ORC-10/11/19, with ORC-17 and the ORC-18 device:
 * "người nhập, người duyệt y lệnh") → a Provenance over the order, the IG's ORC[Provenance] map.
 * Made only when one of them is sent: ORC-12 alone is already the request's requester. ORC-13
 * (where it was entered) is the Provenance's location, where the IG has none.
 */
export function mapOrderProvenance(ctx: MapContext, orc: Seg | undefined, target: Reference | undefined): void {
  if (!orc || !target) return;
  const enterer = practitioner(ctx, rep(orc, 10));
  const verifier = practitioner(ctx, rep(orc, 11));
  const actor = practitioner(ctx, rep(orc, 19));
  const deviceRef = device(ctx, reps(orc, 18));
  if (!enterer && !verifier && !actor && !deviceRef) return;
  // ORC-9, else when the message was sent (MSH-7, which the message Provenance reads too).
  const recorded = ctx.dateTime(val(orc, 9), where(orc, 9)) ?? ctx.dateTime(val(ctx.find('MSH'), 7), 'MSH-7');
  if (!recorded || recorded.length < 20) {
    for (const n of [10, 11, 17, 18, 19]) if (val(orc, n)) ctx.dropped(orc, n, 'a Provenance needs ORC-9 (or MSH-7) with a time of day');
    return;
  }
  const enteringOrg = organization(ctx, rep(orc, 17));
  const agent: ProvenanceAgent[] = [];
  const add = (who: Reference | undefined, code: string, onBehalfOf?: Reference) => {
    if (who) agent.push(compact<ProvenanceAgent>({ type: { coding: [{ system: PARTICIPANT, code }] }, who, onBehalfOf }));
  };
  add(enterer, 'enterer', enteringOrg);
  add(verifier, 'verifier');
  add(practitioner(ctx, rep(orc, 12)), 'author');
  add(actor, 'performer');
  if (deviceRef) agent.push({ who: deviceRef });
  const activity = ACTIVITY[val(orc, 1)];
  ctx.put(compact<Provenance & { id: string }>({
    resourceType: 'Provenance',
    id: ctx.id('Provenance', 'order', target.reference!, ctx.msg.controlId),
    target: [target],
    recorded,
    occurredDateTime: recorded,
    activity: activity ? { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-DataOperation', code: activity }] } : undefined,
    location: place(ctx, orc, 13),
    agent,
  }));
}
