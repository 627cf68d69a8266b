import type { Attachment, CodeableConcept, DiagnosticReport, Extension, Observation, Organization, ObservationReferenceRange, Quantity, Reference, ServiceRequest, Specimen } from 'fhir/r4';
import { issue } from '../../fhir/outcome';
import { compact, MapContext, rep, reps, val, where, type Seg } from './context';
import { address, c, concept, cqQuantity, NUMBER, quantity, type Rep } from './datatypes';
import { device, location, organization, organizationFromCwe, practitioner } from './references';
import type { ObservationItem, OrderGroup } from './groups';
import { accessionOf, isImagingOrder, notes, orderKey } from './map-order';
import { mapParticipation } from './segments/rol';
import { codeV2, translateV2 } from './tables';
import './segments/obx';
import './segments/spm';

// OBR + OBX (kết quả xét nghiệm / chẩn đoán hình ảnh) → DiagnosticReport + Observations.

const COMPARATOR = new Set(['<', '<=', '>=', '>']);
const TEXT_TYPES = new Set(['ST', 'TX', 'FT']);
/**
 * Imaging reports mark each text line's section with a suffix on OBX-3 (`71020&IMP`,
 * `^^^&GDT`): the second subcomponent of the identifier or its alternate.
 */
const REPORT_SECTIONS = new Set(['GDT', 'IMP', 'ADT', 'FND', 'REC', 'ANT', 'SRT', 'TCM']);
function reportSection(obx: Seg): string {
  const id = rep(obx, 3);
  return (id?.[0]?.[1] || id?.[3]?.[1] || '').toUpperCase();
}

type ObservationValue = Pick<Observation, 'valueQuantity' | 'valueCodeableConcept' | 'valueString' | 'valueDateTime' | 'valueTime' | 'valueRange' | 'valueRatio'>;

/** OBX-5 by OBX-2: numbers with UCUM units, codes, text, dates; a bad number is kept as text with a warning. */
function value(ctx: MapContext, obx: Seg): ObservationValue | undefined {
  const type = val(obx, 2);
  const values = reps(obx, 5);
  if (!values.length) return undefined;
  const unit = rep(obx, 6);
  const first: Rep = values[0]!;
  const text = () => values.map((r) => r.map((comp) => comp.join('&')).join(' ').trim()).join('\n');
  switch (type) {
    case 'NM': {
      const v = c(first, 1);
      if (NUMBER.test(v)) return { valueQuantity: quantity(Number(v), unit) };
      ctx.issues.push(issue('warning', 'value', `OBX-5 '${v}' is not a number although OBX-2 is NM; kept as text`, where(obx, 5)));
      return { valueString: text() };
    }
    case 'SN': {
      const [cmp, n1, sep, n2] = [c(first, 1), c(first, 2), c(first, 3), c(first, 4)];
      if (NUMBER.test(n1) && NUMBER.test(n2) && (sep === ':' || sep === '/')) return { valueRatio: { numerator: { value: Number(n1) }, denominator: { value: Number(n2) } } };
      if (NUMBER.test(n1) && NUMBER.test(n2) && sep === '-') return { valueRange: { low: quantity(Number(n1), unit), high: quantity(Number(n2), unit) } };
      if (NUMBER.test(n1) && !sep) return { valueQuantity: quantity(Number(n1), unit, COMPARATOR.has(cmp) ? (cmp as Quantity['comparator']) : undefined) };
      return { valueString: [cmp, n1, sep, n2].join('') };
    }
    case 'CE': case 'CWE': case 'CNE': case 'CF': {
      const cc = concept(first);
      return cc ? { valueCodeableConcept: cc } : undefined;
    }
    case 'DT': case 'DTM': case 'TS': {
      const dt = ctx.dateTime(c(first, 1), where(obx, 5));
      return dt ? { valueDateTime: dt } : { valueString: text() };
    }
    case 'TM': {
      const m = /^(\d{2})(\d{2})(\d{2})?/.exec(c(first, 1));
      return m ? { valueTime: `${m[1]}:${m[2]}:${m[3] ?? '00'}` } : { valueString: text() };
    }
    case 'ED': case 'RP':
      return undefined;
    default: {
      const t = text();
      return t ? { valueString: t } : undefined;
    }
  }
}

/** OBX-7 "3.5-5.0", "<5", ">=10", else kept as text. */
function referenceRange(range: string, unit: Rep | undefined): ObservationReferenceRange | undefined {
  if (!range) return undefined;
  const between = /^\s*([+-]?[\d.]+)\s*-\s*([+-]?[\d.]+)\s*$/.exec(range);
  if (between && NUMBER.test(between[1]!) && NUMBER.test(between[2]!)) return { low: quantity(Number(between[1]), unit), high: quantity(Number(between[2]), unit), text: range };
  const bound = /^\s*(<=?|>=?)\s*([+-]?[\d.]+)\s*$/.exec(range);
  if (bound && NUMBER.test(bound[2]!)) return bound[1]!.startsWith('<') ? { high: quantity(Number(bound[2]), unit), text: range } : { low: quantity(Number(bound[2]), unit), text: range };
  return { text: range };
}

function interpretation(obx: Seg): CodeableConcept[] {
  return reps(obx, 8).flatMap((r) => {
    const code = c(r, 1);
    if (!code) return [];
    const mapped = translateV2('v2-0078-to-observation-interpretation', code);
    return [mapped ? { coding: [mapped] } : { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0078', code }], text: c(r, 2) || code }];
  });
}

const EXT = 'http://hl7.org/fhir/StructureDefinition/';
const V2 = 'http://terminology.hl7.org/CodeSystem/';
const DECIMAL = /^-?(0|[1-9]\d*)(\.\d+)?$/;

/**
 * The OBX fields the IG carries in extensions (all in HL7's extension pack): OBX-4 sub-id
 * (OG: original ^ group ^ sequence ^ identifier, or a plain v2.3–2.7 ST), OBX-10 nature of
 * abnormal test, OBX-19 analysis time, OBX-30 sub-type (table 0937: AOE, UNSP …).
 */
function observationExtensions(ctx: MapContext, obx: Seg): Extension[] {
  const out: Extension[] = [];
  const og = rep(obx, 4);
  const sub: Extension[] = [];
  const original = c(og, 1);
  if (original) sub.push({ url: 'original-sub-identifier', valueString: original });
  for (const [n, url] of [[2, 'group'], [3, 'sequence']] as const) {
    const v = c(og, n);
    if (DECIMAL.test(v)) sub.push({ url, valueDecimal: Number(v) });
  }
  if (c(og, 4)) sub.push({ url: 'identifier', valueString: c(og, 4) });
  if (sub.length) out.push({ url: `${EXT}observation-v2-subid`, extension: sub });
  for (const r of reps(obx, 10)) {
    if (c(r, 1)) out.push({ url: `${EXT}observation-nature-of-abnormal-test`, valueCodeableConcept: { coding: [{ system: `${V2}v2-0080`, code: c(r, 1) }] } });
  }
  const analysed = ctx.dateTime(val(obx, 19), where(obx, 19));
  if (analysed) out.push({ url: `${EXT}observation-analysis-date-time`, valueDateTime: analysed });
  const subType = val(obx, 30);
  if (subType) out.push({ url: `${EXT}observation-structure-type`, valueCodeableConcept: { coding: [{ system: `${V2}v2-0937`, code: subType }] } });
  return out;
}

/** PRT-9 of the observation's participations → the IG's event-location extension (PRT[Observation-Location]). */
function eventLocations(ctx: MapContext, prts: Seg[]): Extension[] {
  return prts.map((prt) => location(ctx, rep(prt, 9))).filter((r): r is Reference => !!r).map((valueReference) => ({ url: `${EXT}event-location`, valueReference }));
}

/** ED with Base64 data → an attachment (a PDF or image of the signed report). */
function attachment(obx: Seg): Attachment | undefined {
  const ed = rep(obx, 5);
  if (val(obx, 2) !== 'ED' || !ed || !/^base64$/i.test(c(ed, 4)) || !c(ed, 5)) return undefined;
  const type = c(ed, 2).toLowerCase();
  const sub = c(ed, 3).toLowerCase();
  const contentType = type === 'application' || type === 'image' || type === 'text' ? `${type}/${sub || 'octet-stream'}` : sub === 'pdf' ? 'application/pdf' : 'application/octet-stream';
  return { contentType, data: c(ed, 5).replace(/\s+/g, '') };
}

export function mapObservation(ctx: MapContext, item: ObservationItem, reportKey: string, n: number, subject: Reference, encounter: Reference | undefined, fallbackTime?: string): Reference | undefined {
  const { obx } = item;
  const code = concept(rep(obx, 3));
  if (!code) {
    // Without a value either there is nothing to lose; a value without a name must not pass quietly.
    const empty = !reps(obx, 5).length || ['ED', 'RP'].includes(val(obx, 2));
    ctx.issues.push(issue(empty ? 'warning' : 'error', 'required', 'OBX-3 (observation identifier) is empty: no Observation made', where(obx, 3)));
    return undefined;
  }
  const v = value(ctx, obx);
  // ED/RP outside a report's presentedForm (R4 Observation has no attachment value): say so rather than count it.
  if (!v && reps(obx, 5).length && ['ED', 'RP'].includes(val(obx, 2))) ctx.dropped(obx, 5, 'ED/RP value: an R4 Observation has no attachment value (only a report keeps it, as presentedForm)');
  const status = (codeV2('v2-0085-to-observation-status', val(obx, 11)) ?? 'unknown') as Observation['status'];
  const range = referenceRange(val(obx, 7), rep(obx, 6));
  const effective = ctx.dateTime(val(obx, 14), where(obx, 14)) ?? fallbackTime;
  const interp = interpretation(obx);
  const note = notes(item.notes, ctx);
  // OBX-16 responsible observer, OBX-23 performing laboratory, OBX-25 its medical director: the IG's performers.
  const lab = organization(ctx, rep(obx, 23));
  const labAddress = lab && address(rep(obx, 24) ?? []);
  const labOrg = labAddress ? ctx.get<Organization>(lab.reference!) : undefined;
  if (labOrg && labAddress) labOrg.address = [labAddress];
  // OBX-15 producer's id: the IG's second performer, an Organization identified by the code.
  const producer = organizationFromCwe(ctx, rep(obx, 15));
  // PRT after the OBX (IG OML_O21/ORU_R01 maps): a person → performer, a device → device, a place → event-location.
  const parts = (item.participations ?? []).map((prt) => ({ prt, ...mapParticipation(ctx, prt, undefined) }));
  const performer = [...reps(obx, 16).map((x) => practitioner(ctx, x)), lab, producer, practitioner(ctx, rep(obx, 25)), ...parts.filter((p) => val(p.prt, 5)).map((p) => p.role)]
    .filter((r, i, all): r is Reference => !!r && all.findIndex((o) => o?.reference === r.reference) === i);
  // OBX-29 (table 0936: result, specimen observation, question …) is the IG's first category.
  const observationType = val(obx, 29);
  const instance = val(obx, 21);
  const observation = compact<Observation & { id: string }>({
    resourceType: 'Observation',
    id: ctx.id('Observation', reportKey, val(obx, 3), val(obx, 4), String(n)),
    extension: [...observationExtensions(ctx, obx), ...eventLocations(ctx, parts.map((p) => p.prt))],
    identifier: instance ? [{ value: instance }] : undefined,
    status,
    category: observationType ? [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0936', code: observationType }] }] : undefined,
    code,
    subject,
    encounter,
    effectiveDateTime: effective,
    valueQuantity: v?.valueQuantity,
    valueCodeableConcept: v?.valueCodeableConcept,
    valueString: v?.valueString,
    valueDateTime: v?.valueDateTime,
    valueTime: v?.valueTime,
    valueRange: v?.valueRange,
    valueRatio: v?.valueRatio,
    interpretation: interp,
    note,
    performer,
    bodySite: concept(rep(obx, 20)),
    method: concept(rep(obx, 17)),
    // OBX-18 equipment instance (repeats: the analyser and its modules) → one Device.
    device: device(ctx, reps(obx, 18)) ?? parts.find((p) => p.device)?.device,
    referenceRange: range ? [range] : undefined,
  });
  return ctx.put(observation);
}

/**
 * OBX under an order (ORM/OML/OMG: "ask at order entry" answers, vitals sent with the request):
 * per the IG's ORM_O01 and OML_O21 message maps, an Observation the ServiceRequest points at
 * through `supportingInfo`. Same OBX mapping as results use.
 */
export function mapOrderObservations(ctx: MapContext, g: OrderGroup, subject: Reference, encounter: Reference | undefined, order: Reference | undefined): void {
  if (!g.observations.length) return;
  const key = `${orderKey(ctx, g)}|order`;
  const seen = new Map<string, number>();
  const refs: Reference[] = [];
  for (const item of g.observations) {
    const idKey = `${val(item.obx, 3)}|${val(item.obx, 4)}`;
    const n = (seen.get(idKey) ?? 0) + 1;
    seen.set(idKey, n);
    const ref = mapObservation(ctx, item, key, n, subject, encounter);
    if (ref) refs.push(ref);
  }
  const sr = order && ctx.get<ServiceRequest>(order.reference!);
  if (sr && refs.length) sr.supportingInfo = [...(sr.supportingInfo ?? []), ...refs];
}

/**
 * OBX before any order or specimen in a result message (ORU_R01 PATIENT_OBSERVATION, OUL
 * patient results: blood group, weight for dosing) → an Observation of the patient, with the
 * NTE and PRT that follow it, per the IG's ORU_R01 map.
 */
export function mapPatientObservations(ctx: MapContext, subject: Reference, encounter: Reference | undefined): void {
  const firstOrder = ctx.segs.findIndex((s) => ['ORC', 'OBR', 'SPM'].includes(s.seg.id));
  const head = firstOrder < 0 ? ctx.segs : ctx.segs.slice(0, firstOrder);
  let n = 0;
  head.forEach((obx, i) => {
    if (obx.seg.id !== 'OBX') return;
    const item: ObservationItem = { obx, notes: [], participations: [] };
    for (const s of head.slice(i + 1)) {
      if (s.seg.id === 'NTE') item.notes.push(s);
      else if (s.seg.id === 'PRT') item.participations!.push(s);
      else break;
    }
    mapObservation(ctx, item, `patient|${subject.reference}|${ctx.msg.controlId}`, ++n, subject, encounter);
  });
}

/** SPM under an order (OML^O21, and ORM/OMG that carry one) → Specimen in ServiceRequest.specimen, the IG's OML_O21 map. */
export function mapOrderSpecimens(ctx: MapContext, g: OrderGroup, subject: Reference, order: Reference | undefined): void {
  // Without an SPM, the OBR's specimen fields (OBR-7/8/9/10/14/15: the IG's OBR[Specimen]) make the
  // Specimen, under the same id the result for this OBR will use.
  const fromObr = !g.specimens.length && g.obr ? obrSpecimen(ctx, g.obr, `${orderKey(ctx, g)}|${val(g.obr, 4)}`, subject, !isImagingOrder(g)) : undefined;
  if (!g.specimens.length && !fromObr) return;
  const key = `${orderKey(ctx, g)}|order`;
  const refs = fromObr ? [fromObr] : g.specimens.map((spm) => mapSpecimen(ctx, spm, key, subject));
  const sr = order && ctx.get<ServiceRequest>(order.reference!);
  if (sr) sr.specimen = [...(sr.specimen ?? []), ...refs];
}


function specimenPeriod(ctx: MapContext, start: string, end: string, whereStart: string, whereEnd: string): Pick<NonNullable<Specimen['collection']>, 'collectedDateTime' | 'collectedPeriod'> {
  const from = ctx.dateTime(start, whereStart);
  const to = end ? ctx.dateTime(end, whereEnd) : undefined;
  return to ? { collectedPeriod: compact({ start: from, end: to }) } : { collectedDateTime: from };
}

/** SPM (bệnh phẩm: specimen) → Specimen per the IG's SPM map, keyed by its id or the order and set id. */
function mapSpecimen(ctx: MapContext, spm: Seg, orderKey: string, subject: Reference): Reference {
  const placer = val(spm, 2);
  const filler = val(spm, 2, 2);
  const id = placer || filler;
  const collection = compact<NonNullable<Specimen['collection']>>({
    ...specimenPeriod(ctx, val(spm, 17), val(spm, 17, 2), where(spm, 17, 1, 1), where(spm, 17, 1, 2)),
    quantity: cqQuantity(rep(spm, 12)),
    method: concept(rep(spm, 7)),
    bodySite: concept(rep(spm, 8)),
  });
  const availability = val(spm, 20);
  const containerType = concept(rep(spm, 27));
  const additives = reps(spm, 6).map(concept).filter((x): x is CodeableConcept => !!x);
  const specimen = compact<Specimen & { id: string }>({
    resourceType: 'Specimen',
    id: ctx.id('Specimen', id || `${orderKey}|${val(spm, 1) || spm.occ}`),
    identifier: [placer, filler, ...reps(spm, 31).map((r) => c(r, 1))].filter((v, i, a) => v && a.indexOf(v) === i).map((value) => ({ value })),
    accessionIdentifier: val(spm, 30) ? { value: val(spm, 30) } : undefined,
    status: availability === 'Y' ? 'available' : availability === 'N' ? 'unavailable' : undefined,
    type: concept(rep(spm, 4)),
    subject,
    receivedTime: ctx.dateTime(val(spm, 18), where(spm, 18)),
    parent: reps(spm, 3).map((r) => c(r, 1)).filter((p) => p && p !== id).map((value) => ({ identifier: { value } })),
    collection: Object.keys(collection).length ? collection : undefined,
    container: containerType || additives.length ? [compact({ type: containerType, additiveCodeableConcept: additives[0] })] : undefined,
    condition: reps(spm, 24).map(concept).filter((x): x is CodeableConcept => !!x),
    note: reps(spm, 14).map((r) => c(r, 1)).filter(Boolean).map((text) => ({ text })),
  });
  return ctx.put(specimen);
}

/**
 * Without SPM, v2.3–2.4 feeds describe the specimen in OBR-15 (source) and OBR-14 (received):
 * the IG's OBR[Specimen] map. OBR-7 alone is the observation time, not a specimen.
 */
function obrSpecimen(ctx: MapContext, obr: Seg, orderKey: string, subject: Reference, inOrder = false): Reference | undefined {
  const source = rep(obr, 15);
  const received = ctx.dateTime(val(obr, 14), where(obr, 14));
  const type = concept(source?.[0]?.length ? [source[0]] : undefined) ?? (c(source, 1, 2) ? { text: c(source, 1, 2) } : undefined);
  // In a result OBR-7 is the observation time; in an order (the IG's OML_O21 OBR[Specimen]) a
  // collection time or collector alone already describes a specimen taken.
  if (!type && !received && !(inOrder && (val(obr, 7) || val(obr, 10)))) return undefined;
  const collector = practitioner(ctx, rep(obr, 10));
  const collection = compact<NonNullable<Specimen['collection']>>({
    ...(val(obr, 7) ? specimenPeriod(ctx, val(obr, 7), val(obr, 8), where(obr, 7), where(obr, 8)) : {}),
    quantity: cqQuantity(rep(obr, 9)),
    collector,
    bodySite: concept(source?.[3]?.length ? [source[3]] : undefined),
  });
  const specimen = compact<Specimen & { id: string }>({
    resourceType: 'Specimen',
    id: ctx.id('Specimen', `${orderKey}|OBR`),
    type,
    subject,
    receivedTime: received,
    collection: Object.keys(collection).length ? collection : undefined,
    note: reps(obr, 39).map((r) => c(r, 2) || c(r, 1)).filter(Boolean).map((text) => ({ text })),
  });
  return ctx.put(specimen);
}

/** Issued must be an instant: only a timestamp with seconds qualifies. */
function instant(dt: string | undefined): string | undefined {
  return dt && /T\d{2}:\d{2}:\d{2}/.test(dt) ? dt : undefined;
}

export function mapReport(ctx: MapContext, g: OrderGroup, subject: Reference, encounter: Reference | undefined, order: Reference | undefined): void {
  const accession = accessionOf(g);
  const reportKey = `${orderKey(ctx, g)}|${val(g.obr, 4)}`;
  const effective = g.obr ? ctx.dateTime(val(g.obr, 7), where(g.obr, 7)) : undefined;
  const specimens = g.specimens.map((spm) => mapSpecimen(ctx, spm, reportKey, subject));
  const fromObr = !specimens.length && g.obr ? obrSpecimen(ctx, g.obr, reportKey, subject) : undefined;
  if (fromObr) specimens.push(fromObr);
  const results: Reference[] = [];
  const seen = new Map<string, number>();
  const text: string[] = [];
  const impression: string[] = [];
  const forms: Attachment[] = [];
  for (const item of g.observations) {
    const idKey = `${val(item.obx, 3)}|${val(item.obx, 4)}`;
    const n = (seen.get(idKey) ?? 0) + 1;
    seen.set(idKey, n);
    const form = attachment(item.obx);
    if (form) {
      // The image or PDF's name (OBX-3) and when it was made (OBX-14 observation time, else OBX-19 analysis time).
      const name = concept(rep(item.obx, 3));
      const made = ctx.dateTime(val(item.obx, 14) || val(item.obx, 19), where(item.obx, val(item.obx, 14) ? 14 : 19));
      forms.push(compact<Attachment>({ ...form, title: name?.text ?? name?.coding?.[0]?.display ?? name?.coding?.[0]?.code, creation: made }));
    }
    const ref = form ? undefined : mapObservation(ctx, item, reportKey, n, subject, encounter, effective);
    if (ref) results.push(ref);
    if (TEXT_TYPES.has(val(item.obx, 2))) {
      const lines = reps(item.obx, 5).map((r) => r.map((comp) => comp.join('&')).join(' ')).join('\n');
      text.push(lines);
      if (reportSection(item.obx) === 'IMP') impression.push(lines);
    }
  }
  if (!g.obr) return;
  const section = val(g.obr, 24);
  const code = concept(rep(g.obr, 4));
  if (!code) ctx.issues.push(issue('error', 'required', 'OBR-4 (universal service identifier) is empty', where(g.obr, 4)));
  // Radiology reports arrive as text lines; the whole text is the presented form, the impression the conclusion.
  const isReportText = text.length > 0 && (g.observations.some((o) => REPORT_SECTIONS.has(reportSection(o.obx))) || g.observations.every((o) => TEXT_TYPES.has(val(o.obx, 2))));
  if (isReportText) forms.unshift({ contentType: 'text/plain; charset=utf-8', data: Buffer.from(text.join('\n'), 'utf8').toString('base64') });
  const issued = instant(ctx.dateTime(val(g.obr, 22), where(g.obr, 22)));
  // OBR-32 is NDL: the interpreter's CNN sits in the subcomponents of its first component.
  const interpreter = practitioner(ctx, rep(g.obr, 32)?.[0]?.map((sub) => [sub]));
  // OBR-34 technician and OBR-35 transcriptionist: performers with the IG's event-performerFunction (v3 ParticipationType).
  const performer = ([[34, 'SPRF'], [35, 'TRANS']] as const).flatMap(([field, fn]) => reps(g.obr, field).map((r) => practitioner(ctx, r[0]?.map((sub) => [sub])))
    .filter((r): r is Reference => !!r)
    .map((r) => ({ ...r, extension: [{ url: `${EXT}event-performerFunction`, valueCodeableConcept: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: fn }] } }] })));
  // OBR-2 placer and OBR-3 filler order numbers are the IG's report identifiers too.
  const orderIds = ([[2, 'PLAC'], [3, 'FILL']] as const).map(([field, code]) => [val(g.obr, field), code] as const).filter(([v]) => !!v)
    .map(([value, code]) => ({ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code }] }, value }));
  const status = (codeV2('v2-0123-to-diagnostic-report-status', val(g.obr, 25)) ?? 'unknown') as DiagnosticReport['status'];
  const report = compact<DiagnosticReport & { id: string }>({
    resourceType: 'DiagnosticReport',
    id: ctx.id('DiagnosticReport', reportKey),
    identifier: [...orderIds, ...(accession ? [compact({ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'ACSN' }] }, system: ctx.cfg.accessionSystem, value: accession })] : [])],
    basedOn: order ? [order] : undefined,
    status,
    category: section ? [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0074', code: section }] }] : undefined,
    code: code ?? { text: 'unknown' },
    subject,
    encounter,
    effectiveDateTime: effective,
    issued,
    performer,
    resultsInterpreter: interpreter ? [interpreter] : undefined,
    specimen: specimens,
    result: results,
    conclusion: impression.length || isReportText ? (impression.length ? impression : text).join('\n') : undefined,
    presentedForm: forms,
  });
  ctx.put(report);
}
