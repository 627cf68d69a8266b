import type { CodeableConcept, Dosage, Identifier, Medication, MedicationAdministration, MedicationDispense, MedicationRequest, Reference } from 'fhir/r4';
import { issue } from '../../fhir/outcome';
import { PROVIDER_CODE_SYSTEM } from './config';
import { compact, MapContext, rep, reps, val, where, type Seg } from './context';
import { concept, quantity } from './datatypes';
import { practitioner } from './references';
import { notes } from './map-order';
import { every, first, following, type SegmentBlock } from './segment-groups';
import { codeV2 } from './tables';
import { tq1Timing } from './timing';
import './segments/rxo';
import './segments/rxe';
import './segments/rxd';
import './segments/rxa';
import './segments/rxr';
import './segments/rxc';
import './segments/tq1';
import { mapOrderProvenance } from './segments/orc';

// RDE/RDS/RAS (đơn thuốc, cấp phát, dùng thuốc): ORC + RXO/RXE/RXD/RXA + RXR/RXC/TQ1 →
// MedicationRequest, MedicationDispense, MedicationAdministration, after the IG's RXO, RXE,
// RXD, RXA[MedicationAdministration], RXR and TQ1[MedicationRequest] segment maps.

const V2_0203 = 'http://terminology.hl7.org/CodeSystem/v2-0203';
const PHARMACY = ['RXO', 'RXE', 'RXD', 'RXG', 'RXA'];

/** HL7 table 0167 (substitution) → FHIR v3-substanceAdminSubstitution, as the IG's AllowSubstitution map. */
const SUBSTITUTION: Record<string, [boolean, string, string]> = {
  G: [true, 'G', 'generic composition'], T: [true, 'TE', 'therapeutic alternative'],
  N: [false, 'N', 'none'], '0': [false, 'N', 'none'],
};

function num(s: Seg | undefined, field: number): number | undefined {
  const v = val(s, field);
  return v !== '' && Number.isFinite(Number(v)) ? Number(v) : undefined;
}

/** The order key shared by the request, its dispenses and administrations: placer, else filler, else the message. */
export function pharmacyOrderKey(ctx: MapContext, b: SegmentBlock): string {
  const orc = first(b, 'ORC');
  return val(orc, 2) || val(orc, 3) || val(first(b, 'RXE'), 15) || val(first(b, 'RXD'), 7) || `${ctx.msg.controlId}#${b.index}`;
}

function orderIdentifiers(ctx: MapContext, b: SegmentBlock): Identifier[] {
  const orc = first(b, 'ORC');
  const assigner = { identifier: { system: PROVIDER_CODE_SYSTEM, value: ctx.facility } };
  const out: Identifier[] = [];
  if (val(orc, 2)) out.push({ type: { coding: [{ system: V2_0203, code: 'PLAC' }] }, value: val(orc, 2), assigner });
  if (val(orc, 3)) out.push({ type: { coding: [{ system: V2_0203, code: 'FILL' }] }, value: val(orc, 3), assigner });
  return out;
}

/** RXR-1 route, RXR-2 site, RXR-4 method. */
function route(rxr: Seg | undefined): Pick<Dosage, 'route' | 'site' | 'method'> {
  return { route: concept(rep(rxr, 1)), site: concept(rep(rxr, 2)), method: concept(rep(rxr, 4)) };
}

/** RXC (thành phần: compound components) make a Medication; otherwise the code alone is enough. */
function medication(ctx: MapContext, b: SegmentBlock, key: string, code: CodeableConcept | undefined, after: Seg): Pick<MedicationRequest, 'medicationCodeableConcept' | 'medicationReference'> {
  const rxc = following(b, after, 'RXC', PHARMACY);
  if (!rxc.length) return { medicationCodeableConcept: code ?? { text: 'unknown' } };
  const med = compact<Medication & { id: string }>({
    resourceType: 'Medication',
    id: ctx.id('Medication', key, after.seg.id),
    code,
    ingredient: rxc.flatMap((c) => {
      const item = concept(rep(c, 2));
      if (!item) return [];
      const amount = num(c, 3);
      return [compact({
        itemCodeableConcept: item,
        isActive: val(c, 1) === 'A' ? true : undefined,
        strength: amount !== undefined ? { numerator: quantity(amount, rep(c, 4)), denominator: { value: 1 } } : undefined,
      })];
    }),
  });
  return { medicationReference: ctx.put(med) };
}

function requestStatus(orc: Seg | undefined): MedicationRequest['status'] {
  const s = codeV2('v2-0038-to-request-status', val(orc, 5)) ?? codeV2('v2-0119-to-request-status', val(orc, 1)) ?? 'active';
  return (s === 'revoked' ? 'cancelled' : s) as MedicationRequest['status'];
}

/**
 * RXE (or RXO when there is no RXE) → MedicationRequest. An RXO beside the RXE is the order as the
 * prescriber wrote it before the pharmacy encoded it ("y lệnh gốc"): its own MedicationRequest
 * (intent original-order, the IG's RXO map) that the encoded one is based on.
 */
export function mapMedicationRequest(ctx: MapContext, b: SegmentBlock, patient: Reference, encounter: Reference | undefined): Reference | undefined {
  const rxe = first(b, 'RXE');
  const rxo = first(b, 'RXO');
  const src = rxe ?? rxo;
  if (!src) return undefined;
  const key = pharmacyOrderKey(ctx, b);
  const original = rxe && rxo ? ctx.put(buildRequest(ctx, b, rxo, patient, encounter, `${key}|original`, 'original-order')) : undefined;
  const request = buildRequest(ctx, b, src, patient, encounter, key, 'order');
  if (original) request.basedOn = [original];
  const ref = ctx.put(request);
  mapOrderProvenance(ctx, first(b, 'ORC'), ref);
  return ref;
}

function buildRequest(ctx: MapContext, b: SegmentBlock, src: Seg, patient: Reference, encounter: Reference | undefined, key: string, intent: MedicationRequest['intent']): MedicationRequest & { id: string } {
  const orc = first(b, 'ORC');
  const rxo = first(b, 'RXO');
  const isRxe = src.seg.id === 'RXE';
  const code = concept(rep(src, isRxe ? 2 : 1));
  if (!code) ctx.issues.push(issue('warning', 'required', `${src.seg.id}-${isRxe ? 2 : 1} (drug code) is empty`, where(src, isRxe ? 2 : 1)));
  const tq1 = following(b, src, 'TQ1', PHARMACY)[0] ?? following(b, orc, 'TQ1', PHARMACY)[0];
  const rxr = following(b, src, 'RXR', PHARMACY)[0] ?? (rxo ? following(b, rxo, 'RXR', PHARMACY)[0] : undefined);
  const [minF, maxF, unitF, instrF, subF, dispF, dispUnitF, refillF] = isRxe ? [3, 4, 5, 7, 9, 10, 11, 12] : [2, 3, 4, 7, 9, 11, 12, 13];
  const min = num(src, minF);
  const max = num(src, maxF);
  const unit = rep(src, unitF);
  const doseAndRate = min === undefined ? undefined : [max !== undefined && max !== min ? { doseRange: { low: quantity(min, unit), high: quantity(max, unit) } } : { doseQuantity: quantity(min, unit) }];
  const instructions = reps(src, instrF).map((r) => r[1]?.[0] || r[0]?.[0] || '').filter(Boolean).join('; ');
  // TQ1-11 text instruction joins the drug's own instructions; TQ1-10 condition ("khi sốt > 38,5°C") is an additional instruction.
  const text = [instructions, val(tq1, 11)].filter(Boolean).join('; ');
  const condition = val(tq1, 10);
  const dosage = compact<Dosage>({ text, additionalInstruction: condition ? [{ text: condition }] : undefined, timing: tq1Timing(ctx, tq1), ...route(rxr), doseAndRate });
  const dispense = num(src, dispF);
  const refills = num(src, refillF);
  const sub = SUBSTITUTION[val(src, subF)];
  const prescription = isRxe ? val(src, 15) : '';
  const ids = orderIdentifiers(ctx, b);
  if (prescription) ids.push({ type: { coding: [{ system: V2_0203, code: 'RXN' }] }, value: prescription });
  return compact<MedicationRequest & { id: string }>({
    resourceType: 'MedicationRequest',
    id: ctx.id('MedicationRequest', key),
    identifier: ids,
    status: requestStatus(orc),
    intent,
    // TQ1-9 priority (table 0027: S stat, A ASAP, R routine) as for orders.
    priority: codeV2('v2-0027-to-request-priority', val(tq1, 9)) as MedicationRequest['priority'],
    ...medication(ctx, b, key, code, src),
    subject: patient,
    encounter,
    authoredOn: ctx.dateTime(val(orc, 9), orc ? where(orc, 9) : 'ORC-9'),
    requester: practitioner(ctx, rep(orc, 12) ?? rep(src, isRxe ? 13 : 14)),
    reasonCode: reps(src, isRxe ? 27 : 20).map(concept).filter((x): x is CodeableConcept => !!x),
    note: notes(following(b, src, 'NTE', PHARMACY), ctx),
    dosageInstruction: Object.keys(dosage).length ? [dosage] : undefined,
    dispenseRequest: dispense !== undefined || (refills !== undefined && refills >= 0) ? compact({
      quantity: dispense !== undefined ? quantity(dispense, rep(src, dispUnitF)) : undefined,
      numberOfRepeatsAllowed: refills !== undefined && Number.isInteger(refills) && refills >= 0 ? refills : undefined,
    }) : undefined,
    substitution: sub ? { allowedCodeableConcept: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-substanceAdminSubstitution', code: sub[1], display: sub[2] }] } } : undefined,
  });
}

/** RXD → MedicationDispense (một lần cấp phát). */
export function mapMedicationDispense(ctx: MapContext, b: SegmentBlock, patient: Reference, encounter: Reference | undefined, request: Reference | undefined): void {
  every(b, 'RXD').forEach((rxd, n) => {
    const key = pharmacyOrderKey(ctx, b);
    const code = concept(rep(rxd, 2));
    if (!code) ctx.issues.push(issue('warning', 'required', 'RXD-2 (dispense/give code) is empty', where(rxd, 2)));
    const amount = num(rxd, 4);
    const rxr = following(b, rxd, 'RXR', PHARMACY)[0];
    const dosage = compact<Dosage>({ text: val(rxd, 9), ...route(rxr) });
    const performer = practitioner(ctx, rep(rxd, 10));
    const dispense = compact<MedicationDispense & { id: string }>({
      resourceType: 'MedicationDispense',
      id: ctx.id('MedicationDispense', key, val(rxd, 1) || String(n + 1)),
      identifier: val(rxd, 7) ? [{ type: { coding: [{ system: V2_0203, code: 'RXN' }] }, value: val(rxd, 7) }] : undefined,
      status: 'completed',
      ...medication(ctx, b, `${key}|${n}`, code, rxd),
      subject: patient,
      context: encounter,
      performer: performer ? [{ actor: performer }] : undefined,
      authorizingPrescription: request ? [request] : undefined,
      quantity: amount !== undefined ? quantity(amount, rep(rxd, 5)) : undefined,
      whenHandedOver: ctx.dateTime(val(rxd, 3), where(rxd, 3)),
      dosageInstruction: Object.keys(dosage).length ? [dosage] : undefined,
    });
    ctx.put(dispense);
  });
}

/** RXA-20 completion status (table 0322) and RXA-21 action code, shared with immunization. */
export function administrationStatus(rxa: Seg): 'completed' | 'not-done' | 'entered-in-error' | 'in-progress' {
  if (val(rxa, 21) === 'D') return 'entered-in-error';
  const s = val(rxa, 20);
  return s === 'RE' || s === 'NA' ? 'not-done' : s === 'PA' ? 'in-progress' : 'completed';
}

/** RXA → MedicationAdministration (một lần dùng thuốc). */
export function mapMedicationAdministration(ctx: MapContext, b: SegmentBlock, patient: Reference, encounter: Reference | undefined, request: Reference | undefined): void {
  every(b, 'RXA').forEach((rxa, n) => {
    const key = pharmacyOrderKey(ctx, b);
    const start = ctx.dateTime(val(rxa, 3), where(rxa, 3));
    const end = ctx.dateTime(val(rxa, 4), where(rxa, 4));
    if (!start) {
      ctx.issues.push(issue('warning', 'required', 'RXA-3 (administration start) is empty or invalid: no MedicationAdministration made', where(rxa, 3)));
      return;
    }
    const amount = num(rxa, 6);
    const rxr = following(b, rxa, 'RXR', PHARMACY)[0];
    const r = route(rxr);
    const dose = amount !== undefined ? quantity(amount, rep(rxa, 7)) : undefined;
    const performer = practitioner(ctx, rep(rxa, 10));
    const status = administrationStatus(rxa);
    const reason = concept(rep(rxa, 18));
    const administration = compact<MedicationAdministration & { id: string }>({
      resourceType: 'MedicationAdministration',
      id: ctx.id('MedicationAdministration', key, `${val(rxa, 1) || 0}.${val(rxa, 2) || n + 1}`),
      status,
      statusReason: status === 'not-done' && reason ? [reason] : undefined,
      ...medication(ctx, b, `${key}|${n}`, concept(rep(rxa, 5)) ?? { text: 'unknown' }, rxa),
      subject: patient,
      context: encounter,
      effectivePeriod: end && end !== start ? { start, end } : undefined,
      effectiveDateTime: end && end !== start ? undefined : start,
      performer: performer ? [{ actor: performer }] : undefined,
      reasonCode: reps(rxa, 19).map(concept).filter((x): x is CodeableConcept => !!x),
      request,
      note: val(rxa, 9, 2) || val(rxa, 9) ? [{ text: val(rxa, 9, 2) || val(rxa, 9) }] : undefined,
      dosage: dose || r.route || r.site || r.method ? compact({ site: r.site, route: r.route, method: r.method, dose }) : undefined,
    });
    ctx.put(administration);
  });
}
