import type { Device, MessageHeader, Organization, Provenance, ProvenanceAgent, Reference } from 'fhir/r4';
import { compact, rep, val, type MapContext, type Seg } from '../context';
import { c, concept, type Rep } from '../datatypes';
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
    5: 'MessageHeader.destination.name / endpoint (contained in the Provenance)', 6: 'MessageHeader.destination.receiver (without MSH-23)',
    17: 'Organization.address.country (sender)', 19: 'MessageHeader.language', 22: 'MessageHeader.responsible', 23: 'MessageHeader.destination.receiver',
    24: 'MessageHeader.source.endpoint', 25: 'MessageHeader.destination.endpoint',
    3: 'Provenance.agent (source application Device)', 4: 'Provenance.agent.onBehalfOf (sending facility Organization)', 7: 'Provenance.recorded (when EVN-2 is empty) / intake record',
    9: 'Provenance.activity', 10: 'Provenance.entity.what.identifier', 11: 'intake: processing id (P/T/D)', 12: 'Provenance.entity.what.display (version)',
    15: 'intake: accept acknowledgment type', 16: 'intake: application acknowledgment type', 18: 'intake: character set the message is decoded with',
  },
  dropped: { 8: 'security: never stored', 13: 'sequence number: transport', 14: 'continuation pointer: transport', 20: 'alternate character set handling: transport', 21: 'message profile: not validated against' },
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

const ABSENT = { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/data-absent-reason', valueCode: 'unknown' }] };

/** An HD as a MessageHeader endpoint: a URL or URI it carries, its ISO OID, else absent (the IG's data-absent-reason). */
function endpoint(hd: Rep | undefined): { endpoint?: string; _endpoint?: typeof ABSENT } {
  const ns = c(hd, 1);
  const uid = c(hd, 2);
  if (/^[a-z][a-z0-9+.-]*:\S+$/i.test(ns)) return { endpoint: ns };
  if (/^[a-z][a-z0-9+.-]*:\S+$/i.test(uid)) return { endpoint: uid };
  if (/^[0-2](\.(0|[1-9]\d*))+$/.test(uid)) return { endpoint: `urn:oid:${uid}` };
  return { _endpoint: ABSENT };
}

/**
 * The message's header, per the IG's MSH[MessageHeader] map, kept inside the Provenance that
 * records the message (the gateway stores no MessageHeader of its own: the message is not
 * forwarded). The receiving side (MSH-5/6/23/25) matters in a network where one gateway receives
 * for many facilities. MSH-8 (security) is never kept: it can hold a credential.
 */
function messageHeader(ctx: MapContext, msh: Seg | undefined, sender: Reference | undefined): MessageHeader {
  const source = rep(msh, 24) ?? rep(msh, 3);
  const destination = rep(msh, 25) ?? rep(msh, 5);
  const receiver = organization(ctx, rep(msh, 23)) ?? organizationFromHd(ctx, rep(msh, 6));
  if (val(msh, 23) && val(msh, 6)) ctx.dropped(msh, 6, 'receiving facility: MSH-23 names the receiving organization, which the IG prefers');
  else if (!receiver && rep(msh, 6)) ctx.dropped(msh, 6, 'receiving facility: neither a namespace nor a universal id (HD.1/2) to name it by');
  const sft = ctx.find('SFT');
  const country = val(msh, 17);
  const senderOrg = sender && ctx.get<Organization>(sender.reference!);
  if (senderOrg && country) senderOrg.address = [{ country }];
  const language = val(msh, 19);
  const event = c(rep(msh, 9), 2);
  return compact<MessageHeader>({
    resourceType: 'MessageHeader',
    id: 'msh',
    language: /^[a-z]{2,3}(-[A-Za-z0-9]{1,8})*$/.test(language) ? language : undefined,
    eventCoding: { system: 'http://terminology.hl7.org/CodeSystem/v2-0003', code: event || c(rep(msh, 9), 1) },
    destination: destination || receiver ? [compact({ name: c(rep(msh, 5), 1) || undefined, ...endpoint(destination), receiver })] as MessageHeader['destination'] : undefined,
    sender,
    source: compact({ name: c(rep(msh, 3), 1) || undefined, software: val(sft, 3) || undefined, version: val(sft, 2) || undefined, ...endpoint(source) }) as MessageHeader['source'],
    responsible: organization(ctx, rep(msh, 22)),
  });
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
  const header = messageHeader(ctx, msh, facility);
  const provenance = compact<Provenance & { id: string }>({
    resourceType: 'Provenance',
    id: ctx.id('Provenance', 'hl7v2-message', control || recorded),
    contained: [header],
    target: targets,
    recorded,
    occurredDateTime: occurred,
    activity: event ? { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0003', code: event }] } : undefined,
    reason: reason ? [reason] : undefined,
    agent,
    entity: [{ role: 'source', what: compact({ reference: '#msh', identifier: control ? { value: control } : undefined, display: `HL7 v2${version ? ` ${version}` : ''} ${val(msh, 9)}^${val(msh, 9, 2)} from ${ctx.facility}` }) }],
  });
  ctx.put(provenance);
}
