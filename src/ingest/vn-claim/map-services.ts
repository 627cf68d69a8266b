import type { ClaimItem, DiagnosticReport, Extension, Medication, MedicationDispense, MedicationRequest, Observation, Procedure, Reference, ServiceRequest, SupplyDelivery } from 'fhir/r4';
import { deterministicId } from '../ids';
import { CM, MapContext, SD, compact, decimal, multi, practitioner, quantity, textAttachment, vnConcept, vnd } from './context';
import { claimDate, claimDateTime, claimInstant } from './dates';
import { icdCode } from './map-episode';
import type { Row } from './parse';
import { translate } from '../../fhir/conceptmap';

export interface EpisodeRefs { patient: Reference; encounter: Reference; facility: Reference }

/** The insurance share of a row or a total, kept beside the hospital price (QĐ 4750 Bảng 1–3 money fields). */
export function moneyExtensions(row: Row, fields: { insured: string; payable: string; copay: string; 'self-pay': string }): Extension[] {
  return (Object.entries(fields) as [keyof typeof fields, string][])
    .map(([kind, field]) => ({ kind, money: vnd(row[field]) }))
    .filter((m) => m.money !== undefined)
    .map((m) => ({ url: `${SD}/vn-claim-amount-${m.kind}`, valueMoney: m.money! }));
}

const ROW_MONEY = { insured: 'THANH_TIEN_BH', payable: 'T_BHTT', copay: 'T_BNCCT', 'self-pay': 'T_BNTT' };

/** XML2 CHI_TIET_THUOC (drug rows) → Medication, MedicationRequest, MedicationDispense, and a claim item. */
export function mapDrugs(ctx: MapContext, rows: Row[], refs: EpisodeRefs, items: ClaimItem[]): void {
  rows.forEach((r, i) => {
    // MA_THUOC (active-ingredient code), TEN_THUOC (name), HAM_LUONG (strength), DANG_BAO_CHE (dosage form)
    const medication: Medication = compact({
      resourceType: 'Medication' as const,
      id: deterministicId(ctx.facility, 'Medication', r.MA_THUOC ?? '', r.TEN_THUOC ?? '', r.HAM_LUONG ?? ''),
      code: vnConcept('vn-dmdc-thuoc', r.MA_THUOC ?? '', [r.TEN_THUOC, r.HAM_LUONG].filter(Boolean).join(' ')),
      form: r.DANG_BAO_CHE ? { text: r.DANG_BAO_CHE } : undefined,
    });
    const med = ctx.add(medication);
    const key = r.STT || String(i + 1);
    // SO_LUONG (quantity) in DON_VI_TINH (unit); LIEU_DUNG / CACH_DUNG (dose / instructions); DUONG_DUNG (route)
    const qty = quantity(r.SO_LUONG, r.DON_VI_TINH);
    const request: MedicationRequest = compact({
      resourceType: 'MedicationRequest' as const,
      id: ctx.id('MedicationRequest', 'XML2', key),
      status: 'completed' as const,
      intent: 'order' as const,
      medicationReference: med,
      subject: refs.patient,
      encounter: refs.encounter,
      authoredOn: claimDateTime(r.NGAY_YL ?? ''),
      requester: multi(r.MA_BAC_SI).map(practitioner)[0],
      reasonCode: multi(r.MA_BENH).map((c) => vnConcept('vn-icd10', icdCode(c))),
      dosageInstruction: [compact({ text: r.LIEU_DUNG, patientInstruction: r.CACH_DUNG, route: r.DUONG_DUNG ? vnConcept('vn-dmdc-duong-dung', r.DUONG_DUNG) : undefined })].filter((d) => Object.keys(d).length),
      dispenseRequest: qty ? { quantity: qty } : undefined,
    });
    const requestRef = ctx.add(request);
    ctx.add(compact({
      resourceType: 'MedicationDispense' as const,
      id: ctx.id('MedicationDispense', 'XML2', key),
      status: 'completed' as const,
      medicationReference: med,
      subject: refs.patient,
      context: refs.encounter,
      authorizingPrescription: [requestRef],
      quantity: qty,
      // NGAY_TH_YL (order carried out)
      whenHandedOver: claimDateTime(r.NGAY_TH_YL ?? ''),
    }) as MedicationDispense);
    items.push(claimItem(items.length + 1, r, vnConcept('vn-dmdc-thuoc', r.MA_THUOC ?? '', r.TEN_THUOC), r.DON_GIA, refs));
  });
}

function claimItem(sequence: number, r: Row, product: ReturnType<typeof vnConcept>, unitPrice: string | undefined, refs: EpisodeRefs): ClaimItem {
  // MA_NHOM (cost group), SO_LUONG × DON_GIA × TYLE_TT_DV = THANH_TIEN_BV; the insured share in extensions
  const factor = decimal(r.TYLE_TT_DV);
  return compact({
    extension: moneyExtensions(r, ROW_MONEY),
    sequence,
    category: r.MA_NHOM ? vnConcept('vn-claim-ma-nhom', r.MA_NHOM) : undefined,
    productOrService: product,
    servicedDate: claimDate(r.NGAY_YL ?? ''),
    quantity: quantity(r.SO_LUONG),
    unitPrice: vnd(unitPrice),
    factor: factor !== undefined && factor !== 100 ? factor / 100 : undefined,
    net: vnd(r.THANH_TIEN_BV),
    encounter: [refs.encounter],
  });
}

/** XML3 CHI_TIET_DVKT (services, supplies, beds) → ServiceRequest / Procedure where the cost group is clinical, SupplyDelivery for supplies, and a claim item for every row. */
export function mapServices(ctx: MapContext, rows: Row[], refs: EpisodeRefs, items: ClaimItem[]): Map<string, Reference> {
  const orders = new Map<string, Reference>(); // MA_DICH_VU → ServiceRequest, for XML4 results
  rows.forEach((r, i) => {
    const key = r.STT || String(i + 1);
    const isSupply = !r.MA_DICH_VU && !!r.MA_VAT_TU;
    // MA_DICH_VU (service code) / MA_VAT_TU (supply code), TEN_DICH_VU / TEN_VAT_TU (names)
    const product = isSupply ? vnConcept('vn-dmdc-vat-tu', r.MA_VAT_TU!, r.TEN_VAT_TU) : vnConcept('vn-dmdc-dich-vu', r.MA_DICH_VU ?? '', r.TEN_DICH_VU);
    items.push(claimItem(items.length + 1, r, product, r.DON_GIA_BV, refs));
    if (isSupply) {
      // MA_VAT_TU (supply) used on the patient: SO_LUONG in DON_VI_TINH, on NGAY_YL; MA_HIEU_SP (model/serial)
      ctx.add(compact({
        resourceType: 'SupplyDelivery' as const,
        id: ctx.id('SupplyDelivery', 'XML3', key),
        status: 'completed' as const,
        patient: refs.patient,
        suppliedItem: compact({ quantity: quantity(r.SO_LUONG, r.DON_VI_TINH), itemCodeableConcept: product }),
        occurrenceDateTime: claimDateTime(r.NGAY_TH_YL || r.NGAY_YL || ''),
        supplier: refs.facility,
      }) as SupplyDelivery);
      return;
    }
    const category = translate(`${CM}/vn-ma-nhom-to-service-category`, r.MA_NHOM ?? '');
    if (!category) return;
    // NGAY_YL (ordered), NGAY_TH_YL (carried out), NGAY_KQ (result); MA_BAC_SI (orderer), NGUOI_THUC_HIEN (performers)
    const done = !!(r.NGAY_TH_YL || r.NGAY_KQ);
    const request = ctx.add(compact({
      resourceType: 'ServiceRequest' as const,
      id: ctx.id('ServiceRequest', 'XML3', key),
      status: done ? ('completed' as const) : ('active' as const),
      intent: 'order' as const,
      category: [{ coding: [category] }],
      code: product,
      subject: refs.patient,
      encounter: refs.encounter,
      authoredOn: claimDateTime(r.NGAY_YL ?? ''),
      requester: multi(r.MA_BAC_SI).map(practitioner)[0],
      performer: multi(r.NGUOI_THUC_HIEN).map(practitioner),
      reasonCode: multi(r.MA_BENH).map((c) => vnConcept('vn-icd10', icdCode(c))),
    }) as ServiceRequest);
    if (r.MA_DICH_VU && !orders.has(r.MA_DICH_VU)) orders.set(r.MA_DICH_VU, request);
    const procedureCategory = translate(`${CM}/vn-ma-nhom-to-procedure`, r.MA_NHOM ?? '');
    if (!procedureCategory) return;
    // MA_PTTT_QT (ICD-9-CM procedure codes) join the service code
    const code = { ...product, coding: [...product.coding!, ...multi(r.MA_PTTT_QT).map((c) => vnConcept('vn-icd9cm', c).coding![0]!)] };
    ctx.add(compact({
      resourceType: 'Procedure' as const,
      id: ctx.id('Procedure', 'XML3', key),
      basedOn: [request],
      status: done ? ('completed' as const) : ('in-progress' as const),
      category: { coding: [procedureCategory] },
      code,
      subject: refs.patient,
      encounter: refs.encounter,
      performedDateTime: claimDateTime(r.NGAY_TH_YL || r.NGAY_YL || ''),
      performer: multi(r.NGUOI_THUC_HIEN).map((p) => ({ actor: practitioner(p) })),
      // PP_VO_CAM (anaesthesia) as a note: R4 Procedure has no anaesthesia element
      note: r.PP_VO_CAM ? [{ text: `PP_VO_CAM ${r.PP_VO_CAM}: ${vnConcept('vn-claim-pp-vo-cam', r.PP_VO_CAM).coding![0]!.display ?? ''}` }] : [],
    }) as Procedure);
  });
  return orders;
}

/** XML4 CHI_TIET_CLS (result values and report text) → Observations, grouped per service (MA_DICH_VU) into DiagnosticReports. */
export function mapResults(ctx: MapContext, rows: Row[], refs: EpisodeRefs, xml3: Row[], orders: Map<string, Reference>): void {
  const groups = new Map<string, { row: Row; index: number }[]>();
  rows.forEach((row, index) => {
    const g = groups.get(row.MA_DICH_VU ?? '') ?? [];
    g.push({ row, index });
    groups.set(row.MA_DICH_VU ?? '', g);
  });
  for (const [service, members] of groups) {
    const ordered = xml3.find((r) => r.MA_DICH_VU === service && service);
    const section = translate(`${CM}/vn-ma-nhom-to-diagnostic-service-section`, ordered?.MA_NHOM ?? '');
    const obsCategory = section?.code === 'LAB' ? 'laboratory' : section?.code === 'RAD' ? 'imaging' : 'procedure';
    const results = members.map(({ row: r, index }) => {
      // MA_CHI_SO / TEN_CHI_SO (parameter), GIA_TRI + DON_VI_DO (value, unit), MO_TA (findings), KET_LUAN (conclusion), NGAY_KQ, MA_BS_DOC_KQ (reader)
      const numeric = decimal(r.GIA_TRI);
      return ctx.add(compact({
        resourceType: 'Observation' as const,
        id: ctx.id('Observation', 'XML4', r.STT || String(index + 1)),
        status: 'final' as const,
        category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: obsCategory }] }],
        code: r.MA_CHI_SO ? vnConcept('vn-dmdc-chi-so', r.MA_CHI_SO, r.TEN_CHI_SO) : { text: r.TEN_CHI_SO || r.MA_DICH_VU || 'CLS' },
        subject: refs.patient,
        encounter: refs.encounter,
        effectiveDateTime: claimDateTime(r.NGAY_KQ ?? ''),
        performer: multi(r.MA_BS_DOC_KQ).map(practitioner),
        valueQuantity: numeric !== undefined ? compact({ value: numeric, unit: r.DON_VI_DO }) : undefined,
        valueString: numeric === undefined && r.GIA_TRI ? r.GIA_TRI + (r.DON_VI_DO ? ` ${r.DON_VI_DO}` : '') : undefined,
        interpretation: r.KET_LUAN ? [{ text: r.KET_LUAN }] : [],
        note: r.MO_TA ? [{ text: r.MO_TA }] : [],
      }) as Observation);
    });
    const rows4 = members.map((m) => m.row);
    const times = rows4.map((r) => claimDateTime(r.NGAY_KQ ?? '')).filter((t): t is string => !!t).sort();
    const conclusion = rows4.map((r) => r.KET_LUAN).filter(Boolean).join('; ');
    const findings = rows4.map((r) => r.MO_TA).filter(Boolean).join('\n\n');
    const order = orders.get(service);
    ctx.add(compact({
      resourceType: 'DiagnosticReport' as const,
      id: ctx.id('DiagnosticReport', 'XML4', service),
      basedOn: order ? [order] : [],
      status: 'final' as const,
      category: section ? [{ coding: [section] }] : [],
      code: service ? vnConcept('vn-dmdc-dich-vu', service, ordered?.TEN_DICH_VU) : { text: rows4[0]!.TEN_CHI_SO || 'CLS' },
      subject: refs.patient,
      encounter: refs.encounter,
      effectiveDateTime: times[0],
      issued: times.length ? claimInstant(rows4.map((r) => r.NGAY_KQ ?? '').filter(Boolean).sort().at(-1)!) : undefined,
      result: results,
      conclusion: conclusion || undefined,
      presentedForm: findings ? [textAttachment(findings, 'MO_TA')] : [],
    }) as DiagnosticReport);
  }
}
