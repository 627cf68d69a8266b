import type { CodeableConcept } from 'fhir/r4';
import type { AnyResource } from '../store/types';
import { conceptText, showDate, type Lang, type Text } from './i18n';

/**
 * The IPS sections as data (after HAPI FHIR's IPS generator: a registry of sections and one
 * strategy that fills them). Each section says which resource types feed it, which of them it
 * keeps (its selection rule), and the columns of its narrative table. The facility column is
 * added to every table by the builder.
 */
export interface Column {
  header: Text;
  cell(r: AnyResource, lang: Lang): string;
}

export interface SectionDef {
  key: string;
  /** LOINC section code. */
  code: string;
  display: string;
  title: Text;
  use: 'required' | 'recommended' | 'optional';
  types: string[];
  /** The selection rule: which candidates go in, in display order. `now` makes it reproducible. */
  select(candidates: AnyResource[], now: number): AnyResource[];
  columns: Column[];
}

type CC = CodeableConcept | undefined;
const code = (r: AnyResource, ...fields: string[]): CC => fields.map((f) => r[f] as CC).find(Boolean);
const codeOf = (cc: CC) => cc?.coding?.map((c) => `${c.system}|${c.code}`).join(',') ?? cc?.text ?? '';
const statusCode = (r: AnyResource, field: string): string | undefined => (r[field] as CC)?.coding?.[0]?.code;
const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
const isFrom = (cats: string[]) => (r: AnyResource) => ((r.category as CodeableConcept[] | undefined) ?? []).some((c) => c.coding?.some((x) => cats.includes(x.code ?? '')));
const notInError = (r: AnyResource) => r.status !== 'entered-in-error' && statusCode(r, 'verificationStatus') !== 'entered-in-error';

/** The date a resource is about, for sorting and the date column. */
export function careDate(r: AnyResource): string | undefined {
  const period = (v: unknown) => (v && typeof v === 'object' ? str((v as { start?: string }).start) : undefined);
  return (
    str(r.onsetDateTime) ?? period(r.onsetPeriod) ?? str(r.recordedDate) ?? str(r.effectiveDateTime) ?? period(r.effectivePeriod) ?? str(r.authoredOn) ??
    str(r.occurrenceDateTime) ?? str(r.performedDateTime) ?? period(r.performedPeriod) ?? period(r.period) ?? str(r.timingDateTime) ?? str(r.dateTime) ?? str(r.issued) ?? str(r.created) ?? str(r.date)
  );
}

const newestFirst = (a: AnyResource, b: AnyResource) => (careDate(b) ?? '').localeCompare(careDate(a) ?? '') || String(a.id).localeCompare(String(b.id));
const byNewest = (rs: AnyResource[]) => [...rs].sort(newestFirst);
/** The latest of each code: a result or vital sign measured ten times shows once, as last measured. */
function latestPerCode(rs: AnyResource[]): AnyResource[] {
  const best = new Map<string, AnyResource>();
  for (const r of byNewest(rs)) if (!best.has(codeOf(code(r, 'code')))) best.set(codeOf(code(r, 'code')), r);
  return [...best.values()];
}

function quantity(r: AnyResource): string {
  const q = r.valueQuantity as { value?: number; unit?: string; code?: string } | undefined;
  if (q?.value !== undefined) return `${q.value} ${q.unit ?? q.code ?? ''}`.trim();
  if (r.valueCodeableConcept) return conceptText(r.valueCodeableConcept as CodeableConcept, 'en');
  if (typeof r.valueString === 'string') return r.valueString;
  const parts = (r.component as AnyResource[] | undefined) ?? [];
  return parts.map((c) => quantity(c)).filter(Boolean).join(' / ');
}

const YEAR_MS = 365 * 24 * 3600 * 1000;
const within = (r: AnyResource, now: number, ms: number) => Date.parse(careDate(r) ?? '') >= now - ms;

const C = {
  name: (label: Text, ...fields: string[]): Column => ({ header: label, cell: (r, l) => conceptText(code(r, ...fields), l) }),
  status: (field?: string): Column => ({ header: { vi: 'Trạng thái', en: 'Status' }, cell: (r) => (field ? statusCode(r, field) : str(r.status)) ?? '' }),
  date: (label: Text = { vi: 'Ngày', en: 'Date' }): Column => ({ header: label, cell: (r, l) => showDate(careDate(r), l) }),
  value: { header: { vi: 'Kết quả', en: 'Value' }, cell: (r: AnyResource, l: Lang) => (r.valueCodeableConcept ? conceptText(r.valueCodeableConcept as CodeableConcept, l) : quantity(r)) } as Column,
};
const PROBLEM: Text = { vi: 'Vấn đề sức khỏe', en: 'Problem' };

const ACTIVE_CONDITION = new Set(['active', 'recurrence', 'relapse']);
const PAST_CONDITION = new Set(['inactive', 'remission', 'resolved']);
const isCondition = (r: AnyResource) => r.resourceType === 'Condition' && notInError(r);
const isVital = isFrom(['vital-signs']);
const isSocial = (r: AnyResource) => isFrom(['social-history'])(r) || ['72166-2', '74013-4', '11367-0'].includes(code(r, 'code')?.coding?.[0]?.code ?? '');
const PREGNANCY_CODES = new Set(['82810-3', '11636-8', '11637-6', '11638-4', '11639-2', '11640-0', '11612-9', '11613-7', '11614-5', '33065-4', '11778-8']);
const isPregnancy = (r: AnyResource) => PREGNANCY_CODES.has(code(r, 'code')?.coding?.[0]?.code ?? '');
const isResult = (r: AnyResource) => isFrom(['laboratory', 'imaging', 'procedure'])(r) && !isPregnancy(r);

export const SECTIONS: SectionDef[] = [
  {
    key: 'problems', code: '11450-4', display: 'Problem list - Reported', use: 'required',
    title: { vi: 'Danh sách vấn đề sức khỏe', en: 'Problem List' },
    types: ['Condition'],
    // IPS: current problems; resolved ones go to past illness history.
    select: (rs) => byNewest(rs.filter((r) => isCondition(r) && (statusCode(r, 'clinicalStatus') === undefined || ACTIVE_CONDITION.has(statusCode(r, 'clinicalStatus')!)))),
    columns: [C.name(PROBLEM, 'code'), C.status('clinicalStatus'), C.date({ vi: 'Khởi phát', en: 'Onset' })],
  },
  {
    key: 'allergies', code: '48765-2', display: 'Allergies and adverse reactions Document', use: 'required',
    title: { vi: 'Dị ứng và không dung nạp', en: 'Allergies and Intolerances' },
    types: ['AllergyIntolerance'],
    select: (rs) => byNewest(rs.filter((r) => r.resourceType === 'AllergyIntolerance' && notInError(r) && statusCode(r, 'clinicalStatus') !== 'resolved')),
    columns: [C.name({ vi: 'Tác nhân', en: 'Substance' }, 'code'), C.status('clinicalStatus'), { header: { vi: 'Mức độ', en: 'Criticality' }, cell: (r) => str(r.criticality) ?? '' }, C.date({ vi: 'Ghi nhận', en: 'Recorded' })],
  },
  {
    key: 'medications', code: '10160-0', display: 'History of Medication use Narrative', use: 'required',
    title: { vi: 'Thuốc đang và đã dùng', en: 'Medication Summary' },
    types: ['MedicationStatement', 'MedicationRequest'],
    // Our rule (the IG leaves it open): active, or started within the last year.
    select: (rs, now) => byNewest(rs.filter((r) => (r.resourceType === 'MedicationStatement' || r.resourceType === 'MedicationRequest') && notInError(r) && (r.status === 'active' || within(r, now, YEAR_MS)))),
    columns: [
      { header: { vi: 'Thuốc', en: 'Medication' }, cell: (r, l) => conceptText(r.medicationCodeableConcept as CodeableConcept | undefined, l) || String((r.medicationReference as { display?: string } | undefined)?.display ?? '') },
      C.status(),
      { header: { vi: 'Liều dùng', en: 'Dosage' }, cell: (r) => ((r.dosageInstruction ?? r.dosage) as { text?: string }[] | undefined)?.[0]?.text ?? '' },
      C.date(),
    ],
  },
  {
    key: 'immunizations', code: '11369-6', display: 'History of Immunization Narrative', use: 'recommended',
    title: { vi: 'Tiêm chủng', en: 'Immunizations' },
    types: ['Immunization'],
    select: (rs) => byNewest(rs.filter((r) => r.resourceType === 'Immunization' && r.status !== 'entered-in-error')),
    columns: [C.name({ vi: 'Vắc xin', en: 'Vaccine' }, 'vaccineCode'), C.status(), C.date()],
  },
  {
    key: 'results', code: '30954-2', display: 'Relevant diagnostic tests/laboratory data Narrative', use: 'recommended',
    title: { vi: 'Kết quả cận lâm sàng', en: 'Diagnostic Results' },
    types: ['Observation'],
    select: (rs) => latestPerCode(rs.filter((r) => r.resourceType === 'Observation' && notInError(r) && isResult(r))),
    columns: [C.name({ vi: 'Xét nghiệm', en: 'Test' }, 'code'), C.value, C.date()],
  },
  {
    key: 'procedures', code: '47519-4', display: 'History of Procedures Document', use: 'recommended',
    title: { vi: 'Thủ thuật, phẫu thuật', en: 'History of Procedures' },
    types: ['Procedure'],
    select: (rs) => byNewest(rs.filter((r) => r.resourceType === 'Procedure' && notInError(r) && r.status !== 'not-done')),
    columns: [C.name({ vi: 'Thủ thuật', en: 'Procedure' }, 'code'), C.status(), C.date()],
  },
  {
    key: 'devices', code: '46264-8', display: 'History of medical device use', use: 'recommended',
    title: { vi: 'Thiết bị y tế', en: 'Medical Devices' },
    types: ['DeviceUseStatement'],
    select: (rs) => byNewest(rs.filter((r) => r.resourceType === 'DeviceUseStatement' && notInError(r))),
    columns: [{ header: { vi: 'Thiết bị', en: 'Device' }, cell: (r) => String((r.device as { display?: string } | undefined)?.display ?? '') }, C.status(), C.date()],
  },
  {
    key: 'vitals', code: '8716-3', display: 'Vital signs', use: 'optional',
    title: { vi: 'Dấu hiệu sinh tồn', en: 'Vital Signs' },
    types: ['Observation'],
    select: (rs) => latestPerCode(rs.filter((r) => r.resourceType === 'Observation' && notInError(r) && isVital(r))),
    columns: [C.name({ vi: 'Chỉ số', en: 'Vital sign' }, 'code'), C.value, C.date()],
  },
  {
    key: 'pastIllness', code: '11348-0', display: 'History of Past illness Narrative', use: 'optional',
    title: { vi: 'Tiền sử bệnh', en: 'History of Past Illness' },
    types: ['Condition'],
    select: (rs) => byNewest(rs.filter((r) => isCondition(r) && PAST_CONDITION.has(statusCode(r, 'clinicalStatus') ?? ''))),
    columns: [C.name(PROBLEM, 'code'), C.status('clinicalStatus'), C.date({ vi: 'Khởi phát', en: 'Onset' })],
  },
  {
    key: 'functionalStatus', code: '47420-5', display: 'Functional status assessment note', use: 'optional',
    title: { vi: 'Tình trạng chức năng', en: 'Functional Status' },
    types: ['ClinicalImpression'],
    // Our rule (after HAPI FHIR's generator; the IG leaves it open): functional assessments that
    // were completed, newest first. Disabilities recorded as Conditions stay in the problem list.
    select: (rs) => byNewest(rs.filter((r) => r.resourceType === 'ClinicalImpression' && r.status === 'completed')),
    columns: [
      { header: { vi: 'Đánh giá', en: 'Assessment' }, cell: (r, l) => str(r.summary) ?? str(r.description) ?? conceptText(code(r, 'code'), l) },
      C.status(),
      C.date(),
    ],
  },
  {
    key: 'planOfCare', code: '18776-5', display: 'Plan of care note', use: 'optional',
    title: { vi: 'Kế hoạch chăm sóc', en: 'Plan of Care' },
    types: ['CarePlan'],
    select: (rs) => byNewest(rs.filter((r) => r.resourceType === 'CarePlan' && (r.status === 'active' || r.status === 'on-hold'))),
    columns: [{ header: { vi: 'Kế hoạch', en: 'Plan' }, cell: (r, l) => str(r.title) ?? conceptText((r.category as CodeableConcept[] | undefined)?.[0], l) }, C.status(), C.date({ vi: 'Bắt đầu', en: 'Start' })],
  },
  {
    key: 'socialHistory', code: '29762-2', display: 'Social history Narrative', use: 'optional',
    title: { vi: 'Tiền sử xã hội', en: 'Social History' },
    types: ['Observation'],
    select: (rs) => latestPerCode(rs.filter((r) => r.resourceType === 'Observation' && notInError(r) && isSocial(r))),
    columns: [C.name({ vi: 'Yếu tố', en: 'Observation' }, 'code'), C.value, C.date()],
  },
  {
    key: 'pregnancy', code: '10162-6', display: 'History of pregnancies Narrative', use: 'optional',
    title: { vi: 'Tiền sử thai sản', en: 'History of Pregnancy' },
    types: ['Observation'],
    select: (rs) => latestPerCode(rs.filter((r) => r.resourceType === 'Observation' && notInError(r) && isPregnancy(r))),
    columns: [C.name({ vi: 'Thông tin', en: 'Observation' }, 'code'), C.value, C.date()],
  },
  {
    key: 'advanceDirectives', code: '42348-3', display: 'Advance healthcare directives', use: 'optional',
    title: { vi: 'Chỉ thị chăm sóc trước', en: 'Advance Directives' },
    types: ['Consent'],
    select: (rs) => byNewest(rs.filter((r) => r.resourceType === 'Consent' && r.status === 'active')),
    columns: [C.name({ vi: 'Chỉ thị', en: 'Directive' }, 'scope'), C.status(), C.date()],
  },
  {
    key: 'alerts', code: '104605-1', display: 'Alert', use: 'optional',
    title: { vi: 'Cảnh báo', en: 'Alerts' },
    types: ['Flag'],
    select: (rs) => byNewest(rs.filter((r) => r.resourceType === 'Flag' && r.status === 'active')),
    columns: [C.name({ vi: 'Cảnh báo', en: 'Alert' }, 'code'), C.status(), C.date({ vi: 'Từ ngày', en: 'Since' })],
  },
];

/** Every type any section reads: what the builder fetches from the compartment. */
export const SECTION_TYPES = [...new Set(SECTIONS.flatMap((s) => s.types))].sort();
