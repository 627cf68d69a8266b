import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The shared corpora are read in place, never copied into the repository. */
export const CORPUS = process.env.VN_CORPORA ?? resolve(__dirname, '..', '..', '..', 'shared', 'corpora', 'vn');
export const SYNTHETIC = join(CORPUS, 'synthetic');
export const ENVELOPE_FILE = join(SYNTHETIC, 'giamdinhhs-outpatient-synthetic.xml');

export const inner = (n: number): string => readFileSync(join(SYNTHETIC, `inner-XML${n}.xml`), 'utf8');

/** Replaces the value of every `<FIELD>` element (CDATA or not) in a table. */
export function setField(xml: string, field: string, value: string): string {
  const re = new RegExp(`<${field}>[\\s\\S]*?</${field}>|<${field}\\s*/>`, 'g');
  if (!re.test(xml)) throw new Error(`no <${field}> in fixture`);
  return xml.replace(re, `<${field}>${value}</${field}>`);
}

export function renameField(xml: string, from: string, to: string): string {
  return xml.replace(new RegExp(`<(/?)${from}>`, 'g'), `<$1${to}>`);
}

export interface FileEntry { loai: string; xml?: string; base64?: string }

export function envelope(hosos: FileEntry[][], facility = '79999', opts: { count?: number; close?: boolean } = {}): Buffer {
  const files = hosos.map((h) =>
    `<HOSO>${h.map((f) => `<FILEHOSO><LOAIHOSO>${f.loai}</LOAIHOSO><NOIDUNGFILE>${f.base64 ?? Buffer.from(f.xml ?? '', 'utf8').toString('base64')}</NOIDUNGFILE></FILEHOSO>`).join('')}</HOSO>`).join('\n');
  const text = `<?xml version="1.0" encoding="utf-8"?>\n<GIAMDINHHS><THONGTINDONVI><MACSKCB>${facility}</MACSKCB></THONGTINDONVI><THONGTINHOSO><NGAYLAP>20240615</NGAYLAP><SOLUONGHOSO>${opts.count ?? hosos.length}</SOLUONGHOSO><DANHSACHHOSO>\n${files}\n</DANHSACHHOSO></THONGTINHOSO><CHUKYDONVI/>${opts.close === false ? '' : '</GIAMDINHHS>'}`;
  return Buffer.from(text, 'utf8');
}

/** One complete episode from the synthetic corpus, with MA_LK replaced so several can share a file. */
export function episode(maLK = 'SYN79999.20240615.000123', edit: (n: number, xml: string) => string = (_n, x) => x): FileEntry[] {
  return [1, 2, 3, 4, 5].map((n) => ({ loai: `XML${n}`, xml: edit(n, setField(inner(n), 'MA_LK', maLK)) }));
}

const X = '<?xml version="1.0" encoding="utf-8"?>';

/** Tables the synthetic corpus lacks (XML7 discharge paper, XML13 referral, XML14 re-visit), written from the QĐ 4750 field lists. */
export function xml7(maLK: string): string {
  return `${X}<CHI_TIEU_DU_LIEU_GIAY_RA_VIEN><MA_LK>${maLK}</MA_LK><SO_LUU_TRU>LT0001</SO_LUU_TRU><MA_YTE>YT0001</MA_YTE><MA_KHOA_RV>K01</MA_KHOA_RV><NGAY_VAO>202406150745</NGAY_VAO><NGAY_RA>202406151030</NGAY_RA><MA_DINH_CHI_THAI></MA_DINH_CHI_THAI><NGUYENNHAN_DINHCHI></NGUYENNHAN_DINHCHI><THOIGIAN_DINHCHI></THOIGIAN_DINHCHI><TUOI_THAI></TUOI_THAI><CHAN_DOAN_RV><![CDATA[Đái tháo đường typ 2]]></CHAN_DOAN_RV><PP_DIEUTRI><![CDATA[Nội khoa]]></PP_DIEUTRI><GHI_CHU><![CDATA[Tái khám sau 30 ngày]]></GHI_CHU><MA_TTDV>7999900001</MA_TTDV><MA_BS>000001/HCM-CCHN</MA_BS><TEN_BS><![CDATA[BS MẪU]]></TEN_BS><NGAY_CT>20240615</NGAY_CT><MA_CHA></MA_CHA><MA_ME></MA_ME><MA_THE_TAM></MA_THE_TAM><HO_TEN_CHA></HO_TEN_CHA><HO_TEN_ME></HO_TEN_ME><SO_NGAY_NGHI></SO_NGAY_NGHI><NGOAITRU_TUNGAY></NGOAITRU_TUNGAY><NGOAITRU_DENNGAY></NGOAITRU_DENNGAY><DU_PHONG></DU_PHONG></CHI_TIEU_DU_LIEU_GIAY_RA_VIEN>`;
}

export function xml13(maLK: string, v3176 = false): string {
  const [di, den] = v3176 ? ['MA_CSKCB_DI', 'MA_CSKCB_DEN'] : ['MA_NOI_DI', 'MA_NOI_DEN'];
  return `${X}<CHI_TIEU_GIAYCHUYENTUYEN><MA_LK>${maLK}</MA_LK><SO_HOSO>HS0001</SO_HOSO><SO_CHUYENTUYEN>CT0001</SO_CHUYENTUYEN><GIAY_CHUYEN_TUYEN>GCT0001</GIAY_CHUYEN_TUYEN><MA_CSKCB>79999</MA_CSKCB><${di}>79999</${di}><${den}>79001</${den}><HO_TEN><![CDATA[NGUYỄN VĂN MẪU]]></HO_TEN><NGAY_SINH>199001150000</NGAY_SINH><GIOI_TINH>1</GIOI_TINH><MA_QUOCTICH>000</MA_QUOCTICH><MA_DANTOC>01</MA_DANTOC><MA_NGHE_NGHIEP>00000</MA_NGHE_NGHIEP><DIA_CHI><![CDATA[Số 1 Đường Mẫu]]></DIA_CHI><MA_THE_BHYT>DN4799900000001</MA_THE_BHYT><GT_THE_DEN>20241231</GT_THE_DEN><NGAY_VAO>202406150745</NGAY_VAO><NGAY_VAO_NOI_TRU></NGAY_VAO_NOI_TRU><NGAY_RA>202406151030</NGAY_RA><DAU_HIEU_LS><![CDATA[Khát nhiều]]></DAU_HIEU_LS><CHAN_DOAN_RV><![CDATA[Đái tháo đường typ 2]]></CHAN_DOAN_RV><QT_BENHLY><![CDATA[Khởi phát 1 tháng]]></QT_BENHLY><TOMTAT_KQ><![CDATA[Glucose 9.8 mmol/L]]></TOMTAT_KQ><PP_DIEUTRI><![CDATA[Nội khoa]]></PP_DIEUTRI><MA_BENH_CHINH>E11</MA_BENH_CHINH><MA_BENH_KT></MA_BENH_KT><MA_BENH_YHCT></MA_BENH_YHCT>${v3176 ? '<TINH_TRANG_CT><![CDATA[Ổn định]]></TINH_TRANG_CT>' : '<TEN_DICH_VU></TEN_DICH_VU><TEN_THUOC></TEN_THUOC><PP_DIEU_TRI></PP_DIEU_TRI>'}<MA_LOAI_RV>2</MA_LOAI_RV><MA_LYDO_CT>2</MA_LYDO_CT><HUONG_DIEU_TRI><![CDATA[Điều chỉnh insulin]]></HUONG_DIEU_TRI><PHUONGTIEN_VC><![CDATA[Xe cứu thương]]></PHUONGTIEN_VC><HOTEN_NGUOI_HT></HOTEN_NGUOI_HT><CHUCDANH_NGUOI_HT></CHUCDANH_NGUOI_HT><MA_BAC_SI>000001/HCM-CCHN</MA_BAC_SI><MA_TTDV>7999900001</MA_TTDV><DU_PHONG></DU_PHONG></CHI_TIEU_GIAYCHUYENTUYEN>`;
}

export function xml14(maLK: string): string {
  return `${X}<CHI_TIEU_GIAYHEN_KHAMLAI><MA_LK>${maLK}</MA_LK><SO_GIAYHEN_KL>HK0001</SO_GIAYHEN_KL><MA_CSKCB>79999</MA_CSKCB><HO_TEN><![CDATA[NGUYỄN VĂN MẪU]]></HO_TEN><NGAY_SINH>199001150000</NGAY_SINH><GIOI_TINH>1</GIOI_TINH><DIA_CHI><![CDATA[Số 1 Đường Mẫu]]></DIA_CHI><MA_THE_BHYT>DN4799900000001</MA_THE_BHYT><GT_THE_DEN>20241231</GT_THE_DEN><NGAY_VAO>202406150745</NGAY_VAO><NGAY_VAO_NOI_TRU></NGAY_VAO_NOI_TRU><NGAY_RA>202406151030</NGAY_RA><NGAY_HEN_KL>20240715</NGAY_HEN_KL><CHAN_DOAN_RV><![CDATA[Đái tháo đường typ 2]]></CHAN_DOAN_RV><MA_BENH_CHINH>E11</MA_BENH_CHINH><MA_BENH_KT></MA_BENH_KT><MA_BENH_YHCT></MA_BENH_YHCT><MA_DOITUONG_KCB>1.1</MA_DOITUONG_KCB><MA_BAC_SI>000001/HCM-CCHN</MA_BAC_SI><MA_TTDV>7999900001</MA_TTDV><NGAY_CT>20240615</NGAY_CT><DU_PHONG></DU_PHONG></CHI_TIEU_GIAYHEN_KHAMLAI>`;
}

/** A legacy QĐ 4210 XML1: MA_THE, MA_BENH, MA_BENHKHAC, T_TONGCHI, 8-character NGAY_SINH, one-digit MA_LOAI_KCB. */
export function xml1Legacy4210(maLK: string): string {
  return `${X}<TONG_HOP><MA_LK>${maLK}</MA_LK><STT>1</STT><MA_BN>BN4210</MA_BN><HO_TEN>TRẦN THỊ CŨ</HO_TEN><NGAY_SINH>19851203</NGAY_SINH><GIOI_TINH>2</GIOI_TINH><DIA_CHI>Hà Nội</DIA_CHI><MA_THE>HC4010000000001</MA_THE><MA_DKBD>01001</MA_DKBD><GT_THE_TU>20230101</GT_THE_TU><GT_THE_DEN>20231231</GT_THE_DEN><TEN_BENH>Tăng huyết áp</TEN_BENH><MA_BENH>I10</MA_BENH><MA_BENHKHAC>E11;E78</MA_BENHKHAC><MA_LYDO_VVIEN>1</MA_LYDO_VVIEN><MA_NOI_CHUYEN></MA_NOI_CHUYEN><NGAY_VAO>202305100800</NGAY_VAO><NGAY_RA>202305100930</NGAY_RA><SO_NGAY_DTRI>0</SO_NGAY_DTRI><KET_QUA_DTRI>2</KET_QUA_DTRI><TINH_TRANG_RV>1</TINH_TRANG_RV><NGAY_TTOAN>202305100940</NGAY_TTOAN><MUC_HUONG>80</MUC_HUONG><T_THUOC>0</T_THUOC><T_VTYT>0</T_VTYT><T_TONGCHI>38000</T_TONGCHI><T_BNTT>0</T_BNTT><T_BHTT>38000</T_BHTT><T_NGUONKHAC>0</T_NGUONKHAC><NAM_QT>2023</NAM_QT><THANG_QT>5</THANG_QT><MA_LOAI_KCB>1</MA_LOAI_KCB><MA_KHOA>K01</MA_KHOA><MA_CSKCB>01001</MA_CSKCB><CAN_NANG>55</CAN_NANG></TONG_HOP>`;
}

/** Minimal documents for the tables the mapper only reports (and XML8): enough to prove every LOAIHOSO goes through. */
export function otherTables(maLK: string): FileEntry[] {
  const flat = (root: string, body: string) => `${X}<${root}><MA_LK>${maLK}</MA_LK>${body}</${root}>`;
  const list = (root: string, dsach: string, record: string, body: string) => `${X}<${root}><${dsach}><${record}><MA_LK>${maLK}</MA_LK>${body}</${record}></${dsach}></${root}>`;
  return [
    { loai: 'XML6', xml: list('CHI_TIEU_HO_SO_BENH_AN_CHAM_SOC_VA_DIEU_TRI_HIV_AIDS', 'DSACH_HO_SO_BENH_AN_CHAM_SOC_VA_DIEU_TRI_HIV_AIDS', 'HO_SO_BENH_AN_CHAM_SOC_VA_DIEU_TRI_HIV_AIDS', '<MA_THE_BHYT>DN4799900000001</MA_THE_BHYT><NGAYKD_HIV>20200101</NGAYKD_HIV>') },
    { loai: 'XML8', xml: flat('CHI_TIEU_DU_LIEU_TOM_TAT_HO_SO_BENH_AN', '<MA_LOAI_KCB>01</MA_LOAI_KCB><NGAY_VAO>202406150745</NGAY_VAO><NGAY_RA>202406151030</NGAY_RA><CHAN_DOAN_VAO>Theo dõi ĐTĐ</CHAN_DOAN_VAO><CHAN_DOAN_RV>ĐTĐ typ 2</CHAN_DOAN_RV><QT_BENHLY><![CDATA[Khát nhiều 1 tháng]]></QT_BENHLY><TOMTAT_KQ>Glucose 9.8</TOMTAT_KQ><PP_DIEUTRI>Nội khoa</PP_DIEUTRI><KET_QUA_DTRI>2</KET_QUA_DTRI><MA_TTDV>7999900001</MA_TTDV><NGAY_CT>20240615</NGAY_CT>') },
    { loai: 'XML9', xml: list('CHI_TIEU_DU_LIEU_GIAY_CHUNG_SINH', 'DSACH_GIAYCHUNGSINH', 'DU_LIEU_GIAY_CHUNG_SINH', '<HO_TEN_NND>TRẦN THỊ MẸ</HO_TEN_NND><NGAY_SINH_CON>202406150630</NGAY_SINH_CON>') },
    { loai: 'XML10', xml: flat('CHI_TIEU_DU_LIEU_GIAY_NGHI_DUONG_THAI', '<SO_SERI>S1</SO_SERI><TU_NGAY>20240615</TU_NGAY><DEN_NGAY>20240620</DEN_NGAY>') },
    { loai: 'XML11', xml: flat('CHI_TIEU_DU_LIEU_GIAY_CHUNG_NHAN_NGHI_VIEC_HUONG_BAO_HIEM_XA_HOI', '<SO_CT>C1</SO_CT><SO_NGAY_NGHI>3</SO_NGAY_NGHI>') },
    { loai: 'XML15', xml: list('CHI_TIEU_DIEUTRI_BENHLAO', 'DSACH_CHITIET_DIEUTRI_BENHLAO', 'CHITIET_DIEUTRI_BENHLAO', '<STT>1</STT><MA_BN>BN000123</MA_BN><NGAYBD_DTRI_LAO>20240101</NGAYBD_DTRI_LAO>') },
  ];
}
