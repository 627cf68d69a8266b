import type { Annotation, CodeableConcept, Identifier, Organization, Practitioner, Quantity, Reference, ServiceRequest } from 'fhir/r4';
import { issue } from '../../fhir/outcome';
import { PROVIDER_CODE_SYSTEM } from './config';
import { compact, MapContext, rep, reps, val, where, type Seg } from './context';
import type { Rep } from './datatypes';
import { address, c, concept, contactPoint, cqQuantity, withSystem } from './datatypes';
import { organization, practitioner, practitionerId, practitionerRole, typedIdentifier } from './references';
import './segments/orc';
import './segments/obr';
import './segments/nte';
import type { OrderGroup } from './groups';
import { tq1Timing } from './timing';
import { codeV2 } from './tables';

// ORC/OBR/IPC (phiếu chỉ định: order, requested procedure, accession) → ServiceRequest.

const V2_0203 = 'http://terminology.hl7.org/CodeSystem/v2-0203';

/**
 * The accession number ("số phiếu chụp/xét nghiệm") links the order, the report and the PACS
 * study: IPC-1 for imaging orders, else the filler order number, else the placer's.
 */
export function accessionOf(g: OrderGroup): string {
  return val(g.ipc[0], 1) || swfAccession(g) || val(g.obr, 3) || val(g.orc, 3) || val(g.obr, 2) || val(g.orc, 2);
}

/** The key an order's resources are named by: its accession, else the message and the group's place in it. */
export function orderKey(ctx: MapContext, g: OrderGroup): string {
  return accessionOf(g) || `${ctx.msg.controlId}#${g.index}`;
}

/** Diagnostic service sections (HL7 table 0074) of imaging, where OBR-18 carries the accession. */
const IMAGING = new Set(['RAD', 'RX', 'CT', 'MR', 'NMR', 'NMS', 'US', 'CUS', 'OUS', 'VUS', 'XRC', 'CTH', 'PHY']);

/** An imaging order (IPC, or an imaging OBR-24 section): no specimen is taken for it. */
export function isImagingOrder(g: OrderGroup): boolean {
  return g.ipc.length > 0 || IMAGING.has(val(g.obr, 24).toUpperCase());
}

/**
 * IHE Scheduled Workflow (v2.3.1 ORM/ORU, before IPC existed) puts the accession number in
 * OBR-18 and the requested procedure id in OBR-19. Elsewhere OBR-18 is a free placer field, so
 * it counts only when the order is imaging: OBR-19 valued or an imaging OBR-24.
 */
function swfAccession(g: OrderGroup): string {
  const field = val(g.obr, 18);
  return field && (val(g.obr, 19) || IMAGING.has(val(g.obr, 24).toUpperCase())) ? field : '';
}

/** The ServiceRequest id every feed derives from (facility, accession): DICOM uses it too. */
export function serviceRequestId(ctx: MapContext, accession: string): string {
  return ctx.id('ServiceRequest', accession);
}

/** NTE → Annotation: NTE-3 the text, NTE-5 who entered it and NTE-6 when (the IG's NTE maps), given the context. */
export function notes(segs: Seg[], ctx?: MapContext): Annotation[] {
  return segs.flatMap((n) => {
    const text = reps(n, 3).map((r) => r[0]?.[0] ?? '').join('\n');
    if (text.trim() === '') return [];
    const author = ctx ? practitioner(ctx, rep(n, 5)) : undefined;
    const time = ctx ? ctx.dateTime(val(n, 6), where(n, 6)) : undefined;
    return [compact<Annotation>({ authorReference: author, time, text })];
  });
}

function orderIdentifiers(ctx: MapContext, g: OrderGroup, accession: string): Identifier[] {
  const ids: Identifier[] = [];
  const add = (code: string, value: string, system?: string) => {
    if (value && !ids.some((i) => i.value === value && i.type?.coding?.[0]?.code === code)) {
      ids.push(compact<Identifier>({ type: { coding: [{ system: V2_0203, code }] }, system, value, assigner: { identifier: { system: PROVIDER_CODE_SYSTEM, value: ctx.facility } } }));
    }
  };
  add('PLAC', val(g.orc, 2) || val(g.obr, 2));
  add('FILL', val(g.orc, 3) || val(g.obr, 3));
  add('ACSN', accession, ctx.cfg.accessionSystem);
  for (const ipc of g.ipc) {
    const study = val(ipc, 3);
    if (study) ids.push({ system: 'urn:dicom:uid', value: `urn:oid:${study}` });
  }
  return ids;
}

/** The order's own TQ1: after its ORC or OBR, before the next order's. */
function groupTq1(ctx: MapContext, g: OrderGroup): Seg | undefined {
  const from = ctx.segs.indexOf(g.orc ?? g.obr!);
  for (const s of ctx.segs.slice(from + 1)) {
    if (s.seg.id === 'TQ1') return s;
    if ((s.seg.id === 'ORC' && s !== g.orc) || (s.seg.id === 'OBR' && s !== g.obr)) return undefined;
  }
  return undefined;
}

const ORDERING_PROVIDER: CodeableConcept = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0443', code: 'OP', display: 'Ordering Provider' }] };

/**
 * The requester per the IG's ORC map: ORC-12 the ordering provider (OBR-16 only without it),
 * ORC-24 their address, ORC-21/22/23 the ordering facility ("cơ sở chỉ định") with its address
 * and phone. With both, a PractitionerRole joins them; with the facility alone, the Organization.
 */
function requesterOf(ctx: MapContext, g: OrderGroup): Reference | undefined {
  let who = practitioner(ctx, rep(g.orc, 12));
  if (!who) who = practitioner(ctx, rep(g.obr, 16));
  else if (g.obr && val(g.obr, 16)) {
    // The IG reads OBR-16 only when ORC-12 is empty; the same person twice still reaches the output.
    if (practitionerId(ctx, rep(g.obr, 16)) === practitionerId(ctx, rep(g.orc, 12))) ctx.mapped(g.obr, 16, 'ServiceRequest.requester (the same person as ORC-12)');
    else ctx.dropped(g.obr, 16, 'ordering provider: ORC-12 names the requester; the IG takes OBR-16 only without it');
  }
  const doctor = who && ctx.get<Practitioner>(who.reference!);
  const doctorAddress = reps(g.orc, 24).map(address).filter((a) => !!a);
  if (doctor && doctorAddress.length) doctor.address = doctorAddress;
  else if (doctorAddress.length) ctx.dropped(g.orc, 24, 'ordering provider address: no ordering provider to carry it');
  const facility = organization(ctx, rep(g.orc, 21));
  const org = facility && ctx.get<Organization>(facility.reference!);
  if (org) {
    const addr = reps(g.orc, 22).map(address).filter((a) => !!a);
    const tel = reps(g.orc, 23).map(contactPoint).filter((t) => !!t);
    if (addr.length) org.address = addr;
    if (tel.length) org.telecom = tel;
  }
  if (who && facility) return practitionerRole(ctx, who, ORDERING_PROVIDER, { organization: facility });
  return who ?? facility;
}

/** OBR-11 specimen action code G (generated order) is a reflex test; anything else an ordinary order (IG OBR map). */
function intentOf(g: OrderGroup): ServiceRequest['intent'] {
  return val(g.obr, 11).toUpperCase() === 'G' ? 'reflex-order' : 'order';
}

function orderType(r: Rep): CodeableConcept | undefined {
  return withSystem(concept(r), 'http://terminology.hl7.org/CodeSystem/v2-0482');
}

/** The ServiceRequest, made earlier in this message, of the panel OBR-50 names under this order's numbers. */
function panelInMessage(ctx: MapContext, g: OrderGroup): Reference | undefined {
  const code = val(g.obr, 50) || val(g.orc, 31);
  if (!code || code === val(g.obr, 4)) return undefined;
  const key = orderKey(ctx, g);
  const display = concept(rep(g.obr, 50) ?? rep(g.orc, 31))?.text;
  for (const id of [serviceRequestId(ctx, `${key}|${code}`), serviceRequestId(ctx, key)]) {
    const sr = ctx.get<ServiceRequest>(`ServiceRequest/${id}`);
    if (sr?.code?.coding?.some((x) => x.code === code)) return compact<Reference>({ reference: `ServiceRequest/${id}`, display });
  }
  return undefined;
}

/**
 * OBR-29 parent (EIP: placer EI ^ filler EI, each in subcomponents; ORC-8 in orders) → basedOn by
 * identifier, and OBR-50 / ORC-31 (the parent's service, "xét nghiệm gốc" of a reflex or an
 * antibiogram) → its display. The IG maps OBR-29 only while OBR-50 is empty and leaves the other
 * case open ("need something else that we have not figured out yet"); we keep the link either
 * way, because a susceptibility result without its culture cannot be read.
 */
function parentOrder(ctx: MapContext, g: OrderGroup): Reference[] {
  const field = rep(g.obr, 29) ? 29 : 8;
  const parent = rep(g.obr, 29) ?? rep(g.orc, 8);
  if (!parent) return [];
  const own = [val(g.obr, 2) || val(g.orc, 2), val(g.obr, 3) || val(g.orc, 3)];
  if ((parent[0]?.[0]?.trim() ?? '') === own[0] && (parent[1]?.[0]?.trim() ?? '') === own[1]) {
    // Newborn-screening style: every OBR carries the panel's numbers, and only OBR-50 tells the parent
    // apart. When that panel is an OBR earlier in this message, the link is to its ServiceRequest.
    const panel = panelInMessage(ctx, g);
    if (panel) {
      if (val(g.orc, 31) && val(g.orc, 31) !== val(g.obr, 50)) ctx.dropped(g.orc, 31, 'parent service: OBR-50 names the parent service, and differs');
      return [panel];
    }
    ctx.dropped(field === 29 ? g.obr : g.orc, field, "parent order: names this order's own numbers, so a reference by identifier would point at itself");
    if (val(g.obr, 50)) ctx.dropped(g.obr, 50, 'parent service: its parent link is left out (OBR-29 names this order itself)');
    if (val(g.orc, 31)) ctx.dropped(g.orc, 31, 'parent service: its parent link is left out (OBR-29 names this order itself)');
    return [];
  }
  const service = concept(rep(g.obr, 50) ?? rep(g.orc, 31));
  const display = service?.text ?? service?.coding?.[0]?.display ?? service?.coding?.[0]?.code;
  const out: Reference[] = [];
  for (const [n, code] of [[0, 'PLAC'], [1, 'FILL']] as const) {
    const value = parent[n]?.[0]?.trim();
    if (value) out.push(compact<Reference>({ type: 'ServiceRequest', identifier: typedIdentifier(code, value), display }));
  }
  return out;
}

function tq1Amount(ctx: MapContext, tq1: Seg | undefined): Quantity | undefined {
  const cq = rep(tq1, 2);
  const amount = cqQuantity(cq);
  if (!amount && c(cq, 1)) ctx.dropped(tq1, 2, `quantity '${c(cq, 1)}' is not a number`);
  return amount;
}

/** One ServiceRequest per order group; in results the order is known to be done. */
export function mapServiceRequest(ctx: MapContext, g: OrderGroup, patient: Reference, encounter: Reference | undefined, fromResult: boolean): Reference | undefined {
  const accession = accessionOf(g);
  const anchor = g.obr ?? g.orc!;
  if (!accession) {
    ctx.issues.push(issue('warning', 'required', 'No order number (ORC-2/3, OBR-2/3, IPC-1): the order cannot be matched to later messages', where(anchor, 3)));
  }
  const key = orderKey(ctx, g);
  if (val(g.obr, 19)) ctx.dropped(g.obr, 19, 'requested procedure id: read only to tell an IHE SWF accession (OBR-18) apart');
  // Several OBR under one order number in a message (a newborn-screening result: every OBR carries
  // the panel's numbers): the first keeps the order's id, which other feeds (DICOM, a later ORU)
  // find by accession; each next one is its own ServiceRequest, keyed by its code as well, instead
  // of overwriting the first one's code, notes and timing.
  const id = ctx.has(`ServiceRequest/${serviceRequestId(ctx, key)}`) ? serviceRequestId(ctx, `${key}|${val(g.obr, 4) || g.index}`) : serviceRequestId(ctx, key);
  const tq1 = groupTq1(ctx, g);
  const status = (codeV2('v2-0038-to-request-status', val(g.orc, 5)) ?? codeV2('v2-0119-to-request-status', val(g.orc, 1)) ?? (fromResult ? 'completed' : 'active')) as ServiceRequest['status'];
  const priority = codeV2('v2-0027-to-request-priority', val(tq1, 9) || val(g.orc, 7, 6) || val(g.obr, 27, 6) || val(g.obr, 5)) as ServiceRequest['priority'];
  // OBR-6 (requested date/time) is the IG's occurrence; TQ1 and the v2.3 quantity/timing come first.
  const occurrence = ctx.dateTime(val(tq1, 7) || val(g.orc, 7, 4) || val(g.obr, 27, 4) || val(g.obr, 6), where(anchor, 7));
  // A TQ1 that says more than when (a pattern, times, an end, a count): the IG's occurrenceTiming.
  const timing = tq1Timing(ctx, tq1);
  const repeat = timing?.repeat;
  const timed = !!timing && (!!timing.code || !!repeat && Object.keys(repeat).some((k) => k !== 'boundsPeriod' || !!repeat.boundsPeriod?.end));
  const condition = val(tq1, 10);
  const authoredOn = ctx.dateTime(val(g.orc, 9), g.orc ? where(g.orc, 9) : 'ORC-9');
  const requester = requesterOf(ctx, g);
  const code = concept(rep(g.obr, 4)) ?? concept(rep(g.ipc[0], 7));
  const category: CodeableConcept[] = [];
  for (const ipc of g.ipc) {
    const modality = val(ipc, 5);
    if (modality) category.push({ coding: [{ system: 'http://dicom.nema.org/resources/ontology/DCM', code: modality }] });
  }
  const reasons = reps(g.obr, 31).map(concept).filter((x) => !!x);
  // OBR-46 placer and OBR-47 filler supplemental service information: the IG's orderDetail.
  const details = [...reps(g.obr, 46), ...reps(g.obr, 47)].map(concept).filter((x) => !!x);
  // TQ1-11 text instruction is a note, TQ1-2 (CQ: amount ^ units) the quantity: the IG's TQ1[ServiceRequest] map.
  const instruction = val(tq1, 11);
  const note = [...notes(g.notes, ctx), ...(instruction ? [{ text: instruction }] : [])];
  const amount = tq1Amount(ctx, tq1);
  const identifiers = orderIdentifiers(ctx, g, accession);
  // ORC-4 (placer group number): the orders a doctor signed together share one requisition.
  const group = val(g.orc, 4);
  const sr = compact<ServiceRequest & { id: string }>({
    resourceType: 'ServiceRequest',
    id,
    identifier: identifiers,
    basedOn: parentOrder(ctx, g),
    requisition: group ? { type: { coding: [{ system: V2_0203, code: 'PGN' }] }, value: group } : undefined,
    status,
    intent: intentOf(g),
    category,
    priority,
    code,
    orderDetail: details,
    subject: patient,
    encounter,
    occurrenceDateTime: timed ? undefined : occurrence,
    occurrenceTiming: timed ? timing : undefined,
    // TQ1-10 condition text ("khi sốt > 38,5°C"): when the order is to be carried out.
    asNeededCodeableConcept: condition ? { text: condition } : undefined,
    authoredOn,
    requester,
    // ORC-29 order type (table 0482: inpatient / outpatient order) is the IG's locationCode.
    locationCode: reps(g.orc, 29).map(orderType).filter((x) => !!x),
    reasonCode: reasons,
    note,
    quantityQuantity: amount,
  });
  return ctx.put(sr);
}
