import type { Attachment, DocumentReference, Reference } from 'fhir/r4';
import { issue } from '../../fhir/outcome';
import { compact, MapContext, rep, reps, val, where, type Seg } from './context';
import { c, concept } from './datatypes';
import { practitioner, typedIdentifier } from './references';
import './segments/txa';

// MDM T01–T11 (tài liệu lâm sàng: clinical documents): TXA + OBX → DocumentReference, per the
// IG's TXA[DocumentReference] map; OBX ED carry the file, OBX TX/FT/ST carry the text.

/** HL7 table 0271 (completion status) → DocumentReference.docStatus. */
const DOC_STATUS: Record<string, DocumentReference['docStatus']> = {
  AU: 'final', LA: 'final', DI: 'preliminary', DO: 'preliminary', IN: 'preliminary', IP: 'preliminary', PA: 'preliminary',
};
/** HL7 table 0272 (confidentiality) → v3 Confidentiality. */
const CONFIDENTIALITY: Record<string, string> = { V: 'V', R: 'R', U: 'N' };
/** TXA-3 (table 0191 content presentation) → MIME type. */
const PRESENTATION: Record<string, string> = { TX: 'text/plain', FT: 'text/plain', HTML: 'text/html', AP: 'application/octet-stream', IM: 'image/*', AU: 'audio/*', PDF: 'application/pdf' };
const TEXT = new Set(['TX', 'FT', 'ST']);

/** T03/T04 and T07/T08 edit the document; T09/T10 replace it; T11 cancels it (entered in error). */
function status(trigger: string, availability: string): DocumentReference['status'] {
  if (trigger === 'T11' || availability === 'CA') return 'entered-in-error';
  if (availability === 'OB') return 'superseded';
  return 'current';
}

function edAttachment(obx: Seg): Attachment | undefined {
  const ed = rep(obx, 5);
  if (!ed) return undefined;
  const type = c(ed, 2).toLowerCase();
  const sub = c(ed, 3).toLowerCase();
  const contentType = ['application', 'image', 'text', 'audio', 'video'].includes(type) && sub && sub !== 'octet-stream' ? `${type}/${sub}` : sub === 'pdf' ? 'application/pdf' : 'application/octet-stream';
  const data = /^base64$/i.test(c(ed, 4)) ? c(ed, 5).replace(/\s+/g, '') : '';
  return data ? { contentType, data } : undefined;
}

/**
 * `withContent` false: a TXA inside a result (ORU_R01 ORDER_DOCUMENT) — the report already carries
 * the OBX content as its presentedForm, so the DocumentReference names the document without
 * copying it.
 */
export function mapDocument(ctx: MapContext, patient: Reference, encounter: Reference | undefined, basedOn: Reference[], withContent = true): void {
  const txa = ctx.find('TXA');
  if (!txa) {
    ctx.issues.push(issue('error', 'required', `${ctx.msg.type}^${ctx.msg.trigger} without a TXA segment`, 'TXA'));
    return;
  }
  const number = val(txa, 12);
  const key = number || val(txa, 16) || `${ctx.msg.controlId}`;
  if (!number) ctx.issues.push(issue('warning', 'required', 'TXA-12 (unique document number) is empty: later edits of this document cannot be matched', where(txa, 12)));
  const after = ctx.segs.slice(ctx.segs.indexOf(txa) + 1);
  // OBX-4 sub-ID numbers the document's parts (page, section): they are joined in that order, whatever order they came in.
  const parts = withContent ? after.filter((s) => s.seg.id === 'OBX') : [];
  const order = (o: Seg) => Number(val(o, 4).split('.')[0]);
  const numbered = parts.length > 0 && parts.every((o) => val(o, 4) !== '' && Number.isFinite(order(o)));
  for (const o of numbered ? parts : []) ctx.mapped(o, 4, 'DocumentReference.content (the order of the parts)');
  const obx = numbered ? [...parts].sort((a, b) => order(a) - order(b)) : parts;
  const contents: Attachment[] = [];
  const text = obx.filter((o) => TEXT.has(val(o, 2))).map((o) => reps(o, 5).map((r) => r.map((comp) => comp.join('&')).join(' ')).join('\n')).join('\n');
  const title = val(txa, 25) || undefined;
  if (text.trim()) contents.push(compact<Attachment>({ contentType: 'text/plain; charset=utf-8', data: Buffer.from(text, 'utf8').toString('base64'), title }));
  for (const o of obx) {
    if (val(o, 2) !== 'ED') continue;
    const a = edAttachment(o);
    if (a) contents.push(compact<Attachment>({ ...a, title }));
  }
  // A notification (T01, T05, T09 …) names the document without its content: the reference stands alone.
  if (!contents.length) contents.push(compact<Attachment>({ contentType: PRESENTATION[val(txa, 3)], title: title || c(rep(txa, 2), 2) || val(txa, 2) || 'document' }));
  const parent = val(txa, 13);
  const confidentiality = CONFIDENTIALITY[val(txa, 18)];
  const originated = ctx.dateTime(val(txa, 6), where(txa, 6));
  const author = reps(txa, 9).map((r) => practitioner(ctx, r)).filter((r): r is Reference => !!r);
  const authenticator = practitioner(ctx, rep(txa, 10)) ?? practitioner(ctx, rep(txa, 22));
  const type = concept(rep(txa, 2));
  // TXA-4 activity date/time: when the documented care happened (context.period). TXA-14/15 the
  // placer/filler order the document answers, by identifier when no ORC/OBR already named it.
  const activity = ctx.dateTime(val(txa, 4), where(txa, 4));
  const orders = basedOn.length ? basedOn : ([[14, 'PLAC'], [15, 'FILL']] as const).filter(([n]) => val(txa, n))
    .map(([n, code]) => ({ type: 'ServiceRequest', identifier: typedIdentifier(code, val(txa, n)) }));
  if (basedOn.length) for (const n of [14, 15]) if (val(txa, n)) ctx.dropped(txa, n, 'order number: the ORC/OBR order is already the related ServiceRequest');
  const doc = compact<DocumentReference & { id: string }>({
    resourceType: 'DocumentReference',
    id: ctx.id('DocumentReference', key),
    masterIdentifier: number ? { value: number } : undefined,
    identifier: val(txa, 16) ? [{ value: val(txa, 16) }] : undefined,
    status: status(ctx.msg.trigger, val(txa, 19)),
    docStatus: DOC_STATUS[val(txa, 17)],
    type,
    subject: patient,
    date: originated && /T\d{2}:\d{2}:\d{2}/.test(originated) ? originated : undefined,
    author,
    authenticator,
    relatesTo: parent && parent !== number && ['T09', 'T10'].includes(ctx.msg.trigger)
      ? [{ code: 'replaces', target: { reference: `DocumentReference/${ctx.id('DocumentReference', parent)}` } }]
      : undefined,
    description: title,
    securityLabel: confidentiality ? [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: confidentiality }] }] : undefined,
    content: contents.map((attachment) => ({ attachment })),
    context: encounter || orders.length || activity ? compact({ encounter: encounter ? [encounter] : undefined, period: activity ? { start: activity } : undefined, related: orders }) : undefined,
  });
  ctx.put(doc);
}
