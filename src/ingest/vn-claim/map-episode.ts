import type { Condition, Coverage, Encounter, EncounterDiagnosis, Extension, Identifier, Location, Patient, Reference } from 'fhir/r4';
import { lookup } from '../../fhir/conceptmap';
import { vietnameseName } from '../../fhir/text';
import { deterministicId } from '../ids';
import { CS, MapContext, SD, SID, compact, decimal, multi, present, translated, vnConcept } from './context';
import { claimDate, claimDateTime } from './dates';
import type { Row } from './parse';

/** Card code: group (2 letters), benefit level (1–5), province (2 digits), BHXH number (10 digits). */
export const CARD = /^([A-Z]{2})([1-5])([0-9]{2})([0-9]{10})$/;

/** SO_CCCD holds whichever ID paper the patient has; its shape says which (QĐ 4750 validation sheet). */
function idPaperSystem(value: string): string {
  if (/^[0-9]{12}$/.test(value)) return `${SID}/national_id`;
  if (/^[0-9]{9}$/.test(value)) return `${SID}/cmnd`;
  if (/^[A-Z][0-9]{7}$/.test(value)) return `${SID}/passport`;
  return `${SID}/vneid`;
}

export interface Card { code: string; start?: string; end?: string; dkbd?: string }

/** MA_THE_BHYT, MA_DKBD, GT_THE_TU, GT_THE_DEN are parallel `;` lists: one entry per card. */
export function cards(x1: Row): Card[] {
  const dkbd = multi(x1.MA_DKBD);
  const from = multi(x1.GT_THE_TU);
  const to = multi(x1.GT_THE_DEN);
  return multi(x1.MA_THE_BHYT).map((code, i) => ({ code, start: from[i], end: to[i], dkbd: dkbd[i] ?? dkbd[0] }));
}

/** XML1 TONG_HOP (episode summary) → Patient. */
export function mapPatient(ctx: MapContext, x1: Row, facilityRef: Reference): Reference {
  // MA_BN (patient id in the facility) keys the Patient, so every episode of that patient updates one resource.
  const patientKey = x1.MA_BN || `MA_LK:${ctx.maLK}`;
  const identifier: Identifier[] = [];
  // SO_CCCD (citizen id / CMND / passport / VNeID)
  if (x1.SO_CCCD) identifier.push({ use: 'official', system: idPaperSystem(x1.SO_CCCD), value: x1.SO_CCCD });
  // MA_THE_BHYT (insurance card code(s)); the last 10 characters are the permanent BHXH number
  const bhxh = new Set<string>();
  for (const c of cards(x1)) {
    identifier.push(compact({ system: `${SID}/insurance_number`, value: c.code, period: compact({ start: claimDate(c.start ?? ''), end: claimDate(c.end ?? '') }) }));
    const m = CARD.exec(c.code);
    if (m) bhxh.add(m[4]!);
  }
  for (const n of bhxh) identifier.push({ system: `${SID}/social_insurance_number`, value: n });
  // MA_BN (facility patient id), assigned by the treating facility
  if (x1.MA_BN) identifier.push({ use: 'usual', system: `${SID}/patient-internal-id`, value: x1.MA_BN, assigner: facilityRef });

  const extension: Extension[] = [];
  // MA_DANTOC (ethnic group, GSO list)
  if (x1.MA_DANTOC) extension.push({ url: `${SD}/vn-ethnic-group`, valueCoding: vnConcept('vn-core-race', x1.MA_DANTOC).coding![0]! });
  // MA_QUOCTICH (nationality, TT 07/2016/TT-BCA)
  if (x1.MA_QUOCTICH) extension.push({ url: 'http://hl7.org/fhir/StructureDefinition/patient-nationality', extension: [{ url: 'code', valueCodeableConcept: vnConcept('vn-nationality', x1.MA_QUOCTICH) }] });

  // GIOI_TINH (sex) → AdministrativeGender
  const gender = translated('vn-gioi-tinh-to-administrative-gender', 'vn-claim-gioi-tinh', x1.GIOI_TINH ?? '').target?.code as Patient['gender'];
  // DIA_CHI (address text) with MATINH/MAHUYEN/MAXA_CU_TRU (province/district/commune codes)
  const units = (['province', 'district', 'commune'] as const)
    .map((url, i) => [url, [x1.MATINH_CU_TRU, x1.MAHUYEN_CU_TRU, x1.MAXA_CU_TRU][i]] as const)
    .filter(([, v]) => present(v))
    .map(([url, v]) => ({ url, valueCoding: { system: `${CS}/vn-admin-unit`, code: v } }));
  const address = present(x1.DIA_CHI) || units.length
    ? [compact({ use: 'home' as const, text: x1.DIA_CHI, country: 'VN', extension: units.length ? [{ url: `${SD}/vn-admin-unit`, extension: units }] : [] })]
    : [];

  const patient: Patient = compact({
    resourceType: 'Patient' as const,
    id: deterministicId(ctx.facility, 'Patient', patientKey),
    extension,
    identifier,
    active: true,
    name: vietnameseName(x1.HO_TEN ?? ''), // HO_TEN (full name), family name first
    // DIEN_THOAI (contact phone)
    telecom: x1.DIEN_THOAI ? [{ system: 'phone' as const, value: x1.DIEN_THOAI }] : [],
    gender,
    // NGAY_SINH (birth date-time, unknown parts 00)
    birthDate: claimDate(x1.NGAY_SINH ?? ''),
    address,
    managingOrganization: facilityRef,
  });
  return ctx.add(patient, 'vn-patient');
}

/** MA_THE_BHYT … (one insurance card each) → Coverage. */
export function mapCoverages(ctx: MapContext, x1: Row, patient: Reference): { card: Card; ref: Reference }[] {
  const payor = ctx.add({ resourceType: 'Organization', id: deterministicId('', 'Organization', 'VSS'), active: true, name: 'Bảo hiểm xã hội Việt Nam' }, 'vn-organization');
  return cards(x1).map((card) => {
    const m = CARD.exec(card.code);
    const extension: Extension[] = [];
    // MA_DKBD (registered primary-care facility); "<province>000" marks a temporary card, not a facility
    if (card.dkbd && !/000$/.test(card.dkbd)) extension.push({ url: `${SD}/vn-registered-facility`, valueReference: ctx.organization(card.dkbd) });
    if (m) extension.push({ url: `${SD}/vn-issuing-province`, valueCoding: { system: `${CS}/vn-admin-unit`, code: m[3] } });
    const coverage: Coverage = compact({
      resourceType: 'Coverage' as const,
      id: deterministicId(ctx.facility, 'Coverage', card.code, card.start ?? ''),
      extension,
      identifier: [{ system: `${SID}/insurance_number`, value: card.code }],
      status: 'active' as const,
      type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'PUBLICPOL', display: 'public healthcare' }] },
      subscriberId: card.code,
      beneficiary: patient,
      // GT_THE_TU / GT_THE_DEN (card valid from / to)
      period: compact({ start: claimDate(card.start ?? ''), end: claimDate(card.end ?? '') }),
      payor: [payor],
      class: m
        ? [
            { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/coverage-class', code: 'plan' }] }, value: m[2]!, name: vnConcept('vn-bhyt-benefit-level', m[2]!).coding![0]!.display },
            { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/coverage-class', code: 'group' }] }, value: m[1]! },
          ].map((c) => compact(c))
        : [],
    });
    return { card, ref: ctx.add(coverage, 'vn-coverage') };
  });
}

/** ICD-10 codes arrive with or without the dot (E119 / E11.9), sometimes with a dagger/asterisk mark; the code system uses the bare dotted code. */
export function icdCode(raw: string): string {
  const code = raw.replace(/[†*]/g, '');
  if (lookup(`${CS}/vn-icd10`, code)) return code;
  const dotted = /^([A-Z][0-9]{2})([0-9A-Z]+)$/.exec(code);
  return dotted && lookup(`${CS}/vn-icd10`, `${dotted[1]}.${dotted[2]}`) ? `${dotted[1]}.${dotted[2]}` : code;
}

/** MA_BENH_CHINH (principal) and MA_BENH_KT (secondary) → Conditions, in Encounter.diagnosis order. */
export function mapConditions(ctx: MapContext, x1: Row, patient: Reference, encounter: Reference): EncounterDiagnosis[] {
  const principal = x1.MA_BENH_CHINH ? [x1.MA_BENH_CHINH] : [];
  const secondary = [...new Set(multi(x1.MA_BENH_KT))].filter((c) => !principal.includes(c));
  const all = [...principal.map((c) => ({ code: c, principal: true })), ...secondary.map((c) => ({ code: c, principal: false }))];
  // KET_QUA_DTRI (treatment outcome) says what became of the principal condition
  const status = translated('vn-ket-qua-dtri-to-condition-clinical', 'vn-claim-ket-qua-dtri', x1.KET_QUA_DTRI ?? '').target;
  return all.map(({ code, principal: isPrincipal }, i) => {
    const icd = icdCode(code);
    const condition: Condition = compact({
      resourceType: 'Condition' as const,
      id: ctx.id('Condition', isPrincipal ? 'principal' : 'secondary', icd),
      clinicalStatus: isPrincipal && status ? { coding: [status] } : undefined,
      verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'encounter-diagnosis' }] }],
      code: vnConcept('vn-icd10', icd, isPrincipal ? x1.CHAN_DOAN_RV : undefined),
      subject: patient,
      encounter,
      recordedDate: claimDateTime(x1.NGAY_RA ?? ''),
    });
    return {
      condition: ctx.add(condition),
      use: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/diagnosis-role', code: isPrincipal ? 'DD' : 'CM' }] },
      rank: i + 1,
    };
  });
}

/** XML1 TONG_HOP (or XML0 check-in: `arrived`) → Encounter for the episode (MA_LK), with an inpatient part when NGAY_VAO_NOI_TRU is set. */
export function mapEncounter(ctx: MapContext, x1: Row, patient: Reference, facilityRef: Reference, openStatus: Encounter['status'] = 'in-progress'): Reference {
  const id = ctx.id('Encounter');
  const ref: Reference = { reference: `Encounter/${id}` };
  // MA_LOAI_KCB (visit type) → v3 ActCode class; the VN code is kept as the type
  const kcb = translated('vn-ma-loai-kcb-to-encounter-class', 'vn-claim-ma-loai-kcb', x1.MA_LOAI_KCB ?? '');
  // MA_LOAI_RV (discharge type) → discharge disposition
  const rv = x1.MA_LOAI_RV ? translated('vn-ma-loai-rv-to-discharge-disposition', 'vn-claim-ma-loai-rv', x1.MA_LOAI_RV).concept : undefined;
  // MA_KHOA (departments, in order of stay) → Locations of the facility
  const locations = multi(x1.MA_KHOA).map((khoa) => {
    const location: Location = {
      resourceType: 'Location', id: deterministicId(ctx.facility, 'Location', khoa), status: 'active', name: khoa,
      type: [vnConcept('vn-dmdc-khoa', khoa)], managingOrganization: facilityRef,
    };
    return { location: ctx.add(location), status: 'completed' as const };
  });
  const extension: Extension[] = [];
  // KET_QUA_DTRI (treatment outcome)
  if (x1.KET_QUA_DTRI) extension.push({ url: `${SD}/vn-treatment-outcome`, valueCodeableConcept: vnConcept('vn-claim-ket-qua-dtri', x1.KET_QUA_DTRI) });
  // MA_DOITUONG_KCB (visit entitlement)
  if (x1.MA_DOITUONG_KCB) extension.push({ url: `${SD}/vn-visit-entitlement`, valueCoding: vnConcept('vn-claim-ma-doituong-kcb', x1.MA_DOITUONG_KCB).coding![0]! });
  const days = decimal(x1.SO_NGAY_DTRI);
  const diagnosis = mapConditions(ctx, x1, patient, ref);
  const encounter: Encounter = compact({
    resourceType: 'Encounter' as const,
    id,
    extension,
    // MA_LK (episode key), MA_HSBA (medical-record number)
    identifier: [
      { system: `${SID}/claim-episode`, value: ctx.maLK, assigner: facilityRef },
      ...(x1.MA_HSBA ? [{ type: { text: 'MA_HSBA' }, value: x1.MA_HSBA, assigner: facilityRef }] : []),
    ],
    status: x1.NGAY_RA ? ('finished' as const) : openStatus,
    class: kcb.target ?? kcb.concept.coding![0]!,
    type: x1.MA_LOAI_KCB ? [vnConcept('vn-claim-ma-loai-kcb', x1.MA_LOAI_KCB)] : [],
    subject: patient,
    // NGAY_VAO / NGAY_RA (arrival / end of treatment)
    period: compact({ start: claimDateTime(x1.NGAY_VAO ?? ''), end: claimDateTime(x1.NGAY_RA ?? '') }),
    // SO_NGAY_DTRI (treatment days)
    length: days !== undefined ? { value: days, unit: 'd', system: 'http://unitsofmeasure.org', code: 'd' } : undefined,
    // LY_DO_VV (reason for visit)
    reasonCode: x1.LY_DO_VV ? [{ text: x1.LY_DO_VV }] : [],
    diagnosis,
    // MA_NOI_DI / MA_NOI_DEN (referred from / to), GIAY_CHUYEN_TUYEN (referral letter received)
    hospitalization: compact({
      preAdmissionIdentifier: x1.GIAY_CHUYEN_TUYEN && x1.MA_NOI_DI ? { system: `${SID}/referral-letter`, value: x1.GIAY_CHUYEN_TUYEN, assigner: ctx.organization(x1.MA_NOI_DI) } : undefined,
      origin: x1.MA_NOI_DI ? ctx.organization(x1.MA_NOI_DI) : undefined,
      destination: x1.MA_NOI_DEN ? ctx.organization(x1.MA_NOI_DEN) : undefined,
      dischargeDisposition: rv,
    }),
    location: locations,
    serviceProvider: facilityRef,
  });
  if (!kcb.target && x1.MA_LOAI_KCB) ctx.issues.push({ severity: 'warning', code: 'code-invalid', diagnostics: `MA_LOAI_KCB "${x1.MA_LOAI_KCB}" has no encounter class mapping`, expression: 'XML1[0].MA_LOAI_KCB' });
  if (encounter.hospitalization && Object.keys(encounter.hospitalization).length === 0) delete encounter.hospitalization;
  ctx.add(encounter, 'vn-encounter');
  // NGAY_VAO_NOI_TRU (inpatient admission ordered), LY_DO_VNT (reason): the inpatient part of the episode
  const admitted = claimDateTime(x1.NGAY_VAO_NOI_TRU ?? '');
  if (admitted) {
    ctx.add(compact({
      resourceType: 'Encounter' as const, id: ctx.id('Encounter', 'inpatient'), status: encounter.status,
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP', display: 'inpatient encounter' },
      subject: patient, period: compact({ start: admitted, end: encounter.period?.end }),
      reasonCode: x1.LY_DO_VNT ? [{ text: x1.LY_DO_VNT }] : [], partOf: ref, serviceProvider: facilityRef,
    }));
  }
  return ref;
}
