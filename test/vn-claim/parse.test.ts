import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { parseClaimFile } from '../../src/ingest/vn-claim/parse';
import type { HosoResult } from '../../src/ingest/vn-claim/parse';
import { ENVELOPE_FILE, SYNTHETIC, envelope, episode, inner, setField, xml13, xml1Legacy4210 } from './fixtures';

async function all(input: Parameters<typeof parseClaimFile>[0], opts?: Parameters<typeof parseClaimFile>[1]): Promise<HosoResult[]> {
  const out: HosoResult[] = [];
  for await (const r of parseClaimFile(input, opts)) out.push(r);
  return out;
}
const errors = (r: HosoResult) => r.issues.filter((i) => i.severity === 'error');

describe('parseClaimFile', () => {
  it('reads the synthetic GIAMDINHHS envelope: one HOSO, XML1–XML5, codes kept as strings, CDATA text', async () => {
    const [r, ...rest] = await all(readFileSync(ENVELOPE_FILE));
    expect(rest).toEqual([]);
    expect(r!.issues).toEqual([]);
    expect(r!.facility).toBe('79999');
    expect(r!.sourceKey).toBe('SYN79999.20240615.000123');
    const t = r!.records!.tables;
    expect(Object.fromEntries(Object.entries(t).map(([k, v]) => [k, v!.length]))).toEqual({ XML1: 1, XML2: 1, XML3: 2, XML4: 1, XML5: 1 });
    const x1 = t.XML1![0]!;
    expect(Object.keys(x1)).toHaveLength(66);
    expect([x1.MA_LOAI_KCB, x1.MA_QUOCTICH, x1.MA_DANTOC, x1.MA_DOITUONG_KCB]).toEqual(['01', '000', '01', '1.1']);
    expect(x1.HO_TEN).toBe('NGUYỄN VĂN MẪU');
    expect(t.XML2![0]!.LIEU_DUNG).toBe('1 viên/lần * 2 lần/ngày * 30 ngày [2 viên/ngày]');
    expect(r!.records!.version).toBe('130/4750');
  });

  it('each NOIDUNGFILE decodes to the matching inner-XMLn.xml (same rows)', async () => {
    const [r] = await all(readFileSync(ENVELOPE_FILE));
    for (const n of [2, 3, 4, 5]) {
      const [bare] = await all(readFileSync(join(SYNTHETIC, `inner-XML${n}.xml`)));
      expect(bare!.records!.tables[`XML${n}` as 'XML2']).toEqual(r!.records!.tables[`XML${n}` as 'XML2']);
    }
  });

  it('reads a bare inner table on its own', async () => {
    const [r] = await all(Buffer.from(inner(1)));
    expect(r!.issues).toEqual([]);
    expect(r!.records!.tables.XML1![0]!.MA_LK).toBe('SYN79999.20240615.000123');
    expect(r!.facility).toBe('79999'); // from XML1 MA_CSKCB
  });

  it('recognises a legacy 4210 file by content and renames its fields to 4750 names', async () => {
    const [r] = await all(envelope([[{ loai: 'XML1', xml: xml1Legacy4210('L4210.1') }]], '01001'));
    expect(r!.records!.version).toBe('4210');
    const x1 = r!.records!.tables.XML1![0]!;
    expect([x1.MA_THE_BHYT, x1.MA_BENH_CHINH, x1.MA_BENH_KT, x1.T_TONGCHI_BV, x1.MA_LOAI_RV]).toEqual(['HC4010000000001', 'I10', 'E11;E78', '38000', '1']);
    expect(x1.NGAY_SINH).toBe('198512030000');
    expect(x1.MA_LOAI_KCB).toBe('01');
  });

  it('recognises QĐ 3176 by XML13 MA_CSKCB_DI and reads it as MA_NOI_DI', async () => {
    const [r] = await all(envelope([[...episode('E3176'), { loai: 'XML13', xml: xml13('E3176', true) }]]));
    expect(r!.records!.version).toBe('3176');
    expect(r!.records!.tables.XML13![0]!.MA_NOI_DEN).toBe('79001');
  });

  it('streams many HOSO from a stream in small chunks, in order', async () => {
    const file = envelope(Array.from({ length: 30 }, (_, i) => episode(`EP${i}`)));
    const results = await all(Readable.from(Array.from({ length: Math.ceil(file.length / 777) }, (_, i) => file.subarray(i * 777, (i + 1) * 777))));
    expect(results.map((r) => r.sourceKey)).toEqual(Array.from({ length: 30 }, (_, i) => `EP${i}`));
    expect(results.every((r) => r.issues.length === 0)).toBe(true);
  });

  it('one bad HOSO (malformed base64) among good ones: the others still come through', async () => {
    const bad = episode('BAD');
    bad[2] = { loai: 'XML3', base64: 'PD94bWwg!!!dmVyc2lvbj0i' };
    const results = await all(envelope([episode('OK1'), bad, episode('OK2')]));
    expect(results.map((r) => [r.sourceKey, errors(r).length])).toEqual([['OK1', 0], ['BAD', 1], ['OK2', 0]]);
    expect(errors(results[1]!)[0]).toMatchObject({ code: 'invalid', expression: 'HOSO[1].FILEHOSO[2].NOIDUNGFILE' });
  });

  it('truncated base64 is reported with its location', async () => {
    const ep = episode('TRUNC');
    ep[0] = { loai: 'XML1', base64: Buffer.from(ep[0]!.xml!).toString('base64').slice(0, 101) };
    const [r] = await all(envelope([ep]));
    expect(errors(r!)[0]!.expression).toBe('HOSO[0].FILEHOSO[0].NOIDUNGFILE');
    expect(errors(r!)[0]!.diagnostics).toMatch(/base64/);
  });

  it('unknown LOAIHOSO is an error at FILEHOSO[n].LOAIHOSO', async () => {
    const [r] = await all(envelope([[...episode('U'), { loai: 'XML99', xml: '<X/>' }]]));
    expect(errors(r!)).toEqual([expect.objectContaining({ code: 'not-supported', expression: 'HOSO[0].FILEHOSO[5].LOAIHOSO' })]);
  });

  it('non-UTF-8 content behind a wrong encoding declaration is refused with the byte offset', async () => {
    const latin = Buffer.concat([Buffer.from('<?xml version="1.0" encoding="windows-1258"?><TONG_HOP><MA_LK>W</MA_LK><HO_TEN>'), Buffer.from([0x4e, 0xc3, 0x20, 0x4d]), Buffer.from('</HO_TEN></TONG_HOP>')]);
    const [r] = await all(envelope([[{ loai: 'XML1', base64: latin.toString('base64') }]]));
    expect(errors(r!)[0]!.diagnostics).toMatch(/not valid UTF-8 at byte 80 \(declared encoding "windows-1258"\)/);
    // Declared wrongly but actually UTF-8: read, with a warning.
    const [w] = await all(envelope([episode('W').map((f) => ({ ...f, xml: f.xml!.replace('encoding="utf-8"', 'encoding="windows-1258"') }))]));
    expect(errors(w!)).toEqual([]);
    expect(w!.issues.some((i) => i.severity === 'warning' && /windows-1258/.test(i.diagnostics))).toBe(true);
  });

  it('refuses XML bombs: DTD/entities in the envelope or an inner table, and deep nesting', async () => {
    const bomb = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><GIAMDINHHS>&lol2;</GIAMDINHHS>';
    const [outer] = await all(Buffer.from(bomb));
    expect(outer).toMatchObject({ index: -1, issues: [expect.objectContaining({ code: 'security' })] });
    const innerBomb = '<?xml version="1.0"?><!DOCTYPE TONG_HOP [<!ENTITY a "aaaaaaaaaa">]><TONG_HOP><MA_LK>&a;</MA_LK></TONG_HOP>';
    const [r] = await all(envelope([[{ loai: 'XML1', xml: innerBomb }]]));
    expect(errors(r!)[0]).toMatchObject({ code: 'security', expression: 'HOSO[0].FILEHOSO[0].NOIDUNGFILE' });
    const deep = `<TONG_HOP>${'<A>'.repeat(100_000)}${'</A>'.repeat(100_000)}</TONG_HOP>`;
    const [d] = await all(envelope([[{ loai: 'XML1', xml: deep }]]));
    expect(errors(d!)[0]!.code).toBe('too-costly');
  });

  it('empty input, non-XML and a truncated envelope are file-level issues', async () => {
    expect((await all(Buffer.alloc(0)))[0]).toMatchObject({ index: -1, issues: [expect.objectContaining({ diagnostics: 'empty file' })] });
    expect((await all(Buffer.from('   \n')))[0]!.issues[0]!.diagnostics).toBe('empty file');
    expect((await all(Buffer.from('hello')))[0]!.issues[0]!.code).toBe('structure');
    const file = envelope([episode('A'), episode('B')]);
    const cut = await all(file.subarray(0, file.length - 2000));
    expect(cut.map((r) => r.index)).toEqual([0, 1]);
    expect(errors(cut[1]!)[0]!.diagnostics).toMatch(/truncated/);
    const noClose = await all(envelope([episode('A')], '79999', { close: false }));
    expect(noClose.at(-1)).toMatchObject({ index: -1, issues: [expect.objectContaining({ diagnostics: expect.stringMatching(/GIAMDINHHS/) })] });
  });

  it('an envelope from another facility than the sender is refused', async () => {
    const [r] = await all(envelope([episode('A')], '01001'), { facility: '79999' });
    expect(r).toMatchObject({ index: -1, issues: [expect.objectContaining({ code: 'security' })] });
  });

  it('a file over the size limit stops with too-costly, in bounded memory', async () => {
    const file = envelope(Array.from({ length: 10 }, (_, i) => episode(`S${i}`)));
    const results = await all(Readable.from([file.subarray(0, 30000), file.subarray(30000)]), { maxFileBytes: 40000 });
    expect(results.at(-1)).toMatchObject({ index: -1, issues: [expect.objectContaining({ code: 'too-costly' })] });
  });

  it('a missing XML1 table field such as MA_LK still parses (rules judge it later)', async () => {
    const [r] = await all(envelope([episode('X', (n, x) => (n === 1 ? setField(x, 'HO_TEN', '') : x))]));
    expect(r!.records!.tables.XML1![0]!.HO_TEN).toBe('');
  });
});

describe('parseClaimFile under hostile sizes', () => {
  it('megabytes of junk after the last HOSO are scanned in linear time and bounded memory', async () => {
    const head = envelope([episode('J')], '79999', { close: false });
    const junk = Buffer.alloc(64 * 1024, 'x');
    async function* chunks() {
      yield head;
      for (let i = 0; i < 300; i++) yield junk; // ~19 MB
    }
    const t = Date.now();
    const results = await all(chunks());
    expect(Date.now() - t).toBeLessThan(5000);
    expect(results.map((r) => r.index)).toEqual([0, -1]);
    expect(results[1]!.issues[0]!.diagnostics).toMatch(/GIAMDINHHS/);
  });

  it('a streamed file bigger than the limit stops with too-costly', async () => {
    async function* big() {
      yield envelope([episode('A')], '79999', { close: false });
      for (;;) yield Buffer.alloc(1024 * 1024, ' ');
    }
    const results = await all(big(), { maxFileBytes: 8 * 1024 * 1024 });
    expect(results.at(-1)).toMatchObject({ index: -1, issues: [expect.objectContaining({ code: 'too-costly' })] });
  });
});

describe('parseClaimFile memory', () => {
  it('the window never holds more than one HOSO plus a chunk: a 2.6 MB stream parses under a 100 KB per-HOSO cap', async () => {
    const file = envelope(Array.from({ length: 200 }, (_, i) => episode(`M${i}`)));
    expect(file.length).toBeGreaterThan(2_000_000);
    async function* chunks() {
      for (let i = 0; i < file.length; i += 65536) yield file.subarray(i, i + 65536);
    }
    const results = await all(chunks(), { maxHosoBytes: 100_000 });
    expect(results).toHaveLength(200);
    expect(results.every((r) => r.issues.length === 0)).toBe(true);
  });
});
