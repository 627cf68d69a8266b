import type { Issue } from '../../fhir/outcome';
import { issue } from '../../fhir/outcome';
import { ENVELOPE_TABLES, FIELD_RENAMES, LEGACY_VALUE_FIXES, TABLE_ELEMENTS, tableForRoot } from './tables';
import type { ClaimVersion, TableName } from './tables';
import { DEFAULT_XML_LIMITS, XmlError, childText, readXml } from './xml';
import type { XmlElement, XmlLimits } from './xml';

/**
 * Claim bytes → typed records, one HOSO (episode of care) at a time. The GIAMDINHHS envelope is
 * scanned for `<HOSO>…</HOSO>` byte ranges rather than parsed as one tree, so a 50 MB export
 * costs its own size plus one episode, and a broken HOSO yields Issues without stopping the rest.
 * Values stay exactly as sent (strings: "01", "000", "1.11"); dates are converted in map.
 */

export type Row = Readonly<Record<string, string>>;
export type { ClaimVersion, TableName };

export interface ClaimRecords {
  version: ClaimVersion;
  /** MACSKCB of the envelope, else XML1 MA_CSKCB, else the sender's facility. */
  facility: string;
  /** MA_LK of XML1 (or of the first row of a bare table). */
  maLK: string;
  tables: Partial<Record<TableName, Row[]>>;
}

export interface HosoResult {
  /** Position of the HOSO in the file (0-based); -1 for a problem with the file as a whole. */
  index: number;
  facility: string;
  sourceKey: string;
  records?: ClaimRecords;
  issues: Issue[];
}

export interface ParseOptions {
  /** Sending facility (MA_CSKCB) when the file does not say. */
  facility?: string;
  maxFileBytes?: number;
  maxHosoBytes?: number;
  maxHeaderBytes?: number;
  xml?: XmlLimits;
}

/** Limits: VSS accepts files up to ~100 MB from some vendors; one episode is rarely above 1 MB. */
const DEFAULTS = { maxFileBytes: 128 * 1024 * 1024, maxHosoBytes: 32 * 1024 * 1024, maxHeaderBytes: 64 * 1024 };

// ---------------------------------------------------------------- bytes → text
const utf8 = new TextDecoder('utf-8', { fatal: true });

function firstInvalidUtf8(b: Uint8Array): number {
  for (let i = 0; i < b.length; ) {
    const c = b[i]!;
    const n = c < 0x80 ? 0 : c >= 0xc2 && c < 0xe0 ? 1 : c >= 0xe0 && c < 0xf0 ? 2 : c >= 0xf0 && c < 0xf5 ? 3 : -1;
    if (n < 0) return i;
    for (let k = 1; k <= n; k++) if (i + k >= b.length || (b[i + k]! & 0xc0) !== 0x80) return i;
    i += n + 1;
  }
  return -1;
}

/** Claim XML is UTF-8 by regulation (QĐ 130 Art. 1); anything else is refused with the byte offset. */
export function decodeClaimText(bytes: Uint8Array, where: string): { text?: string; issues: Issue[] } {
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    return { issues: [issue('error', 'invalid', 'UTF-16 content is not accepted: claim XML must be UTF-8', where)] };
  }
  const head = Buffer.from(bytes.subarray(0, 200)).toString('latin1');
  const declared = /^\uFEFF?\s*<\?xml[^>]*?encoding\s*=\s*["']([^"']+)["']/i.exec(head.replace(/^\xEF\xBB\xBF/, ''))?.[1];
  const declaredUtf8 = !declared || /^utf-?8$/i.test(declared);
  try {
    const text = utf8.decode(bytes);
    return declaredUtf8
      ? { text, issues: [] }
      : { text, issues: [issue('warning', 'value', `declares encoding "${declared}" but the content is valid UTF-8; read as UTF-8`, where)] };
  } catch {
    const at = firstInvalidUtf8(bytes);
    const why = declaredUtf8 ? '' : ` (declared encoding "${declared}")`;
    return { issues: [issue('error', 'invalid', `not valid UTF-8 at byte ${at}${why}: claim XML must be UTF-8`, where)] };
  }
}

// ---------------------------------------------------------------- one table
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function decodeBase64(text: string, where: string): { bytes?: Buffer; issues: Issue[] } {
  const s = text.replace(/\s+/g, '');
  if (!s) return { issues: [issue('error', 'required', 'NOIDUNGFILE is empty', where)] };
  if (!BASE64.test(s) || s.length % 4 !== 0) {
    const bad = s.search(/[^A-Za-z0-9+/=]/);
    const why = bad >= 0 ? `character ${JSON.stringify(s[bad])} at position ${bad}` : `length ${s.length} is not a multiple of 4 (truncated?)`;
    return { issues: [issue('error', 'invalid', `NOIDUNGFILE is not valid base64: ${why}`, where)] };
  }
  return { bytes: Buffer.from(s, 'base64'), issues: [] };
}

function isRecord(el: XmlElement): boolean {
  return el.children.length > 0 && el.children.every((c) => c.children.length === 0);
}

/**
 * Records are the elements whose children are all fields; the wrappers above them vary by version.
 * CHUKYDONVI (the facility's signature, XML0/XML12) is not data.
 */
function collectRecords(el: XmlElement, into: Row[]): void {
  if (el.name === 'CHUKYDONVI') return;
  if (isRecord(el)) {
    const row: Record<string, string> = {};
    for (const f of el.children) if (!(f.name in row)) row[f.name] = f.text.trim();
    into.push(row);
  } else for (const c of el.children) collectRecords(c, into);
}

function xmlIssue(e: unknown, where: string): Issue {
  if (e instanceof XmlError) return issue('error', e.code, e.message, where);
  throw e;
}

/** Parses one inner table document; `expected` is the LOAIHOSO it was declared as, if any. */
export function parseTable(bytes: Uint8Array, where: string, expected: TableName | undefined, limits: XmlLimits = DEFAULT_XML_LIMITS): { table?: TableName; rows: Row[]; issues: Issue[] } {
  const { text, issues } = decodeClaimText(bytes, where);
  if (text === undefined) return { rows: [], issues };
  if (!text.trim()) return { rows: [], issues: [...issues, issue('error', 'required', 'empty table document', where)] };
  let root: XmlElement;
  try {
    root = readXml(text, limits);
  } catch (e) {
    return { rows: [], issues: [...issues, xmlIssue(e, where)] };
  }
  const table = tableForRoot(root.name);
  if (!table || (expected && table !== expected)) {
    const want = expected ? ` (LOAIHOSO ${expected} expects <${TABLE_ELEMENTS[expected].root}>)` : '';
    return { rows: [], issues: [...issues, issue('error', 'structure', `unexpected root element <${root.name}>${want}`, where)] };
  }
  const rows: Row[] = [];
  collectRecords(root, rows);
  return { table, rows, issues };
}

// ---------------------------------------------------------------- versions
/** 4210 files use MA_THE / MA_BENH and 8-character birth dates; 3176 renamed XML13's facility fields. */
export function detectVersion(tables: Partial<Record<TableName, Row[]>>): ClaimVersion {
  const x1 = tables.XML1?.[0];
  if (x1 && (('MA_THE' in x1 && !('MA_THE_BHYT' in x1)) || ('MA_BENH' in x1 && !('MA_BENH_CHINH' in x1)) || x1.NGAY_SINH?.length === 8)) return '4210';
  if (tables.XML13?.some((r) => 'MA_CSKCB_DI' in r || 'MA_CSKCB_DEN' in r)) return '3176';
  return '130/4750';
}

/** Renames legacy fields to their QĐ 4750 names so the mapper sees one shape. */
export function normalise(tables: Partial<Record<TableName, Row[]>>, version: ClaimVersion): Partial<Record<TableName, Row[]>> {
  if (version === '130/4750') return tables;
  const renames = FIELD_RENAMES[version];
  const out: Partial<Record<TableName, Row[]>> = {};
  for (const t of Object.keys(tables) as TableName[]) {
    const rn = renames[t] ?? {};
    const fixes = version === '4210' ? LEGACY_VALUE_FIXES[t] ?? {} : {};
    out[t] = tables[t]!.map((row) => {
      const r: Record<string, string> = {};
      for (const [k, v] of Object.entries(row)) {
        const name = rn[k] ?? k;
        if (!(name in r) || rn[k]) r[name] = fixes[name] ? fixes[name]!(v) : v;
      }
      return r;
    });
  }
  return out;
}

// ---------------------------------------------------------------- one HOSO
function parseHoso(segment: Uint8Array, index: number, facility: string, limits: XmlLimits): HosoResult {
  const where = `HOSO[${index}]`;
  const issues: Issue[] = [];
  const fail = (i: Issue): HosoResult => ({ index, facility, sourceKey: '', issues: [...issues, i] });
  let hoso: XmlElement;
  try {
    hoso = readXml(Buffer.from(segment.buffer, segment.byteOffset, segment.byteLength).toString('utf8'), limits);
  } catch (e) {
    return fail(xmlIssue(e, where));
  }
  const tables: Partial<Record<TableName, Row[]>> = {};
  hoso.children.filter((c) => c.name === 'FILEHOSO').forEach((file, j) => {
    const at = `${where}.FILEHOSO[${j}]`;
    const loai = childText(file, 'LOAIHOSO').toUpperCase();
    if (!(ENVELOPE_TABLES as readonly string[]).includes(loai)) {
      const why = loai === 'XML0' || loai === 'XML12' ? `${loai} is sent through its own VSS call, not inside GIAMDINHHS` : `unknown LOAIHOSO "${loai}"`;
      issues.push(issue('error', 'not-supported', why, `${at}.LOAIHOSO`));
      return;
    }
    const { bytes, issues: b64 } = decodeBase64(childText(file, 'NOIDUNGFILE'), `${at}.NOIDUNGFILE`);
    issues.push(...b64);
    if (!bytes) return;
    const parsed = parseTable(bytes, `${at}.NOIDUNGFILE`, loai as TableName, limits);
    issues.push(...parsed.issues);
    if (parsed.table) (tables[parsed.table] ??= []).push(...parsed.rows);
  });
  return finish(index, facility, tables, issues, where);
}

function finish(index: number, facility: string, raw: Partial<Record<TableName, Row[]>>, issues: Issue[], where: string): HosoResult {
  const version = detectVersion(raw);
  const tables = normalise(raw, version);
  const first = tables.XML1?.[0] ?? Object.values(tables).find((rows) => rows?.length)?.[0];
  const maLK = first?.MA_LK ?? '';
  const fac = facility || (tables.XML1 ?? tables.XML0)?.[0]?.MA_CSKCB || '';
  if (!first) issues.push(issue('error', 'required', 'no table could be read', where));
  return { index, facility: fac, sourceKey: maLK, issues, ...(first ? { records: { version, facility: fac, maLK, tables } } : {}) };
}

// ---------------------------------------------------------------- the file
class ByteWindow {
  buf: Buffer = Buffer.alloc(0);
  done = false;
  total = 0;
  private readonly it: AsyncIterator<Uint8Array> | Iterator<Uint8Array>;

  constructor(input: Uint8Array | AsyncIterable<Uint8Array>, private readonly maxBytes: number) {
    this.it = input instanceof Uint8Array ? [input][Symbol.iterator]() : input[Symbol.asyncIterator]();
  }

  /** Appends the next chunk; false at the end of input. Throws past the size limit. */
  async more(): Promise<boolean> {
    if (this.done) return false;
    const n = await this.it.next();
    if (n.done) { this.done = true; return false; }
    const chunk = Buffer.from(n.value.buffer, n.value.byteOffset, n.value.byteLength);
    this.total += chunk.length;
    if (this.total > this.maxBytes) throw new SizeError(`file is larger than ${this.maxBytes} bytes`);
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    return true;
  }

  drop(n: number): void {
    this.buf = this.buf.subarray(n);
  }
}

class SizeError extends Error {}

const HOSO_OPEN = Buffer.from('<HOSO');
const HOSO_CLOSE = Buffer.from('</HOSO>');

/** Index of `<HOSO>` / `<HOSO …>` (not `<HOSOX>`) at or after `from`. */
function findHosoOpen(buf: Buffer, from: number): number {
  for (let i = buf.indexOf(HOSO_OPEN, from); i !== -1; i = buf.indexOf(HOSO_OPEN, i + 1)) {
    const next = buf[i + HOSO_OPEN.length];
    if (next === undefined || next === 0x3e || next === 0x20 || next === 0x09 || next === 0x0a || next === 0x0d || next === 0x2f) return i;
  }
  return -1;
}

const fileIssue = (facility: string, i: Issue): HosoResult => ({ index: -1, facility, sourceKey: '', issues: [i] });

/**
 * Parses a claim file — a GIAMDINHHS envelope or one bare inner table — from bytes or a byte
 * stream, yielding one result per HOSO as soon as it is read. Problems with the file as a whole
 * (empty, not XML, DTD, truncated, too large) come as a result with `index` -1.
 */
export async function* parseClaimFile(input: Uint8Array | AsyncIterable<Uint8Array>, options: ParseOptions = {}): AsyncGenerator<HosoResult> {
  const o = { ...DEFAULTS, xml: DEFAULT_XML_LIMITS, ...options };
  const w = new ByteWindow(input, o.maxFileBytes);
  let facility = o.facility ?? '';
  try {
    // Enough bytes to see the root element's name.
    while (w.buf.length < 4096 && (await w.more()));
    const head = w.buf.subarray(0, Math.min(w.buf.length, o.maxHeaderBytes)).toString('latin1');
    if (!head.replace(/^\xEF\xBB\xBF/, '').trim()) {
      yield fileIssue(facility, issue('error', 'required', 'empty file', 'GIAMDINHHS'));
      return;
    }
    const prolog = head.replace(/^\xEF\xBB\xBF/, '').replace(/^\s*(<\?[\s\S]*?\?>\s*|<!--[\s\S]*?-->\s*)*/, '');
    if (/^<!(DOCTYPE|ENTITY)/i.test(prolog)) {
      yield fileIssue(facility, issue('error', 'security', 'DOCTYPE and entity declarations are not accepted', 'GIAMDINHHS'));
      return;
    }
    const rootName = /^<([A-Za-z_][\w.:-]*)/.exec(prolog)?.[1];
    if (!rootName) {
      yield fileIssue(facility, issue('error', 'structure', 'not an XML document (no root element)', 'GIAMDINHHS'));
      return;
    }
    if (rootName.replace(/^.*:/, '') !== 'GIAMDINHHS') {
      while (await w.more());
      const parsed = parseTable(w.buf, rootName, undefined, o.xml);
      if (parsed.table === 'XML0' && parsed.rows.length > 1) {
        // A check-in file lists one arrival per record: each is an episode of its own.
        for (const [i, row] of parsed.rows.entries()) yield finish(i, facility, { XML0: [row] }, i === 0 ? parsed.issues : [], `${rootName}[${i}]`);
        return;
      }
      const tables = parsed.table ? { [parsed.table]: parsed.rows } : {};
      yield finish(0, facility, tables, parsed.issues, rootName);
      return;
    }

    // Envelope header: everything before the first HOSO.
    let start = findHosoOpen(w.buf, 0);
    while (start === -1 && w.buf.length <= o.maxHeaderBytes && (await w.more())) start = findHosoOpen(w.buf, 0);
    const header = w.buf.subarray(0, start === -1 ? Math.min(w.buf.length, o.maxHeaderBytes) : start).toString('utf8');
    const declared = /<MACSKCB>\s*([^<\s]*)\s*<\/MACSKCB>/.exec(header)?.[1] ?? '';
    if (declared && facility && declared !== facility) {
      yield fileIssue(facility, issue('error', 'security', `the envelope's MACSKCB ${declared} is not the sending facility ${facility}`, 'GIAMDINHHS.THONGTINDONVI.MACSKCB'));
      return;
    }
    facility = declared || facility;
    const count = /<SOLUONGHOSO>\s*([0-9]+)\s*<\/SOLUONGHOSO>/.exec(header)?.[1];
    if (start === -1) {
      yield fileIssue(facility, issue('error', 'required', 'the envelope holds no HOSO', 'GIAMDINHHS.THONGTINHOSO.DANHSACHHOSO'));
      return;
    }

    let index = 0;
    while (start !== -1) {
      w.drop(start);
      let end = w.buf.indexOf(HOSO_CLOSE);
      let scanFrom = Math.max(0, w.buf.length - HOSO_CLOSE.length);
      while (end === -1 && w.buf.length <= o.maxHosoBytes && (await w.more())) {
        end = w.buf.indexOf(HOSO_CLOSE, scanFrom);
        scanFrom = Math.max(0, w.buf.length - HOSO_CLOSE.length);
      }
      if (end === -1) {
        const why = w.done ? 'file ends inside this HOSO (truncated?)' : `HOSO is larger than ${o.maxHosoBytes} bytes`;
        yield { index, facility, sourceKey: '', issues: [issue('error', w.done ? 'structure' : 'too-costly', why, `HOSO[${index}]`)] };
        return;
      }
      const stop = end + HOSO_CLOSE.length;
      yield parseHoso(w.buf.subarray(0, stop), index, facility, o.xml);
      index++;
      w.drop(stop);
      start = findHosoOpen(w.buf, 0);
      while (start === -1 && !w.done) {
        // Scan only what arrived, and keep a bounded tail (enough for a split "<HOSO" tag and the
        // closing </GIAMDINHHS>), so junk between or after HOSO costs linear time and fixed memory.
        if (w.buf.length > o.maxHeaderBytes) w.drop(w.buf.length - o.maxHeaderBytes);
        const from = Math.max(0, w.buf.length - HOSO_OPEN.length);
        if (await w.more()) start = findHosoOpen(w.buf, from);
      }
    }
    while (await w.more());
    const tail = w.buf.toString('utf8');
    if (!/<\/(\w+:)?GIAMDINHHS>\s*$/.test(tail)) {
      yield fileIssue(facility, issue('error', 'structure', 'the file does not end with </GIAMDINHHS> (truncated?)', 'GIAMDINHHS'));
    } else if (count !== undefined && Number(count) !== index) {
      yield fileIssue(facility, issue('warning', 'value', `SOLUONGHOSO says ${count} but the file holds ${index} HOSO`, 'GIAMDINHHS.THONGTINHOSO.SOLUONGHOSO'));
    }
  } catch (e) {
    if (!(e instanceof SizeError)) throw e;
    yield fileIssue(facility, issue('error', 'too-costly', e.message, 'GIAMDINHHS'));
  }
}
