import type { Device, Provenance, ProvenanceAgent, Reference } from 'fhir/r4';
import { compact, rep, val, type MapContext } from '../context';
import { c, concept } from '../datatypes';
import { organization, organizationFromHd, practitioner } from '../references';
import { segmentMap } from '../segment-maps';

// MSH, SFT, EVN (message header, sending software, event) → one Provenance per message: who
// sent it (application, facility, software), when the event happened and why. The gateway
// keeps no MessageHeader resource: the message is not forwarded, its facts are recorded.
export const MSH = segmentMap({
  segment: 'MSH',
  igTable: 'Segment MSH to Provenance-Source; Segment MSH to MessageHeader',
  resource: 'Provenance',
  fields: {
    3: 'Provenance.agent (source application Device)', 4: 'Provenance.agent.onBehalfOf (sending facility Organization)', 7: 'Provenance.recorded (when EVN-2 is empty) / intake record',
    9: 'Provenance.activity', 10: 'Provenance.entity.what.identifier', 11: 'intake: processing id (P/T/D)', 12: 'Provenance.entity.what.display (version)',
    15: 'intake: accept acknowledgment type', 16: 'intake: application acknowledgment type', 18: 'intake: character set the message is decoded with',
  },
  dropped: { 5: 'receiving application: this gateway', 6: 'receiving facility: this gateway', 8: 'security: never stored', 13: 'sequence number: transport', 14: 'continuation pointer: transport', 17: 'country code: implied by the facility', 19: 'principal language of message: no Provenance element', 20: 'alternate character set handling: transport', 21: 'message profile: not validated against', 22: 'sending responsible organization: see MSH-4', 24: 'sending network address: transport', 25: 'receiving network address: transport' },
});
export const SFT = segmentMap({
  segment: 'SFT',
  igTable: 'Segment SFT to Device',
  resource: 'Device',
  fields: { 1: 'Device.manufacturer', 2: 'Device.version', 3: 'Device.deviceName', 4: 'Device.identifier', 5: 'Device.note', 6: 'Device.version (install date)' },
});
export const EVN = segmentMap({
  segment: 'EVN',
  igTable: 'Segment EVN to Provenance',
  resource: 'Provenance',
  fields: { 1: 'Provenance.activity', 2: 'Provenance.recorded', 3: 'Provenance.occurredDateTime (planned, when EVN-6 is empty)', 4: 'Provenance.reason', 5: 'Provenance.agent (operator)', 6: 'Provenance.occurredDateTime', 7: 'Provenance.agent.onBehalfOf (event facility)' },
});

const PARTICIPANT = 'http://terminology.hl7.org/CodeSystem/provenance-participant-type';

/** The software that sent the message (MSH-3 + SFT) as a Device, one per application. */
function sendingApplication(ctx: MapContext): Reference | undefined {
  const msh = ctx.find('MSH');
  const app = c(rep(msh, 3), 1) || c(rep(msh, 3), 2);
  const sft = ctx.find('SFT');
  if (!app && !sft) return undefined;
  const product = val(sft, 3);
  const version = val(sft, 2);
  const installed = val(sft, 6);
  const binary = val(sft, 4);
  const info = val(sft, 5);
  const vendor = sft ? organization(ctx, rep(sft, 1)) : undefined;
  const device = compact<Device & { id: string }>({
    resourceType: 'Device',
    id: ctx.id('Device', 'application', app, product),
    identifier: binary ? [{ value: binary }] : undefined,
    deviceName: [app && { name: app, type: 'user-friendly-name' as const }, product && { name: product, type: 'manufacturer-name' as const }].filter((x): x is Exclude<typeof x, ''> => !!x),
    manufacturer: vendor?.display,
    version: [version && { value: version }, installed && { type: { text: 'install date' }, value: installed }].filter((x): x is Exclude<typeof x, ''> => !!x),
    note: info ? [{ text: info }] : undefined,
  });
  return { ...ctx.put(device), display: app || product };
}

/** Puts the message's Provenance over every resource mapped so far; call last. */
export function mapProvenance(ctx: MapContext): void {
  const msh = ctx.find('MSH');
  const evn = ctx.find('EVN');
  for (const n of [11, 15, 16, 18]) val(msh, n);
  const sent = ctx.dateTime(val(msh, 7), 'MSH-7');
  const recorded = ctx.dateTime(val(evn, 2), 'EVN-2') ?? sent;
  // An instant needs the time of day: without it there is no valid Provenance to write.
  if (!recorded || recorded.length < 20) return;
  const targets = ctx.bundle().entry!.map((e) => e.resource!).filter((r) => r.resourceType !== 'Provenance' && r.resourceType !== 'Device').map((r) => ({ reference: `${r.resourceType}/${r.id}` }));
  if (!targets.length) return;
  const facility = organizationFromHd(ctx, rep(msh, 4));
  const eventFacility = organizationFromHd(ctx, rep(evn, 7));
  const app = sendingApplication(ctx);
  const agent: ProvenanceAgent[] = [];
  if (app || facility) agent.push(compact<ProvenanceAgent>({ type: { coding: [{ system: PARTICIPANT, code: 'author' }] }, who: app ?? facility!, onBehalfOf: app ? facility : undefined }));
  const operator = practitioner(ctx, rep(evn, 5));
  if (operator) agent.push(compact<ProvenanceAgent>({ type: { coding: [{ system: PARTICIPANT, code: 'enterer' }] }, who: operator, onBehalfOf: eventFacility }));
  if (!agent.length) agent.push({ who: { display: ctx.facility } });
  const event = val(evn, 1) || c(rep(msh, 9), 2);
  const reason = concept(rep(evn, 4));
  if (reason?.coding?.[0] && !reason.coding[0].system) reason.coding[0].system = 'http://terminology.hl7.org/CodeSystem/v2-0062';
  const planned = ctx.dateTime(val(evn, 3), 'EVN-3');
  const occurred = ctx.dateTime(val(evn, 6), 'EVN-6') ?? planned;
  const control = val(msh, 10);
  const version = val(msh, 12);
  const provenance = compact<Provenance & { id: string }>({
    resourceType: 'Provenance',
    id: ctx.id('Provenance', 'hl7v2-message', control || recorded),
    target: targets,
    recorded,
    occurredDateTime: occurred,
    activity: event ? { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0003', code: event }] } : undefined,
    reason: reason ? [reason] : undefined,
    agent,
    entity: [{ role: 'source', what: compact({ identifier: control ? { value: control } : undefined, display: `HL7 v2${version ? ` ${version}` : ''} ${val(msh, 9)}^${val(msh, 9, 2)} from ${ctx.facility}` }) }],
  });
  ctx.put(provenance);
}
