import type { Appointment, DocumentReference, Reference, ServiceRequest, Task } from 'fhir/r4';
import { LOINC, MapContext, SID, compact, multi, practitioner, textAttachment, vnConcept } from './context';
import { claimDate, claimDateTime, claimInstant } from './dates';
import { referralId } from '../ids';
import { icdCode } from './map-episode';
import type { EpisodeRefs } from './map-services';
import type { Row } from './parse';
import type { TableName } from './tables';

/**
 * The paper-like tables (progress notes, discharge paper, record summary, referral letter)
 * become DocumentReferences whose text lists the fields under their Vietnamese names; which
 * fields and in what order is data below.
 */
interface DocumentKind {
  /** LOINC document type where one fits; the others are typed by their title only. */
  loinc?: string;
  display?: string;
  title?: string;
  date: string;
  author: string;
  /** Fields written into the text, in order; 'all' = every non-empty field as sent. */
  fields: readonly string[] | 'all';
  /** v3 ActCode sensitivity label, e.g. HIV. */
  security?: string;
}

const DOCUMENTS: Record<string, DocumentKind> = {
  // XML5 CHI_TIET_DIEN_BIEN_BENH (clinical progress notes)
  XML5: { loinc: '11506-3', display: 'Progress note', date: 'THOI_DIEM_DBLS', author: 'NGUOI_THUC_HIEN', fields: ['DIEN_BIEN_LS', 'GIAI_DOAN_BENH', 'HOI_CHAN', 'PHAU_THUAT'] },
  // XML7 GIAY_RA_VIEN (discharge paper)
  XML7: { loinc: '18842-5', display: 'Discharge summary', date: 'NGAY_CT', author: 'MA_BS', fields: ['SO_LUU_TRU', 'MA_YTE', 'MA_KHOA_RV', 'NGAY_VAO', 'NGAY_RA', 'CHAN_DOAN_RV', 'PP_DIEUTRI', 'MA_DINH_CHI_THAI', 'NGUYENNHAN_DINHCHI', 'THOIGIAN_DINHCHI', 'TUOI_THAI', 'GHI_CHU', 'TEN_BS', 'HO_TEN_CHA', 'HO_TEN_ME', 'MA_THE_TAM', 'SO_NGAY_NGHI', 'NGOAITRU_TUNGAY', 'NGOAITRU_DENNGAY'] },
  // XML8 TOM_TAT_HO_SO_BENH_AN (medical-record summary)
  XML8: { loinc: '34133-9', display: 'Summary of episode note', date: 'NGAY_CT', author: '', fields: ['NGAY_VAO', 'NGAY_RA', 'CHAN_DOAN_VAO', 'CHAN_DOAN_RV', 'QT_BENHLY', 'TOMTAT_KQ', 'PP_DIEUTRI', 'NGAY_SINHCON', 'NGAY_CONCHET', 'SO_CONCHET', 'KET_QUA_DTRI', 'GHI_CHU', 'HO_TEN_CHA', 'HO_TEN_ME', 'NGUOI_GIAM_HO', 'DON_VI'] },
  // XML6 HO_SO_BENH_AN_CHAM_SOC_VA_DIEU_TRI_HIV_AIDS (HIV/AIDS care record): labelled HIV-sensitive
  XML6: { title: 'Hồ sơ chăm sóc và điều trị HIV/AIDS (HIV/AIDS care record)', date: 'NGAY_BAT_DAU_XU_TRI', author: '', fields: 'all', security: 'HIV' },
  // XML9 GIAY_CHUNG_SINH (birth certificate)
  XML9: { title: 'Giấy chứng sinh (birth certificate)', date: 'NGAY_SINH_CON', author: '', fields: 'all' },
  // XML10 GIAY_NGHI_DUONG_THAI (pregnancy-rest certificate)
  XML10: { title: 'Giấy nghỉ dưỡng thai (pregnancy-rest certificate)', date: 'NGAY_CT', author: 'MA_BS', fields: 'all' },
  // XML11 GIAY_CHUNG_NHAN_NGHI_VIEC_HUONG_BHXH (sick-leave certificate)
  XML11: { title: 'Giấy chứng nhận nghỉ việc hưởng BHXH (sick-leave certificate)', date: 'NGAY_CT', author: 'MA_BS', fields: 'all' },
  // XML15 DIEUTRI_BENHLAO (tuberculosis treatment)
  XML15: { title: 'Điều trị bệnh lao (tuberculosis treatment)', date: '', author: '', fields: 'all' },
  // XML13 GIAYCHUYENTUYEN (referral letter)
  XML13: { loinc: '57133-1', display: 'Referral note', date: 'NGAY_RA', author: 'MA_BAC_SI', fields: ['SO_HOSO', 'SO_CHUYENTUYEN', 'GIAY_CHUYEN_TUYEN', 'MA_NOI_DI', 'MA_NOI_DEN', 'NGAY_VAO', 'NGAY_RA', 'DAU_HIEU_LS', 'CHAN_DOAN_RV', 'QT_BENHLY', 'TOMTAT_KQ', 'PP_DIEUTRI', 'MA_BENH_CHINH', 'MA_BENH_KT', 'TINH_TRANG_CT', 'MA_LYDO_CT', 'HUONG_DIEU_TRI', 'PHUONGTIEN_VC', 'HOTEN_NGUOI_HT', 'CHUCDANH_NGUOI_HT'] },
};

const NOT_TEXT = new Set(['MA_LK', 'DU_PHONG']);

/** Tables that become documents (see DOCUMENTS). */
export const DOCUMENT_TABLES = Object.keys(DOCUMENTS) as TableName[];

export function mapDocuments(ctx: MapContext, table: TableName, rows: Row[], refs: EpisodeRefs): Reference[] {
  const d = DOCUMENTS[table]!;
  return rows.map((r, i) => {
    const fields = d.fields === 'all' ? Object.keys(r).filter((f) => !NOT_TEXT.has(f)) : d.fields;
    const text = fields.filter((f) => r[f]).map((f) => `${f}: ${r[f]}`).join('\n');
    const doc: DocumentReference = compact({
      resourceType: 'DocumentReference' as const,
      id: ctx.id('DocumentReference', table, r.STT || String(i + 1)),
      meta: d.security ? { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: d.security }] } : undefined,
      status: 'current' as const,
      type: d.loinc ? { coding: [{ system: LOINC, code: d.loinc, display: d.display }], text: table } : { text: `${table} ${d.title}` },
      subject: refs.patient,
      date: d.date ? claimInstant(r[d.date] ?? '') : undefined,
      author: d.author ? multi(r[d.author]).map(practitioner) : [],
      custodian: refs.facility,
      content: [{ attachment: textAttachment(text || '(empty)', `${table} ${d.display ?? d.title}`) }],
      context: { encounter: [refs.encounter] },
    });
    return ctx.add(doc);
  });
}

/** XML13 GIAYCHUYENTUYEN (referral letter) → a ServiceRequest from this facility to the receiving one, with the letter attached. */
export function mapReferral(ctx: MapContext, r: Row, refs: EpisodeRefs, letter: Reference): Reference {
  // MA_NOI_DI / MA_NOI_DEN (from / to facility; MA_CSKCB_DI/DEN in QĐ 3176), MA_LYDO_CT (reason code), SO_CHUYENTUYEN / GIAY_CHUYEN_TUYEN (numbers)
  const fromCode = r.MA_NOI_DI || r.MA_CSKCB || ctx.facility;
  const from = ctx.organization(fromCode);
  const number = r.SO_CHUYENTUYEN || r.GIAY_CHUYEN_TUYEN;
  const id = (type: 'ServiceRequest' | 'Task') => (number ? referralId(type, fromCode, number) : ctx.id(type, 'XML13'));
  const to = r.MA_NOI_DEN ? ctx.organization(r.MA_NOI_DEN) : undefined;
  const request: ServiceRequest = compact({
    resourceType: 'ServiceRequest' as const,
    id: id('ServiceRequest'),
    identifier: [r.GIAY_CHUYEN_TUYEN, r.SO_CHUYENTUYEN].filter(Boolean).map((value) => ({ system: `${SID}/referral-letter`, value, assigner: from })),
    status: 'completed' as const,
    intent: 'order' as const,
    category: [{ coding: [{ system: 'http://snomed.info/sct', code: '3457005', display: 'Patient referral' }] }],
    code: { coding: [{ system: 'http://snomed.info/sct', code: '3457005', display: 'Patient referral' }] },
    subject: refs.patient,
    encounter: refs.encounter,
    authoredOn: claimDateTime(r.NGAY_RA ?? ''),
    requester: from,
    performer: to ? [to] : [],
    reasonCode: [
      ...[r.MA_BENH_CHINH, ...multi(r.MA_BENH_KT)].filter(Boolean).map((c) => vnConcept('vn-icd10', icdCode(c!))),
      ...(r.MA_LYDO_CT ? [vnConcept('vn-claim-ma-lydo-ct', r.MA_LYDO_CT)] : []),
    ],
    supportingInfo: [letter],
    note: r.HUONG_DIEU_TRI ? [{ text: r.HUONG_DIEU_TRI }] : [],
  });
  const focus = ctx.add(request);
  // A letter issued at discharge documents a referral that happened: its Task is already completed.
  ctx.add(compact({
    resourceType: 'Task' as const,
    id: id('Task'),
    identifier: request.identifier,
    status: 'completed' as const,
    intent: 'order' as const,
    businessStatus: { text: 'referral letter issued' },
    focus,
    for: refs.patient,
    encounter: refs.encounter,
    authoredOn: request.authoredOn,
    requester: from,
    owner: to,
  }) as Task);
  return focus;
}

/** XML14 GIAYHEN_KHAMLAI (re-visit appointment) → Appointment for the date on the slip. */
export function mapAppointment(ctx: MapContext, r: Row, refs: EpisodeRefs, conditions: Reference[]): Reference | undefined {
  // NGAY_HEN_KL (re-visit date, yyyyMMdd), SO_GIAYHEN_KL (slip number), MA_BAC_SI (doctor)
  const day = claimDate(r.NGAY_HEN_KL ?? '');
  if (!day) {
    ctx.issues.push({ severity: 'error', code: 'value', diagnostics: `NGAY_HEN_KL "${r.NGAY_HEN_KL ?? ''}" is not a date`, expression: 'XML14[0].NGAY_HEN_KL' });
    return undefined;
  }
  const appointment: Appointment = compact({
    resourceType: 'Appointment' as const,
    id: ctx.id('Appointment', 'XML14'),
    identifier: r.SO_GIAYHEN_KL ? [{ system: `${SID}/appointment-slip`, value: r.SO_GIAYHEN_KL, assigner: refs.facility }] : [],
    // A day, not a time: the slip gives no hour, so the appointment stays "proposed" with a requested period.
    status: 'proposed' as const,
    serviceType: [{ text: 'Khám lại (re-visit)' }],
    reasonReference: conditions,
    description: r.CHAN_DOAN_RV || undefined,
    created: claimDate(r.NGAY_CT ?? ''),
    requestedPeriod: [{ start: day, end: day }],
    participant: [
      { actor: refs.patient, required: 'required' as const, status: 'needs-action' as const },
      ...multi(r.MA_BAC_SI).map((p) => ({ actor: practitioner(p), status: 'accepted' as const })),
    ],
  });
  return ctx.add(appointment);
}
