import type { Annotation, CodeableConcept, Identifier, Reference, ServiceRequest } from 'fhir/r4';
import { issue } from '../../fhir/outcome';
import { PROVIDER_CODE_SYSTEM } from './config';
import { compact, MapContext, rep, reps, val, where, type Seg } from './context';
import { concept } from './datatypes';
import { practitioner } from './references';
import type { OrderGroup } from './groups';
import { codeV2 } from './tables';

// ORC/OBR/IPC (phiếu chỉ định: order, requested procedure, accession) → ServiceRequest.

const V2_0203 = 'http://terminology.hl7.org/CodeSystem/v2-0203';

/**
 * The accession number ("số phiếu chụp/xét nghiệm") links the order, the report and the PACS
 * study: IPC-1 for imaging orders, else the filler order number, else the placer's.
 */
export function accessionOf(g: OrderGroup): string {
  return val(g.ipc[0], 1) || val(g.obr, 3) || val(g.orc, 3) || val(g.obr, 2) || val(g.orc, 2);
}

/** The ServiceRequest id every feed derives from (facility, accession): DICOM uses it too. */
export function serviceRequestId(ctx: MapContext, accession: string): string {
  return ctx.id('ServiceRequest', accession);
}

export function notes(segs: Seg[]): Annotation[] {
  const text = segs.map((n) => reps(n, 3).map((r) => r[0]?.[0] ?? '').join('\n')).filter((t) => t.trim() !== '');
  return text.map((t) => ({ text: t }));
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

/** One ServiceRequest per order group; in results the order is known to be done. */
export function mapServiceRequest(ctx: MapContext, g: OrderGroup, patient: Reference, encounter: Reference | undefined, fromResult: boolean): Reference | undefined {
  const accession = accessionOf(g);
  const anchor = g.obr ?? g.orc!;
  if (!accession) {
    ctx.issues.push(issue('warning', 'required', 'No order number (ORC-2/3, OBR-2/3, IPC-1): the order cannot be matched to later messages', where(anchor, 3)));
  }
  const key = accession || `${ctx.msg.controlId}#${g.index}`;
  const tq1 = ctx.segs.find((s) => s.seg.id === 'TQ1' && ctx.segs.indexOf(s) > ctx.segs.indexOf(anchor));
  const status = (codeV2('v2-0038-to-request-status', val(g.orc, 5)) ?? codeV2('v2-0119-to-request-status', val(g.orc, 1)) ?? (fromResult ? 'completed' : 'active')) as ServiceRequest['status'];
  const priority = codeV2('v2-0027-to-request-priority', val(tq1, 9) || val(g.orc, 7, 6) || val(g.obr, 27, 6) || val(g.obr, 5)) as ServiceRequest['priority'];
  const occurrence = ctx.dateTime(val(tq1, 7) || val(g.orc, 7, 4) || val(g.obr, 27, 4), where(anchor, 7));
  const authoredOn = ctx.dateTime(val(g.orc, 9), g.orc ? where(g.orc, 9) : 'ORC-9');
  const requester = practitioner(ctx, rep(g.orc, 12) ?? rep(g.obr, 16));
  const code = concept(rep(g.obr, 4)) ?? concept(rep(g.ipc[0], 7));
  const category: CodeableConcept[] = [];
  for (const ipc of g.ipc) {
    const modality = val(ipc, 5);
    if (modality) category.push({ coding: [{ system: 'http://dicom.nema.org/resources/ontology/DCM', code: modality }] });
  }
  const reasons = reps(g.obr, 31).map(concept).filter((x) => !!x);
  const note = notes(g.notes);
  const identifiers = orderIdentifiers(ctx, g, accession);
  const sr = compact<ServiceRequest & { id: string }>({
    resourceType: 'ServiceRequest',
    id: serviceRequestId(ctx, key),
    identifier: identifiers,
    status,
    intent: 'order',
    category,
    priority,
    code,
    subject: patient,
    encounter,
    occurrenceDateTime: occurrence,
    authoredOn,
    requester,
    reasonCode: reasons,
    note,
  });
  return ctx.put(sr);
}
