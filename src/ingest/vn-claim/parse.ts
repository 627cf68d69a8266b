import type { Issue } from '../../fhir/outcome';
import { issue } from '../../fhir/outcome';
import { ENVELOPE_TABLES, FIELD_RENAMES, LEGACY_VALUE_FIXES, TABLE_ELEMENTS, tableForRoot } from './tables';
import type { ClaimVersion, TableName } from './tables';
import { decodeBase64, decodeClaimText } from './text';
import { ByteWindow, HOSO_CLOSE, HOSO_OPEN, SizeError, findHosoOpen } from './window';
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

// ---------------------------------------------------------------- one table
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
