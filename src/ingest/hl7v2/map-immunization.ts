import type { CodeableConcept, Immunization, ImmunizationEducation, ImmunizationPerformer, Organization, Reference } from 'fhir/r4';
import { issue } from '../../fhir/outcome';
import { compact, MapContext, rep, reps, val, where, type Seg } from './context';
import { c, concept, quantity } from './datatypes';
import { practitioner } from './references';
import { notes } from './map-order';
import { administrationStatus, pharmacyOrderKey } from './map-pharmacy';
import { every, first, following, type SegmentBlock } from './segment-groups';
import './segments/rxa';
import './segments/rxr';

// VXU^V04 (tiêm chủng): ORC + RXA + RXR + OBX → Immunization, per the IG's RXA/RXR/ORC
// [Immunization] maps and the CDC IIS implementation guide's OBX conventions.

const PERFORMER_FUNCTION = 'http://terminology.hl7.org/CodeSystem/v2-0443';
/** IIS convention: 999 in RXA-6 means the amount is not known, not 999 mL. */
const UNKNOWN_AMOUNT = '999';

function mvxManufacturer(ctx: MapContext, mvx: ReturnType<typeof rep>): Reference | undefined {
  const code = c(mvx, 1);
  const name = c(mvx, 2) || code;
  if (!name) return undefined;
  const org = compact<Organization & { id: string }>({
    resourceType: 'Organization',
    id: ctx.id('Organization', 'MVX', code || name),
    identifier: code ? [{ system: 'http://hl7.org/fhir/sid/mvx', value: code }] : undefined,
    name,
  });
  return { ...ctx.put(org), display: name };
}

/** The IIS OBX that describe the dose rather than observe the patient (LOINC codes from the CDC guide). */
function applyObservations(ctx: MapContext, obxs: Seg[], imm: Immunization): void {
  const education: ImmunizationEducation[] = [];
  let vis: ImmunizationEducation | undefined;
  for (const obx of obxs) {
    const code = val(obx, 3);
    const value = rep(obx, 5);
    switch (code) {
      case '64994-7': {
        const cc = concept(value);
        if (cc) (imm.programEligibility ??= []).push(cc);
        break;
      }
      case '30963-3':
        imm.fundingSource = concept(value);
        break;
      case '30973-2':
        if (c(value, 1)) imm.protocolApplied = [{ doseNumberString: c(value, 1) }];
        break;
      case '69764-9': case '30956-7':
        vis = compact<ImmunizationEducation>({ documentType: c(value, 2) || c(value, 1) });
        education.push(vis);
        break;
      case '29768-9': case '29769-7': {
        const d = ctx.dateTime(c(value, 1), where(obx, 5));
        if (!vis) education.push((vis = {}));
        if (d && code === '29768-9') vis.publicationDate = d;
        if (d && code === '29769-7') vis.presentationDate = d;
        break;
      }
    }
  }
  const kept = education.filter((e) => Object.keys(e).length);
  if (kept.length) imm.education = kept;
}

export function mapImmunization(ctx: MapContext, b: SegmentBlock, patient: Reference, encounter: Reference | undefined): void {
  const orc = first(b, 'ORC');
  every(b, 'RXA').forEach((rxa, n) => {
    const vaccine = concept(rep(rxa, 5));
    const occurrence = ctx.dateTime(val(rxa, 3), where(rxa, 3));
    if (!vaccine || !occurrence) {
      ctx.issues.push(issue('warning', 'required', `RXA-${vaccine ? 3 : 5} is empty or invalid: no Immunization made`, where(rxa, vaccine ? 3 : 5)));
      return;
    }
    // CVX 998 "no vaccine administered" records a refusal or a deferral, not a dose.
    const status = administrationStatus(rxa);
    const amount = val(rxa, 6);
    const rxr = following(b, rxa, 'RXR', ['RXA', 'ORC'])[0];
    const performer: ImmunizationPerformer[] = [];
    const administering = practitioner(ctx, rep(rxa, 10));
    if (administering) performer.push({ function: { coding: [{ system: PERFORMER_FUNCTION, code: 'AP', display: 'Administering Provider' }] }, actor: administering });
    const ordering = practitioner(ctx, rep(orc, 12));
    if (ordering) performer.push({ function: { coding: [{ system: PERFORMER_FUNCTION, code: 'OP', display: 'Ordering Provider' }] }, actor: ordering });
    const source = c(rep(rxa, 9), 1);
    const historical = source !== '' && source !== '00';
    const reason = concept(rep(rxa, 18));
    const expires = ctx.dateTime(val(rxa, 16), where(rxa, 16))?.slice(0, 10);
    const imm = compact<Immunization & { id: string }>({
      resourceType: 'Immunization',
      id: ctx.id('Immunization', val(orc, 3) || val(orc, 2) || pharmacyOrderKey(ctx, b), String(n + 1)),
      identifier: [val(orc, 3), val(orc, 2)].filter(Boolean).slice(0, 1).map((value) => ({ value })),
      status: status === 'in-progress' ? 'completed' : status,
      statusReason: status === 'not-done' && reason ? reason : undefined,
      vaccineCode: vaccine,
      patient,
      encounter,
      occurrenceDateTime: occurrence,
      recorded: ctx.dateTime(val(rxa, 22), where(rxa, 22)),
      primarySource: source ? !historical : undefined,
      reportOrigin: historical ? concept(rep(rxa, 9)) : undefined,
      manufacturer: mvxManufacturer(ctx, rep(rxa, 17)),
      lotNumber: val(rxa, 15),
      expirationDate: expires && expires.length === 10 ? expires : undefined,
      site: concept(rep(rxr, 2)),
      route: concept(rep(rxr, 1)),
      doseQuantity: amount && amount !== UNKNOWN_AMOUNT && Number.isFinite(Number(amount)) ? quantity(Number(amount), rep(rxa, 7)) : undefined,
      performer,
      reasonCode: reps(rxa, 19).map(concept).filter((x): x is CodeableConcept => !!x),
      note: notes(following(b, rxa, 'NTE', ['RXA', 'ORC']), ctx),
    });
    applyObservations(ctx, following(b, rxa, 'OBX', ['RXA', 'ORC']), imm);
    ctx.put(imm);
  });
}
