import { lookup } from '../../fhir/conceptmap';
import { issue } from '../../fhir/outcome';
import type { Issue } from '../../fhir/outcome';
import { CS, decimal, multi } from './context';
import { claimDate, claimDateTime } from './dates';
import { CARD, icdCode } from './map-episode';
import type { ClaimRecords, Row } from './parse';
import type { TableName } from './tables';

/**
 * Field-level checks of one episode, after the QĐ 4750 validation sheet
 * (qd4750-validation-rules.csv). Errors are the checks the FHIR data depends on — keys,
 * identity, dates and their order, card and ID formats, codes that become FHIR codes, rows that
 * belong to the episode — and reject the HOSO. The sheet's other required fields are warnings:
 * the portal wants them, but nothing here is wrong without them. Locations read `XML3[4].NGAY_YL`
 * (table, 0-based row, field).
 */

/** Fields the sheet marks required ("x"), per table. */
const REQUIRED: Partial<Record<TableName, string[]>> = {
  XML0: ['MA_LK', 'STT', 'MA_BN', 'HO_TEN', 'NGAY_SINH', 'GIOI_TINH', 'MA_DOITUONG_KCB', 'NGAY_VAO', 'MA_LOAI_KCB', 'MA_CSKCB', 'NGAY_YL'],
  XML1: ['MA_LK', 'MA_BN', 'HO_TEN', 'NGAY_SINH', 'GIOI_TINH', 'MA_QUOCTICH', 'MA_DANTOC', 'MA_NGHE_NGHIEP', 'DIA_CHI', 'MATINH_CU_TRU', 'MAHUYEN_CU_TRU', 'MAXA_CU_TRU', 'LY_DO_VV', 'CHAN_DOAN_VAO', 'CHAN_DOAN_RV', 'MA_BENH_CHINH', 'MA_DOITUONG_KCB', 'NGAY_VAO', 'NGAY_RA', 'SO_NGAY_DTRI', 'KET_QUA_DTRI', 'MA_LOAI_RV', 'T_THUOC', 'T_VTYT', 'T_TONGCHI_BV', 'T_TONGCHI_BH', 'T_BNTT', 'T_BNCCT', 'T_BHTT', 'T_NGUONKHAC', 'T_BHTT_GDV', 'NAM_QT', 'THANG_QT', 'MA_LOAI_KCB', 'MA_KHOA', 'MA_CSKCB', 'CAN_NANG', 'MA_HSBA'],
  XML2: ['MA_LK', 'STT', 'MA_THUOC', 'MA_NHOM', 'TEN_THUOC', 'DON_VI_TINH', 'HAM_LUONG', 'DUONG_DUNG', 'LIEU_DUNG', 'PHAM_VI', 'TYLE_TT_BH', 'SO_LUONG', 'DON_GIA', 'THANH_TIEN_BV', 'THANH_TIEN_BH', 'T_NGUONKHAC', 'MUC_HUONG', 'T_BNTT', 'T_BNCCT', 'T_BHTT', 'MA_KHOA', 'NGAY_YL', 'MA_PTTT', 'NGUON_CTRA'],
  XML3: ['MA_LK', 'STT', 'MA_NHOM', 'DON_VI_TINH', 'PHAM_VI', 'SO_LUONG', 'DON_GIA_BV', 'DON_GIA_BH', 'TYLE_TT_DV', 'TYLE_TT_BH', 'THANH_TIEN_BV', 'THANH_TIEN_BH', 'MUC_HUONG', 'T_NGUONKHAC', 'T_BNTT', 'T_BNCCT', 'T_BHTT', 'MA_KHOA', 'MA_BAC_SI', 'MA_BENH', 'NGAY_YL', 'MA_PTTT'],
  XML4: ['MA_LK', 'STT', 'TEN_CHI_SO'],
  XML5: ['MA_LK', 'STT', 'DIEN_BIEN_LS', 'THOI_DIEM_DBLS', 'NGUOI_THUC_HIEN'],
  XML7: ['MA_LK', 'SO_LUU_TRU', 'MA_YTE', 'MA_KHOA_RV', 'NGAY_VAO', 'NGAY_RA', 'CHAN_DOAN_RV', 'PP_DIEUTRI', 'MA_TTDV', 'MA_BS', 'TEN_BS', 'NGAY_CT'],
  XML8: ['MA_LK', 'MA_LOAI_KCB', 'NGAY_VAO', 'NGAY_RA', 'CHAN_DOAN_VAO', 'CHAN_DOAN_RV', 'QT_BENHLY', 'TOMTAT_KQ', 'PP_DIEUTRI', 'KET_QUA_DTRI', 'MA_TTDV', 'NGAY_CT'],
  XML13: ['MA_LK', 'SO_HOSO', 'SO_CHUYENTUYEN', 'GIAY_CHUYEN_TUYEN', 'HO_TEN', 'DAU_HIEU_LS', 'QT_BENHLY', 'TOMTAT_KQ', 'MA_LYDO_CT', 'HUONG_DIEU_TRI', 'PHUONGTIEN_VC', 'MA_BAC_SI', 'MA_TTDV'],
  XML14: ['MA_LK', 'SO_GIAYHEN_KL', 'MA_CSKCB', 'HO_TEN', 'NGAY_HEN_KL', 'MA_BAC_SI', 'MA_TTDV', 'NGAY_CT'],
};

/** Of those, the ones the FHIR resources cannot be built without. 4210 files predate most of the rest. */
const INTEGRITY: Partial<Record<TableName, string[]>> = {
  XML0: ['MA_LK', 'MA_BN', 'HO_TEN', 'NGAY_SINH', 'GIOI_TINH', 'NGAY_VAO', 'MA_LOAI_KCB', 'MA_CSKCB'],
  XML1: ['MA_LK', 'MA_BN', 'HO_TEN', 'NGAY_SINH', 'GIOI_TINH', 'MA_BENH_CHINH', 'NGAY_VAO', 'NGAY_RA', 'MA_LOAI_KCB', 'MA_CSKCB'],
  XML2: ['MA_LK', 'MA_THUOC', 'SO_LUONG', 'NGAY_YL'],
  XML3: ['MA_LK', 'SO_LUONG', 'NGAY_YL'],
  XML4: ['MA_LK'],
  XML5: ['MA_LK', 'DIEN_BIEN_LS', 'THOI_DIEM_DBLS'],
  XML14: ['MA_LK', 'NGAY_HEN_KL'],
};

/** yyyyMMddHHmm fields, and yyyyMMdd fields (`;` lists allowed), by table. */
const DATE_TIMES = ['NGAY_SINH', 'NGAY_VAO', 'NGAY_VAO_NOI_TRU', 'NGAY_RA', 'NGAY_TTOAN', 'NGAY_YL', 'NGAY_TH_YL', 'NGAY_KQ', 'THOI_DIEM_DBLS'];
const DATES = ['GT_THE_TU', 'GT_THE_DEN', 'NGAY_HEN_KL', 'NGAY_CT', 'NGAY_TAI_KHAM', 'NAM_NAM_LIEN_TUC'];

/** Ordered pairs "earlier ≤ later" within one row (sheet: ">= NGAY_VAO", ">= NGAY_YL"). */
const ORDER: [string, string][] = [['NGAY_VAO', 'NGAY_RA'], ['NGAY_VAO', 'NGAY_VAO_NOI_TRU'], ['NGAY_YL', 'NGAY_TH_YL'], ['NGAY_YL', 'NGAY_KQ']];

/** Coded XML1 fields whose value must be in the project's CodeSystem. */
const CODED: Record<string, string> = { GIOI_TINH: 'vn-claim-gioi-tinh', MA_LOAI_KCB: 'vn-claim-ma-loai-kcb', KET_QUA_DTRI: 'vn-claim-ket-qua-dtri', MA_LOAI_RV: 'vn-claim-ma-loai-rv' };

const MONEY_TOLERANCE = 1; // VND: the sheet rounds amounts to 2 decimals per row

/**
 * Issues end up in quarantine records and logs: they name the field and say what is wrong with
 * it, but never repeat a value that identifies the patient.
 */
const PERSONAL = new Set(['HO_TEN', 'SO_CCCD', 'NGAY_SINH', 'MA_THE_BHYT', 'DIA_CHI', 'DIEN_THOAI', 'MA_BN']);
const shown = (field: string, value: string): string => (PERSONAL.has(field) ? `(${value.length} characters)` : `"${value}"`);

export function checkClaim(records: ClaimRecords): Issue[] {
  const issues: Issue[] = [];
  const at = (table: string, row: number, field?: string) => `${table}[${row}]${field ? `.${field}` : ''}`;
  const err = (code: Issue['code'], msg: string, where: string) => issues.push(issue('error', code, msg, where));
  const warn = (code: Issue['code'], msg: string, where: string) => issues.push(issue('warning', code, msg, where));
  const t = records.tables;
  // A check-in (XML0) stands alone; everything else hangs off exactly one XML1.
  const checkIn = !t.XML1 && t.XML0?.length === 1;
  const x1rows = checkIn ? t.XML0! : t.XML1 ?? [];
  if (x1rows.length !== 1) err('required', `an episode has exactly one XML1 (TONG_HOP), found ${x1rows.length}`, 'XML1');
  const x1 = x1rows[0];
  const legacy = records.version === '4210';

  for (const table of Object.keys(t) as TableName[]) {
    t[table]!.forEach((row, i) => {
      for (const f of REQUIRED[table] ?? []) {
        if (row[f] !== undefined && row[f] !== '') continue;
        if (INTEGRITY[table]?.includes(f)) err('required', `${f} is required`, at(table, i, f));
        else if (!legacy) warn('required', `${f} is required by the QĐ 4750 validation sheet`, at(table, i, f));
      }
      // Every row belongs to the episode of XML1 (MA_LK is the join key of all tables).
      if (x1 && row !== x1 && row.MA_LK && row.MA_LK !== x1.MA_LK) err('value', `MA_LK "${row.MA_LK}" does not match the episode's XML1 MA_LK "${x1.MA_LK}"`, at(table, i, 'MA_LK'));
      checkDates(row, table, i, err);
    });
  }
  if (x1) checkEpisode(records, x1, checkIn ? 'XML0' : 'XML1', err, warn);
  for (const table of ['XML2', 'XML3'] as const) {
    (t[table] ?? []).forEach((row, i) => {
      for (const f of ['SO_LUONG', 'THANH_TIEN_BV']) if (row[f] && decimal(row[f]) === undefined) err('value', `${f} ${shown(f, row[f]!)} is not a number`, at(table, i, f));
      if (table === 'XML3' && !row.MA_DICH_VU && !row.MA_VAT_TU) err('required', 'a service row needs MA_DICH_VU or MA_VAT_TU', at(table, i, 'MA_DICH_VU'));
    });
  }
  (t.XML4 ?? []).forEach((row, i) => {
    if (row.GIA_TRI && !row.NGAY_KQ) warn('required', 'NGAY_KQ is required when GIA_TRI is given', at('XML4', i, 'NGAY_KQ'));
  });
  return issues;
}

type Report = (code: Issue['code'], msg: string, where: string) => void;

function checkDates(row: Row, table: string, i: number, err: Report): void {
  for (const f of DATE_TIMES) {
    const v = row[f];
    if (!v) continue;
    if (v.length !== 12 || claimDateTime(v) === undefined) err('value', `${f} ${shown(f, v)} is not a yyyyMMddHHmm date-time`, `${table}[${i}].${f}`);
  }
  for (const f of DATES) {
    for (const v of multi(row[f])) if (v.length !== 8 || claimDate(v) === undefined) err('value', `${f} ${shown(f, v)} is not a yyyyMMdd date`, `${table}[${i}].${f}`);
  }
  for (const [a, b] of ORDER) {
    // Same fixed-width format: string order is time order.
    if (row[a] && row[b] && row[a]!.length === 12 && row[b]!.length === 12 && row[b]! < row[a]!) err('value', `${b} ${row[b]} is before ${a} ${row[a]}`, `${table}[${i}].${b}`);
  }
}

function checkEpisode(records: ClaimRecords, x1: Row, table: 'XML0' | 'XML1', err: Report, warn: Report): void {
  const at = (f: string) => `${table}[0].${f}`;
  if (x1.MA_CSKCB && records.facility && x1.MA_CSKCB !== records.facility) err('value', `MA_CSKCB ${x1.MA_CSKCB} is not the facility that sent the file (${records.facility})`, at('MA_CSKCB'));
  // SO_CCCD: 12-digit CCCD, 9-digit CMND, passport (letter + 7 digits); else a VNeID account code.
  const id = x1.SO_CCCD ?? '';
  if (id && /^[0-9]+$/.test(id) && id.length !== 9 && id.length !== 12) err('value', `SO_CCCD has ${id.length} digits: a CCCD has 12, a CMND 9`, at('SO_CCCD'));
  else if (id && !/^([0-9]{9}|[0-9]{12}|[A-Z][0-9]{7})$/.test(id)) warn('value', 'SO_CCCD is neither CCCD, CMND nor passport: kept as a VNeID account code', at('SO_CCCD'));
  // MA_THE_BHYT and its parallel lists
  const cards = multi(x1.MA_THE_BHYT);
  cards.forEach((c, n) => {
    if (!CARD.test(c)) err('value', `card ${n + 1} of MA_THE_BHYT is not a card code (2 letters, benefit level 1–5, 2-digit province, 10 digits)`, at('MA_THE_BHYT'));
  });
  for (const f of ['MA_DKBD', 'GT_THE_TU', 'GT_THE_DEN']) {
    const n = multi(x1[f]).length;
    if (cards.length > 1 && n !== cards.length && !(f === 'MA_DKBD' && n === 1)) err('value', `${f} has ${n} values for ${cards.length} cards`, at(f));
  }
  for (const [f, system] of Object.entries(CODED)) {
    if (x1[f] && !lookup(`${CS}/${system}`, x1[f]!)) err('code-invalid', `${f} "${x1[f]}" is not a code of ${system}`, at(f));
  }
  // ICD-10: known codes; the principal one allowed as principal and matching the patient's sex (QĐ 4469 A2, A4).
  const sex = x1.GIOI_TINH === '1' ? 'male' : x1.GIOI_TINH === '2' ? 'female' : undefined;
  const diagnoses = [...(x1.MA_BENH_CHINH ? [{ code: x1.MA_BENH_CHINH, field: 'MA_BENH_CHINH' }] : []), ...multi(x1.MA_BENH_KT).map((code) => ({ code, field: 'MA_BENH_KT' }))];
  for (const { code, field } of diagnoses) {
    const concept = lookup(`${CS}/vn-icd10`, icdCode(code));
    if (!concept) { err('code-invalid', `${code} is not in ICD-10 (QĐ 4469)`, at(field)); continue; }
    if (field === 'MA_BENH_CHINH' && concept.properties['not-principal']?.includes(true)) err('business-rule', `${code} may not be the principal diagnosis (QĐ 4469 annex A2)`, at(field));
    const only = concept.properties.sex?.[0];
    if (only && sex && only !== sex) err('business-rule', `${code} is a ${only}-only code but GIOI_TINH is ${x1.GIOI_TINH}`, at(field));
  }
  if (multi(x1.MA_BENH_KT).length > 12) err('value', 'MA_BENH_KT holds more than 12 codes', at('MA_BENH_KT'));
  // Totals: T_TONGCHI_BV = Σ THANH_TIEN_BV of XML2 and XML3 (Bảng 1).
  const rows = [...(records.tables.XML2 ?? []), ...(records.tables.XML3 ?? [])];
  const total = decimal(x1.T_TONGCHI_BV);
  if (rows.length && total !== undefined) {
    const sum = rows.reduce((s, r) => s + (decimal(r.THANH_TIEN_BV) ?? 0), 0);
    if (Math.abs(sum - total) > MONEY_TOLERANCE) warn('business-rule', `T_TONGCHI_BV ${total} differs from the sum of THANH_TIEN_BV in XML2/XML3 (${sum.toFixed(2)})`, at('T_TONGCHI_BV'));
  }
}
