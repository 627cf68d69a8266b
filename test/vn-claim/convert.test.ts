import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bundle, DocumentReference, Encounter } from 'fhir/r4';
import { main } from '../../src/cli/main';

const run = (args: string[]) => main(['convert', ...args]);
import { hasCodeSystem } from '../../src/fhir/conceptmap';
import { convertClaim } from '../../src/ingest/vn-claim';
import { validateResource } from '../../src/validation';
import type { ClaimConversion } from '../../src/ingest/vn-claim';
import { ENVELOPE_FILE, SYNTHETIC, envelope, episode, otherTables, setField, xml13, xml14, xml1Legacy4210, xml7 } from './fixtures';

async function all(input: Buffer): Promise<ClaimConversion[]> {
  const out: ClaimConversion[] = [];
  for await (const r of convertClaim(input)) out.push(r);
  return out;
}

describe('convertClaim', () => {
  it('one bad HOSO among good ones is rejected alone, with table/row/field locations', async () => {
    const results = await all(envelope([
      episode('GOOD1'),
      episode('BAD', (n, x) => (n === 3 ? x.replace('<NGAY_YL>202406150805</NGAY_YL>', '<NGAY_YL>2024</NGAY_YL>') : x)),
      episode('GOOD2'),
    ]));
    expect(results.map((r) => [r.sourceKey, !!r.bundle])).toEqual([['GOOD1', true], ['BAD', false], ['GOOD2', true]]);
    expect(results[1]!.issues.find((i) => i.severity === 'error')).toMatchObject({ expression: 'XML3[1].NGAY_YL' });
  });

  it('the same file twice gives the same Bundles (resources update, never duplicate)', async () => {
    const file = readFileSync(ENVELOPE_FILE);
    const [a] = await all(file);
    const [b] = await all(Buffer.from(file));
    expect(a!.bundle).toEqual(b!.bundle);
  });

  it('a validator passed in can reject a HOSO; its issues point into the Bundle', async () => {
    const out: ClaimConversion[] = [];
    const validate = (r: { resourceType: string }) => (r.resourceType === 'Claim' ? [{ severity: 'error' as const, code: 'invalid' as const, diagnostics: 'no', expression: 'Claim.total' }] : []);
    for await (const r of convertClaim(readFileSync(ENVELOPE_FILE), { validate })) out.push(r);
    expect(out[0]!.bundle).toBeUndefined();
    expect(out[0]!.issues.at(-1)!.expression).toMatch(/^Bundle\.entry\[\d+\]\.resource \(Claim\.total\)$/);
  });

  it('every produced resource validates against base R4 and the VN profiles with zero errors', async () => {
    const withEverything = await all(envelope([
      [...episode('V1'), { loai: 'XML7', xml: xml7('V1') }, { loai: 'XML13', xml: xml13('V1', true) }, { loai: 'XML14', xml: xml14('V1') }],
      episode('V2', (n, x) => (n === 1 ? setField(setField(setField(setField(x, 'MA_BENH_KT', 'I10;E78'), 'MA_THE_BHYT', 'DN4799900000001;DN4799900000002'), 'GT_THE_TU', '20230101;20240601'), 'GT_THE_DEN', '20240531;20250531') : x)),
      episode('V3', (n, x) => (n === 1 ? setField(setField(x, 'NGAY_VAO_NOI_TRU', '202406150900'), 'MA_LOAI_KCB', '03') : x)),
    ]));
    const legacy = await all(envelope([[{ loai: 'XML1', xml: xml1Legacy4210('L') }]], '01001'));
    const synthetic = await all(readFileSync(ENVELOPE_FILE));
    const results = [...synthetic, ...withEverything, ...legacy];
    expect(results.map((r) => [r.sourceKey, !!r.bundle])).toEqual([['SYN79999.20240615.000123', true], ['V1', true], ['V2', true], ['V3', true], ['L', true]]);
    for (const r of results) {
      for (const e of r.bundle!.entry!) {
        const errs = validateResource(e.resource).filter((i) => i.severity === 'error' || i.severity === 'fatal');
        expect(errs.length ? `${e.resource!.resourceType}: ${JSON.stringify(errs)}` : 'ok').toBe('ok');
      }
    }
  });
});

describe('fhir-gateway convert', () => {
  const capture = async (args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const so = jest.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
    const se = jest.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
    try {
      return { code: await run(args), out: out.join(''), err: err.join('') };
    } finally {
      so.mockRestore();
      se.mockRestore();
    }
  };

  it('prints one Bundle per HOSO and exits 0', async () => {
    const { code, out } = await capture([ENVELOPE_FILE, '--format', 'vn-claim']);
    expect(code).toBe(0);
    const bundles = out.trim().split('\n').map((l) => JSON.parse(l) as Bundle);
    expect(bundles).toHaveLength(1);
    expect(bundles[0]!.type).toBe('transaction');
  });

  it('exits 1 with an OperationOutcome on stderr when a HOSO is rejected, 2 on usage errors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'convert-'));
    const f = join(dir, 'bad.xml');
    writeFileSync(f, envelope([episode('B', (n, x) => (n === 1 ? setField(x, 'NGAY_VAO', 'x') : x))]));
    const bad = await capture([f, '--format', 'vn-claim']);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('"XML1[0].NGAY_VAO"');
    expect((await capture([])).code).toBe(2);
    expect((await capture([join(dir, 'missing.xml'), '--format', 'vn-claim'])).code).toBe(2);
    expect((await capture([f, '--format', 'dicom-sr'])).code).toBe(2);
  });
});

describe('check-in (XML0)', () => {
  it('a bare check-in file becomes Patient, Coverage and an arrived Encounter with the same ids the claim will update', async () => {
    const [checkIn] = await all(readFileSync(join(SYNTHETIC, 'checkin-XML0-synthetic.xml')));
    expect(checkIn!.issues.filter((i) => i.severity === 'error')).toEqual([]);
    const enc = checkIn!.bundle!.entry!.find((e) => e.resource!.resourceType === 'Encounter')!;
    expect((enc.resource as Encounter).status).toBe('arrived');
    expect(checkIn!.bundle!.entry!.some((e) => e.resource!.resourceType === 'Claim')).toBe(false);
    const [claim] = await all(readFileSync(ENVELOPE_FILE));
    const urls = new Set(claim!.bundle!.entry!.map((e) => e.request!.url));
    for (const e of checkIn!.bundle!.entry!) expect(urls.has(e.request!.url) ? 'same' : e.request!.url).toBe('same');
  });

  it('several check-ins in one file are separate results; XML0 inside GIAMDINHHS is refused', async () => {
    const one = readFileSync(join(SYNTHETIC, 'checkin-XML0-synthetic.xml'), 'utf8');
    const record = /<TRANG_THAI_KCB>[\s\S]*<\/TRANG_THAI_KCB>/.exec(one)![0];
    const two = one.replace(record, `${record}${record.replace(/SYN79999\.20240615\.000123/, 'SECOND').replace('<STT>1</STT>', '<STT>2</STT>')}`);
    expect((await all(Buffer.from(two))).map((r) => [r.sourceKey, !!r.bundle])).toEqual([['SYN79999.20240615.000123', true], ['SECOND', true]]);
    const [inside] = await all(envelope([[...episode('E'), { loai: 'XML0', xml: one }]]));
    expect(inside!.issues.find((i) => i.severity === 'error')!.expression).toBe('HOSO[0].FILEHOSO[5].LOAIHOSO');
  });
});

describe('every table present', () => {
  it('an episode with all 14 claim tables converts: certificates and registers become documents, HIV records labelled sensitive', async () => {
    const files = [...episode('FULL'), { loai: 'XML7', xml: xml7('FULL') }, { loai: 'XML13', xml: xml13('FULL') }, { loai: 'XML14', xml: xml14('FULL') }, ...otherTables('FULL')];
    expect(files.map((f) => f.loai).sort()).toEqual(['XML1', 'XML10', 'XML11', 'XML13', 'XML14', 'XML15', 'XML2', 'XML3', 'XML4', 'XML5', 'XML6', 'XML7', 'XML8', 'XML9']);
    const [r] = await all(envelope([files]));
    expect(r!.bundle).toBeDefined();
    expect(r!.issues.filter((i) => i.severity !== 'warning')).toEqual([]);
    const docs = r!.bundle!.entry!.map((e) => e.resource!).filter((d): d is DocumentReference => d.resourceType === 'DocumentReference');
    expect(docs.map((d) => d.type!.text!.split(' ')[0]).sort()).toEqual(['XML10', 'XML11', 'XML13', 'XML15', 'XML5', 'XML6', 'XML7', 'XML8', 'XML9']);
    expect(docs.find((d) => d.type!.text!.startsWith('XML6'))!.meta!.security).toEqual([{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'HIV' }]);
    expect(Buffer.from(docs.find((d) => d.type!.text!.startsWith('XML9'))!.content[0]!.attachment.data!, 'base64').toString()).toContain('HO_TEN_NND: TRẦN THỊ MẸ');
    for (const e of r!.bundle!.entry!) expect(validateResource(e.resource).filter((i) => i.severity === 'error')).toEqual([]);
    // Every VN code system the mapper writes is one the project publishes in profiles/.
    const systems = new Set([...JSON.stringify(r!.bundle).matchAll(/"system":"(http:\/\/fhir\.ehealth\.gov\.vn\/core\/CodeSystem\/[^"]+)"/g)].map((m) => m[1]!));
    expect(systems.size).toBeGreaterThan(10);
    expect([...systems].filter((u) => !hasCodeSystem(u))).toEqual([]);
  });
});

describe('fhir-gateway convert, other formats through the same registry', () => {
  it('--format hl7v2 prints the Bundle of an HL7 v2 ORU file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'convert-'));
    const f = join(dir, 'oru.hl7');
    writeFileSync(f, 'MSH|^~\\&|LIS|79999|GW|GW|202406150900||ORU^R01|M1|P|2.5.1\rPID|1||BN000123^^^79999^MR||NGUYEN^VAN MAU||19900115|M\rOBR|1||LAB1|2345-7^Glucose^LN\rOBX|1|NM|2345-7^Glucose^LN||9.8|mmol/L|||||F\r');
    const out: string[] = [];
    const so = jest.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
    const se = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await run([f, '--format', 'hl7v2', '--facility', '79999']);
    } finally {
      so.mockRestore();
      se.mockRestore();
    }
    expect(out.join('')).toContain('"resourceType":"Bundle"');
  });
});
