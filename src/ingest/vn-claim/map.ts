import type { Bundle, Claim, ClaimItem, Reference } from 'fhir/r4';
import { issue } from '../../fhir/outcome';
import type { Issue } from '../../fhir/outcome';
import { deterministicId } from '../ids';
import { MapContext, SID, compact, vnd } from './context';
import { claimDate, claimDateTime } from './dates';
import { DOCUMENT_TABLES, mapAppointment, mapDocuments, mapReferral } from './map-documents';
import { mapCoverages, mapEncounter, mapPatient } from './map-episode';
import type { Card } from './map-episode';
import { mapDrugs, mapResults, mapServices, moneyExtensions } from './map-services';
import type { EpisodeRefs } from './map-services';
import type { ClaimRecords, Row } from './parse';
import { mapVitalSigns, mapWeight } from './map-vitals';

/**
 * One episode's records → a FHIR R4 transaction Bundle. Pure: the same records always give the
 * same Bundle, and resource ids come from (facility, source key), so a resend updates.
 */
export function mapClaim(records: ClaimRecords): { bundle?: Bundle; issues: Issue[] } {
  // XML1 TONG_HOP (episode summary); a check-in (XML0) alone carries the same patient and arrival fields.
  const checkIn = records.tables.XML1 ? undefined : records.tables.XML0?.[0];
  const x1 = records.tables.XML1?.[0] ?? checkIn;
  if (!x1) {
    const present = Object.keys(records.tables).join(', ');
    return { issues: [issue('error', 'required', `${present || 'this file'} cannot be converted without the episode's XML1 (TONG_HOP)`, 'XML1')] };
  }
  const ctx = new MapContext(records.facility, records.maLK);
  // MA_CSKCB (treating facility)
  const facility = ctx.organization(x1.MA_CSKCB || records.facility);
  const patient = mapPatient(ctx, x1, facility);
  const coverages = mapCoverages(ctx, x1, patient);
  const encounter = mapEncounter(ctx, x1, patient, facility, checkIn ? 'arrived' : undefined);
  const refs: EpisodeRefs = { patient, encounter, facility };
  const t = records.tables;

  const items: ClaimItem[] = [];
  mapDrugs(ctx, t.XML2 ?? [], refs, items);
  const orders = mapServices(ctx, t.XML3 ?? [], refs, items);
  mapResults(ctx, t.XML4 ?? [], refs, t.XML3 ?? [], orders);
  mapWeight(ctx, x1, refs);
  mapVitalSigns(ctx, t.XML5 ?? [], refs);
  for (const table of DOCUMENT_TABLES) if (table !== 'XML13') mapDocuments(ctx, table, t[table] ?? [], refs);
  const referral = t.XML13?.[0];
  if (referral) mapReferral(ctx, referral, refs, mapDocuments(ctx, 'XML13', [referral], refs)[0]!);
  const conditions = ctx.entries.filter((e) => e.resource?.resourceType === 'Condition').map((e): Reference => ({ reference: e.request!.url }));
  if (t.XML14?.[0]) mapAppointment(ctx, t.XML14[0], refs, conditions.slice(0, 1));
  if (!checkIn) mapClaimResource(ctx, x1, refs, coverages, conditions, items);

  return { bundle: ctx.bundle(), issues: ctx.issues };
}

/** The card valid when the episode started, else the first one. */
function focalCard(coverages: { card: Card; ref: Reference }[], start: string | undefined): number {
  const day = start ? claimDate(start.slice(0, 8)) : undefined;
  const i = coverages.findIndex(({ card }) => {
    const from = claimDate(card.start ?? '');
    const to = claimDate(card.end ?? '');
    return day && (!from || from <= day) && (!to || day <= to);
  });
  return i < 0 ? 0 : i;
}

/** XML1 totals and every XML2/XML3 row's money → the Claim sent to VSS (only for insured episodes). */
function mapClaimResource(ctx: MapContext, x1: Row, refs: EpisodeRefs, coverages: { card: Card; ref: Reference }[], conditions: Reference[], items: ClaimItem[]): void {
  if (!coverages.length) {
    if (items.length) ctx.issues.push(issue('information', 'informational', 'no BHYT card in MA_THE_BHYT: the charges are not mapped to a Claim', 'XML1[0].MA_THE_BHYT'));
    return;
  }
  const focal = focalCard(coverages, x1.NGAY_VAO);
  const claim: Claim = compact({
    resourceType: 'Claim' as const,
    id: ctx.id('Claim'),
    // T_TONGCHI_BH (insured total), T_BHTT (claimed from VSS), T_BNCCT (co-payment), T_BNTT (self-pay)
    extension: moneyExtensions(x1, { insured: 'T_TONGCHI_BH', payable: 'T_BHTT', copay: 'T_BNCCT', 'self-pay': 'T_BNTT' }),
    identifier: [{ system: `${SID}/claim-episode`, value: ctx.maLK, assigner: refs.facility }],
    status: 'active' as const,
    type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/claim-type', code: 'institutional' }] },
    use: 'claim' as const,
    patient: refs.patient,
    // NGAY_VAO … NGAY_RA (billable period), NGAY_TTOAN (paid at)
    billablePeriod: compact({ start: claimDateTime(x1.NGAY_VAO ?? ''), end: claimDateTime(x1.NGAY_RA ?? '') }),
    created: claimDateTime(x1.NGAY_TTOAN || x1.NGAY_RA || x1.NGAY_VAO || '') ?? '',
    insurer: { reference: `Organization/${deterministicId('', 'Organization', 'VSS')}` },
    provider: refs.facility,
    priority: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/processpriority', code: 'normal' }] },
    diagnosis: conditions.map((c, i) => ({ sequence: i + 1, diagnosisReference: c })),
    insurance: coverages.map((c, i) => ({ sequence: i + 1, focal: i === focal, coverage: c.ref })),
    item: items,
    // T_TONGCHI_BV (total at hospital prices)
    total: vnd(x1.T_TONGCHI_BV),
  });
  if (!claim.created) ctx.issues.push(issue('error', 'required', 'the Claim needs a date: NGAY_TTOAN, NGAY_RA or NGAY_VAO', 'XML1[0].NGAY_VAO'));
  ctx.add(claim);
}
