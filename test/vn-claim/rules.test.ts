import { lookup } from '../../src/fhir/conceptmap';
import { checkClaim } from '../../src/ingest/vn-claim/rules';
import { parseClaimFile } from '../../src/ingest/vn-claim/parse';
import type { ClaimRecords } from '../../src/ingest/vn-claim/parse';
import type { Issue } from '../../src/fhir/outcome';
import { envelope, episode, setField, xml1Legacy4210 } from './fixtures';

async function check(edit: (n: number, xml: string) => string): Promise<Issue[]> {
  for await (const r of parseClaimFile(envelope([episode('R', edit)]))) return checkClaim(r.records as ClaimRecords);
  throw new Error('no HOSO');
}
const errors = (issues: Issue[]) => issues.filter((i) => i.severity === 'error').map((i) => i.expression);
const x1 = (f: string, v: string) => (n: number, x: string) => (n === 1 ? setField(x, f, v) : x);

describe('checkClaim (QĐ 4750 validation sheet, integrity checks)', () => {
  it('the synthetic episode passes (warnings only: XML3 MA_BENH is empty)', async () => {
    const issues = await check((_n, x) => x);
    expect(errors(issues)).toEqual([]);
    expect(issues.map((i) => i.expression)).toEqual(['XML3[0].MA_BENH', 'XML3[1].MA_BENH']);
  });

  it.each([
    ['blank MA_BENH_CHINH', x1('MA_BENH_CHINH', ''), 'XML1[0].MA_BENH_CHINH'],
    ['13-character NGAY_SINH', x1('NGAY_SINH', '1990011500001'), 'XML1[0].NGAY_SINH'],
    ['NGAY_RA before NGAY_VAO', x1('NGAY_RA', '202406150700'), 'XML1[0].NGAY_RA'],
    ['impossible date', x1('NGAY_VAO', '202402300745'), 'XML1[0].NGAY_VAO'],
    ['CCCD with 11 digits', x1('SO_CCCD', '07909000000'), 'XML1[0].SO_CCCD'],
    ['card with benefit level 6', x1('MA_THE_BHYT', 'DN6799900000001'), 'XML1[0].MA_THE_BHYT'],
    ['unknown GIOI_TINH', x1('GIOI_TINH', '4'), 'XML1[0].GIOI_TINH'],
    ['MA_LOAI_KCB as a number', x1('MA_LOAI_KCB', '1'), 'XML1[0].MA_LOAI_KCB'],
    ['unknown ICD-10 code', x1('MA_BENH_CHINH', 'E99.9'), 'XML1[0].MA_BENH_CHINH'],
    ['female-only code on a male patient', x1('MA_BENH_CHINH', 'O80.0'), 'XML1[0].MA_BENH_CHINH'],
    ['XML3 row of another episode', (n: number, x: string) => (n === 3 ? x.replace(/<MA_LK>R<\/MA_LK>(\s*<STT>2<\/STT>)/, '<MA_LK>OTHER</MA_LK>$1') : x), 'XML3[1].MA_LK'],
    ['XML3 order time missing', (n: number, x: string) => (n === 3 ? x.replace('<NGAY_YL>202406150805</NGAY_YL>', '<NGAY_YL></NGAY_YL>') : x), 'XML3[1].NGAY_YL'],
    ['XML3 executed before ordered', (n: number, x: string) => (n === 3 ? x.replace('<NGAY_TH_YL>202406150815</NGAY_TH_YL>', '<NGAY_TH_YL>202406150700</NGAY_TH_YL>') : x), 'XML3[1].NGAY_TH_YL'],
    ['XML2 quantity not a number', (n: number, x: string) => (n === 2 ? setField(x, 'SO_LUONG', 'sáu mươi') : x), 'XML2[0].SO_LUONG'],
  ])('%s is an error at %#', async (_name, edit, where) => {
    expect(errors(await check(edit))).toContain(where);
  });

  it('a code that may not be principal (QĐ 4469 A2) is refused as MA_BENH_CHINH only', async () => {
    const code = 'B95.0';
    expect(lookup('http://fhir.ehealth.gov.vn/core/CodeSystem/vn-icd10', code)?.properties['not-principal']).toEqual([true]);
    expect(errors(await check(x1('MA_BENH_CHINH', code)))).toContain('XML1[0].MA_BENH_CHINH');
    expect(errors(await check(x1('MA_BENH_KT', code)))).toEqual([]);
  });

  it('totals that do not add up are a warning, not a rejection', async () => {
    const issues = await check(x1('T_TONGCHI_BV', '90000.00'));
    expect(errors(issues)).toEqual([]);
    expect(issues.find((i) => i.expression === 'XML1[0].T_TONGCHI_BV')?.severity).toBe('warning');
  });

  it('legacy 4210 files are not held to the 4750-only required fields', async () => {
    for await (const r of parseClaimFile(envelope([[{ loai: 'XML1', xml: xml1Legacy4210('L') }]], '01001'))) {
      expect(checkClaim(r.records!)).toEqual([]);
    }
  });
});

describe('issues carry no personal data', () => {
  it('bad identity fields are named and located, their values never repeated', async () => {
    const issues = await check((n, x) => (n === 1 ? setField(setField(setField(x, 'SO_CCCD', '07909000000'), 'MA_THE_BHYT', 'DN6799900000001'), 'NGAY_SINH', '1990011500001') : x));
    const text = JSON.stringify(issues);
    expect(errors(issues)).toEqual(expect.arrayContaining(['XML1[0].SO_CCCD', 'XML1[0].MA_THE_BHYT', 'XML1[0].NGAY_SINH']));
    for (const secret of ['07909000000', 'DN6799900000001', '1990011500001', 'NGUYỄN']) expect(text).not.toContain(secret);
  });
});
