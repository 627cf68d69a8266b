import type { Bundle, Coverage, CoverageEligibilityResponse, Encounter, Extension, Identifier, Organization, Patient, Reference, Resource } from 'fhir/r4';
import { codeByDisplay, coding, lookup, translate } from '../fhir/conceptmap';
import { badRequest, toOperationOutcome, type Issue } from '../fhir/outcome';
import { vietnameseName } from '../fhir/text';
import { deterministicId } from '../ingest/ids';
import { CARD } from '../ingest/vn-claim/map-episode';
import { CM, CS, SD, SID, compact, translated, vnConcept } from '../ingest/vn-claim/context';
import { claimDate, claimDateTime } from '../ingest/vn-claim/dates';

/**
 * Pure mapping of the VSS card lookup (reference §5.3) to FHIR: the query's shapes, the
 * portal's answer → CoverageEligibilityResponse, Coverage(s), Patient and visit Encounters.
 * Codes are translated through `profiles/` like every other mapper.
 */

/** What `KQNhanLichSuKCB2024` answers (fields the gateway uses). */
export interface VssCard {
  maKetQua: string;
  ghiChu?: string;
  maThe?: string;
  hoTen?: string;
  ngaySinh?: string;
  gioiTinh?: string;
  diaChi?: string;
  maDKBD?: string;
  cqBHXH?: string;
  gtTheTu?: string;
  gtTheDen?: string;
  maKV?: string;
  ngayDu5Nam?: string;
  maSoBHXH?: string;
  maTheCu?: string;
  maTheMoi?: string;
  gtTheTuMoi?: string;
  gtTheDenMoi?: string;
  maDKBDMoi?: string;
  tenDKBDMoi?: string;
}

/** One visit of `Lskcb2025` (`dsLichSuKCB2025[]`). */
export interface VssVisit {
  maHoSo?: string;
  maCSKCB?: string;
  ngayVao?: string;
  ngayRa?: string;
  tenBenh?: string;
  tinhTrang?: string;
  kqDieuTri?: string;
  lyDoVV?: string;
}

/** The portal's answer as the gateway keeps and caches it. */
export interface PortalAnswer {
  card: VssCard;
  visits?: VssVisit[];
}

export type IdentifierKind = 'cccd' | 'bhyt' | 'bhxh';

export interface LookupQuery {
  identifier: string;
  kind: IdentifierKind;
  name: string;
  /** FHIR date: YYYY, YYYY-MM or YYYY-MM-DD. */
  birthdate: string;
  history: boolean;
}

export const SHAPES = 'a 12-digit CCCD, a 15-character BHYT card code (2 letters, benefit level 1–5, 2-digit province, 10-digit BHXH number) or a 10-digit BHXH number';

export const IDENTIFIER_SYSTEM: Record<IdentifierKind, string> = {
  cccd: `${SID}/national_id`,
  bhyt: `${SID}/insurance_number`,
  bhxh: `${SID}/social_insurance_number`,
};

export function identifierKind(value: string): IdentifierKind | undefined {
  if (/^[0-9]{12}$/.test(value)) return 'cccd';
  if (/^[0-9]{10}$/.test(value)) return 'bhxh';
  if (CARD.test(value)) return 'bhyt';
  return undefined;
}

const BIRTHDATE = /^([0-9]{4})(?:-(0[1-9]|1[0-2])(?:-(0[1-9]|[12][0-9]|3[01]))?)?$/;

/** Checks the operation's inputs; a malformed one is a 400 naming what is expected. */
export function parseLookupQuery(identifier: string, name: string, birthdate: string, history = false): LookupQuery {
  const id = identifier.trim().toUpperCase();
  const kind = identifierKind(id);
  if (!kind) throw badRequest(`identifier must be ${SHAPES}`, 'identifier');
  const n = name.normalize('NFC').trim().replace(/\s+/g, ' ');
  if (!n || n.length > 100) throw badRequest('name must be the full name as printed on the card (1–100 characters)', 'name');
  const b = BIRTHDATE.exec(birthdate.trim());
  if (!b || (b[3] && claimDate(`${b[1]}${b[2]}${b[3]}`) === undefined)) throw badRequest('birthdate must be YYYY-MM-DD, YYYY-MM or YYYY', 'birthdate');
  return { identifier: id, kind, name: n, birthdate: b[0], history };
}

/** FHIR date → the portal's `ngaySinh`: dd/MM/yyyy, MM/yyyy or yyyy (partial birth dates). */
export function portalBirthDate(date: string): string {
  const [y, m, d] = date.split('-');
  return [d, m, y].filter(Boolean).join('/');
}

/** The portal's dd/MM/yyyy (or MM/yyyy, yyyy) → FHIR date; undefined when it is not one. */
export function fhirDate(value: string | undefined): string | undefined {
  const m = /^(?:(?:([0-9]{2})\/)?([0-9]{2})\/)?([0-9]{4})$/.exec((value ?? '').trim());
  return m ? claimDate(`${m[3]}${m[2] ?? '00'}${m[1] ?? '00'}`) : undefined;
}

export type LookupOutcome = 'in-force' | 'in-force-check-papers' | 'not-in-force' | 'gateway-configuration' | 'upstream-failure';

const RESULT = `${CS}/vn-vss-card-lookup-result`;

/** maKetQua → what the gateway answers (ConceptMap in profiles/); an unknown code is a portal failure. */
export function outcomeOf(maKetQua: string): LookupOutcome {
  return (translate(`${CM}/vn-vss-card-lookup-result-to-outcome`, maKetQua)?.code as LookupOutcome | undefined) ?? 'upstream-failure';
}

export const inForce = (o: LookupOutcome) => o === 'in-force' || o === 'in-force-check-papers';

const VSS_ORG = deterministicId('', 'Organization', 'VSS'); // the payor the claim mapper writes
const facilityRef = (maCSKCB: string, display?: string): Reference => ({
  reference: `Organization/${deterministicId('', 'Organization', maCSKCB)}`,
  identifier: { system: `${SID}/provider-code`, value: maCSKCB },
  ...(display ? { display } : {}),
});

/** The resources a lookup keeps: the person, the issuing branch, one Coverage per card. */
export interface CardResources {
  patient?: Patient;
  payor?: Organization;
  coverages: Coverage[];
}

function coverage(code: string, from: string | undefined, to: string | undefined, dkbd: { code?: string; name?: string }, status: Coverage['status'], patient: Reference, payor: Reference, card: VssCard): Coverage {
  const m = CARD.exec(code);
  const extension: Extension[] = [];
  // maDKBD (registered primary-care facility); "<province>000" marks a temporary card, not a facility
  if (dkbd.code && !/000$/.test(dkbd.code)) extension.push({ url: `${SD}/vn-registered-facility`, valueReference: facilityRef(dkbd.code, dkbd.name) });
  if (m) extension.push({ url: `${SD}/vn-issuing-province`, valueCoding: { system: `${CS}/vn-admin-unit`, code: m[3]! } });
  const fiveYears = fhirDate(card.ngayDu5Nam);
  if (fiveYears) extension.push({ url: `${SD}/vn-five-years-continuous`, valueDate: fiveYears });
  if (card.maKV && lookup(`${CS}/vn-claim-ma-khuvuc`, card.maKV)) extension.push({ url: `${SD}/vn-living-area`, valueCoding: coding(`${CS}/vn-claim-ma-khuvuc`, card.maKV) });
  const level = m ? lookup(`${CS}/vn-bhyt-benefit-level`, m[2]!) : undefined;
  const percent = level?.properties.percentage?.[0] as number | undefined;
  return compact({
    resourceType: 'Coverage' as const,
    id: deterministicId('vss', 'Coverage', code),
    meta: { profile: [`${SD}/vn-coverage`] },
    extension,
    identifier: [{ system: `${SID}/insurance_number`, value: code }],
    status,
    type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'PUBLICPOL', display: 'public healthcare' }] },
    subscriberId: code,
    beneficiary: patient,
    period: compact({ start: fhirDate(from), end: fhirDate(to) }),
    payor: [payor],
    class: m
      ? [
          { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/coverage-class', code: 'plan' }] }, value: m[2]!, ...(level?.display ? { name: level.display } : {}) },
          { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/coverage-class', code: 'group' }] }, value: m[1]! },
        ]
      : [],
    // The co-payment is what the benefit level leaves to the patient (95 % → 5 %).
    costToBeneficiary: percent !== undefined
      ? [{ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/coverage-copay-type', code: 'copaypct' }] }, valueQuantity: { value: 100 - percent, unit: '%', system: 'http://unitsofmeasure.org', code: '%' } }]
      : [],
  });
}

/** The portal's answer → the Patient, the issuing branch and the card(s) as Coverage. */
export function cardResources(q: LookupQuery, card: VssCard, status: Coverage['status']): CardResources {
  const code = card.maThe && CARD.test(card.maThe) ? card.maThe : q.kind === 'bhyt' ? q.identifier : undefined;
  const bhxh = card.maSoBHXH ?? (code ? CARD.exec(code)![4] : q.kind === 'bhxh' ? q.identifier : undefined);
  if (!code || !bhxh) return { coverages: [] };
  const identifier: Identifier[] = [];
  if (q.kind === 'cccd') identifier.push({ use: 'official', system: IDENTIFIER_SYSTEM.cccd, value: q.identifier });
  for (const c of [code, card.maTheMoi].filter((x): x is string => !!x && CARD.test(x))) identifier.push({ system: IDENTIFIER_SYSTEM.bhyt, value: c });
  identifier.push({ system: IDENTIFIER_SYSTEM.bhxh, value: bhxh });
  // gioiTinh is the text Nam / Nữ, not the claim's 1 / 2
  const gioiTinh = card.gioiTinh ? codeByDisplay(`${CS}/vn-claim-gioi-tinh`, card.gioiTinh) : undefined;
  const gender = gioiTinh ? (translated('vn-gioi-tinh-to-administrative-gender', 'vn-claim-gioi-tinh', gioiTinh).target?.code as Patient['gender']) : undefined;
  const patient: Patient = compact({
    resourceType: 'Patient' as const,
    id: deterministicId('vss', 'Patient', bhxh),
    identifier,
    name: vietnameseName(card.hoTen ?? q.name),
    gender,
    birthDate: fhirDate(card.ngaySinh) ?? q.birthdate,
    address: card.diaChi ? [{ use: 'home' as const, text: card.diaChi, country: 'VN' }] : [],
  });
  const patientRef = { reference: `Patient/${patient.id}` };
  const payor: Organization | undefined = card.cqBHXH
    ? { resourceType: 'Organization', id: deterministicId('', 'Organization', 'VSS', card.cqBHXH), active: true, name: card.cqBHXH, partOf: { reference: `Organization/${VSS_ORG}`, display: 'Bảo hiểm xã hội Việt Nam' } }
    : undefined;
  const payorRef = payor ? { reference: `Organization/${payor.id}`, display: payor.name! } : { reference: `Organization/${VSS_ORG}`, display: 'Bảo hiểm xã hội Việt Nam' };
  const coverages = [coverage(code, card.gtTheTu, card.gtTheDen, { code: card.maDKBD }, status, patientRef, payorRef, card)];
  if (card.maTheMoi && CARD.test(card.maTheMoi) && card.maTheMoi !== code) {
    coverages.push(coverage(card.maTheMoi, card.gtTheTuMoi, card.gtTheDenMoi, { code: card.maDKBDMoi, name: card.tenDKBDMoi }, 'active', patientRef, payorRef, {} as VssCard));
  }
  return { patient, ...(payor ? { payor } : {}), coverages };
}

/** Lskcb2025 visits → Encounters (facility, dates, diagnosis text, outcome); not stored, the answer only. */
export function visitEncounters(visits: VssVisit[], patient: Reference | undefined): Encounter[] {
  return visits.map((v) => {
    const extension: Extension[] = [];
    if (v.kqDieuTri && lookup(`${CS}/vn-claim-ket-qua-dtri`, v.kqDieuTri)) extension.push({ url: `${SD}/vn-treatment-outcome`, valueCodeableConcept: vnConcept('vn-claim-ket-qua-dtri', v.kqDieuTri) });
    if (v.lyDoVV) extension.push({ url: `${SD}/vn-visit-entitlement`, valueCoding: vnConcept('vn-claim-ma-doituong-kcb', v.lyDoVV).coding![0]! });
    const rv = v.tinhTrang && lookup(`${CS}/vn-claim-ma-loai-rv`, v.tinhTrang) ? translated('vn-ma-loai-rv-to-discharge-disposition', 'vn-claim-ma-loai-rv', v.tinhTrang).concept : undefined;
    return compact({
      resourceType: 'Encounter' as const,
      extension,
      identifier: v.maHoSo ? [{ system: `${SID}/claim-episode`, value: v.maHoSo }] : [],
      status: 'finished' as const,
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-NullFlavor', code: 'UNK', display: 'unknown' },
      subject: patient,
      period: compact({ start: claimDateTime(v.ngayVao ?? ''), end: claimDateTime(v.ngayRa ?? '') }),
      reasonCode: v.tenBenh ? [{ text: v.tenBenh }] : [],
      hospitalization: rv ? { dischargeDisposition: rv } : undefined,
      serviceProvider: v.maCSKCB ? facilityRef(v.maCSKCB) : undefined,
    });
  });
}

/** The eligibility verdict: outcome, the portal's sentence, in force or not, the maKetQua as error. */
export function eligibilityResponse(q: LookupQuery, card: VssCard, res: CardResources, created: string): CoverageEligibilityResponse {
  const o = outcomeOf(card.maKetQua);
  const cov = res.coverages[0];
  const subject = res.patient ? { reference: `Patient/${res.patient.id}` } : { identifier: { system: IDENTIFIER_SYSTEM[q.kind], value: q.identifier } };
  const code = { coding: [coding(RESULT, card.maKetQua)], ...(card.ghiChu ? { text: card.ghiChu } : {}) };
  return compact({
    resourceType: 'CoverageEligibilityResponse' as const,
    status: 'active' as const,
    purpose: ['validation' as const],
    patient: subject,
    created,
    request: { display: 'Coverage/$lookup' },
    outcome: inForce(o) ? ('complete' as const) : ('error' as const),
    disposition: card.ghiChu,
    insurer: cov?.payor?.[0] ?? { display: 'Bảo hiểm xã hội Việt Nam' },
    insurance: [{ coverage: cov ? { reference: `Coverage/${cov.id}` } : { identifier: { system: IDENTIFIER_SYSTEM[q.kind], value: q.identifier } }, inforce: inForce(o) }],
    // Any code but 000 travels with the answer, so a reception desk sees 001/004 as well as 010.
    error: card.maKetQua !== '000' ? [{ code }] : [],
  });
}

/** The operation's answer: the verdict first, then the cards, the person, the visits, and any notes. */
export function lookupBundle(parts: { eligibility: CoverageEligibilityResponse; resources: CardResources; encounters?: Encounter[]; notes: Issue[]; source: 'portal' | 'cache' | 'local' }): Bundle {
  const { eligibility, resources, encounters = [], notes, source } = parts;
  const all: Resource[] = [eligibility, ...resources.coverages, ...(resources.patient ? [resources.patient] : []), ...(resources.payor ? [resources.payor] : []), ...encounters];
  if (notes.length) all.push(toOperationOutcome(notes));
  return {
    resourceType: 'Bundle',
    meta: { tag: [{ system: 'urn:fhir-gateway:lookup-source', code: source }] },
    type: 'collection',
    timestamp: eligibility.created,
    entry: all.map((resource) => ({ resource })),
  };
}

/**
 * Without a portal: the cards the gateway already holds (from claims or earlier lookups). A card
 * is taken as in force when today falls in its period; the answer says it is local.
 */
export function localEligibility(q: LookupQuery, coverages: Coverage[], patient: Patient | undefined, today: string, created: string): CoverageEligibilityResponse {
  const current = coverages.find((c) => c.status === 'active' && (!c.period?.start || c.period.start <= today) && (!c.period?.end || today <= c.period.end.slice(0, 10)));
  const cov = current ?? coverages[0];
  return compact({
    resourceType: 'CoverageEligibilityResponse' as const,
    status: 'active' as const,
    purpose: ['validation' as const],
    patient: patient ? { reference: `Patient/${patient.id}` } : cov?.beneficiary ?? { identifier: { system: IDENTIFIER_SYSTEM[q.kind], value: q.identifier } },
    created,
    request: { display: 'Coverage/$lookup' },
    outcome: current ? ('complete' as const) : ('error' as const),
    disposition: current
      ? `Local answer: card ${current.subscriberId ?? ''} is valid ${current.period?.start ?? ''} – ${current.period?.end ?? ''} in the records this gateway holds; the portal was not asked.`
      : cov ? 'Local answer: no card in the records this gateway holds is valid today; the portal was not asked.' : 'Local answer: this gateway holds no card for this person; the portal was not asked.',
    insurer: cov?.payor?.[0] ?? { display: 'Bảo hiểm xã hội Việt Nam' },
    insurance: [{ coverage: cov ? { reference: `Coverage/${cov.id}` } : { identifier: { system: IDENTIFIER_SYSTEM[q.kind], value: q.identifier } }, inforce: !!current }],
  });
}
