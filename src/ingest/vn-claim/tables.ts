/**
 * Facts about the claim tables as data: element names per LOAIHOSO (CV 3190/BHXH-CNTT §2.4,
 * QĐ 4750 for XML13–15) and the field renames that bring legacy 4210 and QĐ 3176 files onto
 * the QĐ 4750 names, so that one mapper serves every version.
 */

export const TABLE_NAMES = ['XML0', 'XML1', 'XML2', 'XML3', 'XML4', 'XML5', 'XML6', 'XML7', 'XML8', 'XML9', 'XML10', 'XML11', 'XML13', 'XML14', 'XML15'] as const;
export type TableName = (typeof TABLE_NAMES)[number];

/** XML0 (check-in) goes through its own VSS call and never inside GIAMDINHHS. */
export const ENVELOPE_TABLES: readonly TableName[] = TABLE_NAMES.filter((t) => t !== 'XML0');

/** Root element of each table as sent inside GIAMDINHHS, and the record element (same as root for flat tables). */
export const TABLE_ELEMENTS: Record<TableName, { root: string; record: string }> = {
  XML0: { root: 'CHI_TIEU_TRANG_THAI_KCB', record: 'TRANG_THAI_KCB' },
  XML1: { root: 'TONG_HOP', record: 'TONG_HOP' },
  XML2: { root: 'CHITIEU_CHITIET_THUOC', record: 'CHI_TIET_THUOC' },
  XML3: { root: 'CHITIEU_CHITIET_DVKT_VTYT', record: 'CHI_TIET_DVKT' },
  XML4: { root: 'CHITIEU_CHITIET_DICHVUCANLAMSANG', record: 'CHI_TIET_CLS' },
  XML5: { root: 'CHITIEU_CHITIET_DIENBIENLAMSANG', record: 'CHI_TIET_DIEN_BIEN_BENH' },
  XML6: { root: 'CHI_TIEU_HO_SO_BENH_AN_CHAM_SOC_VA_DIEU_TRI_HIV_AIDS', record: 'HO_SO_BENH_AN_CHAM_SOC_VA_DIEU_TRI_HIV_AIDS' },
  XML7: { root: 'CHI_TIEU_DU_LIEU_GIAY_RA_VIEN', record: 'CHI_TIEU_DU_LIEU_GIAY_RA_VIEN' },
  XML8: { root: 'CHI_TIEU_DU_LIEU_TOM_TAT_HO_SO_BENH_AN', record: 'CHI_TIEU_DU_LIEU_TOM_TAT_HO_SO_BENH_AN' },
  XML9: { root: 'CHI_TIEU_DU_LIEU_GIAY_CHUNG_SINH', record: 'DU_LIEU_GIAY_CHUNG_SINH' },
  XML10: { root: 'CHI_TIEU_DU_LIEU_GIAY_NGHI_DUONG_THAI', record: 'CHI_TIEU_DU_LIEU_GIAY_NGHI_DUONG_THAI' },
  XML11: { root: 'CHI_TIEU_DU_LIEU_GIAY_CHUNG_NHAN_NGHI_VIEC_HUONG_BAO_HIEM_XA_HOI', record: 'CHI_TIEU_DU_LIEU_GIAY_CHUNG_NHAN_NGHI_VIEC_HUONG_BAO_HIEM_XA_HOI' },
  XML13: { root: 'CHI_TIEU_GIAYCHUYENTUYEN', record: 'CHI_TIEU_GIAYCHUYENTUYEN' },
  XML14: { root: 'CHI_TIEU_GIAYHEN_KHAMLAI', record: 'CHI_TIEU_GIAYHEN_KHAMLAI' },
  XML15: { root: 'CHI_TIEU_DIEUTRI_BENHLAO', record: 'CHITIET_DIEUTRI_BENHLAO' },
};

/** A bare table is recognised by its root; 4210 files sent the list element as root. */
export function tableForRoot(root: string): TableName | undefined {
  for (const t of TABLE_NAMES) {
    const e = TABLE_ELEMENTS[t];
    if (e.root === root || e.record === root) return t;
  }
  return LEGACY_ROOTS[root];
}

const LEGACY_ROOTS: Record<string, TableName> = {
  DSACH_CHI_TIET_THUOC: 'XML2',
  DSACH_CHI_TIET_DVKT: 'XML3',
  DSACH_CHI_TIET_CLS: 'XML4',
  DSACH_CHI_TIET_DIEN_BIEN_BENH: 'XML5',
};

export type ClaimVersion = '4210' | '130/4750' | '3176';

/** Legacy field name → QĐ 4750 name, per table (QĐ 4210 Bảng 1–3; QĐ 3176 XML13). */
export const FIELD_RENAMES: Record<Exclude<ClaimVersion, '130/4750'>, Partial<Record<TableName, Record<string, string>>>> = {
  '4210': {
    XML1: {
      MA_THE: 'MA_THE_BHYT', MA_BENH: 'MA_BENH_CHINH', MA_BENHKHAC: 'MA_BENH_KT', T_TONGCHI: 'T_TONGCHI_BV',
      MA_NOI_CHUYEN: 'MA_NOI_DI', TINH_TRANG_RV: 'MA_LOAI_RV', TEN_BENH: 'CHAN_DOAN_RV',
    },
    XML2: { THANH_TIEN: 'THANH_TIEN_BV' },
    XML3: { DON_GIA: 'DON_GIA_BV', THANH_TIEN: 'THANH_TIEN_BV' },
  },
  '3176': {
    XML13: { MA_CSKCB_DI: 'MA_NOI_DI', MA_CSKCB_DEN: 'MA_NOI_DEN' },
  },
};

/**
 * 4210 value conventions that differ from 4750: one-digit MA_LOAI_KCB ("1" → "01") and
 * 8-character NGAY_SINH (date only: the unknown time becomes "0000").
 */
export const LEGACY_VALUE_FIXES: Partial<Record<TableName, Record<string, (v: string) => string>>> = {
  XML1: {
    MA_LOAI_KCB: (v) => (/^[0-9]$/.test(v) ? `0${v}` : v),
    NGAY_SINH: (v) => (v.length === 8 ? `${v}0000` : v),
  },
};
