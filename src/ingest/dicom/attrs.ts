import * as dicomParser from 'dicom-parser';
import * as iconv from 'iconv-lite';

/**
 * One reading interface over both inputs (a Part 10 data set and a DICOM JSON object), so
 * the mapping is written once. Tags are 8 upper-case hex digits, as in DICOM JSON.
 */
export interface DicomAttrs {
  /** The value as text (multiple values joined by `\`), '' when absent or empty. */
  text(tag: string): string;
  items(tag: string): DicomAttrs[];
}

/** Specific Character Set (0008,0005) defined terms → decoders. ISO 2022 code extensions are not. */
const CHARSETS: Record<string, string> = {
  '': 'latin1', 'ISO_IR 6': 'latin1', 'ISO 2022 IR 6': 'latin1',
  'ISO_IR 100': 'latin1', 'ISO 2022 IR 100': 'latin1', 'ISO_IR 101': 'iso-8859-2', 'ISO_IR 109': 'iso-8859-3',
  'ISO_IR 110': 'iso-8859-4', 'ISO_IR 144': 'iso-8859-5', 'ISO 2022 IR 144': 'iso-8859-5', 'ISO_IR 127': 'iso-8859-6',
  'ISO_IR 126': 'iso-8859-7', 'ISO 2022 IR 126': 'iso-8859-7', 'ISO_IR 138': 'iso-8859-8', 'ISO 2022 IR 138': 'iso-8859-8',
  'ISO_IR 148': 'iso-8859-9', 'ISO_IR 203': 'iso-8859-15', 'ISO_IR 166': 'tis-620', 'ISO_IR 13': 'shift_jis',
  'ISO_IR 192': 'utf8', 'GB18030': 'gb18030', 'GBK': 'gbk',
};

/** The decoder for a Specific Character Set value, or undefined when it is not supported. */
export function charsetFor(specific: string): string | undefined {
  const terms = specific.split('\\').map((t) => t.trim());
  return CHARSETS[terms[0] || terms[1] || ''];
}

const TEXT_VRS = new Set(['PN', 'LO', 'SH', 'ST', 'LT', 'UT', 'UC']);

export function part10Attrs(ds: dicomParser.DataSet, charset: string): DicomAttrs {
  return {
    text(tag) {
      const el = ds.elements[`x${tag.toLowerCase()}`];
      // UN: some writers send known text attributes with an unknown VR; read them as text.
      if (!el || !el.length || el.items) return '';
      const vr = el.vr ?? '';
      if (vr === 'IS' || vr === 'DS' || vr === 'UI' || vr === 'CS' || vr === 'DA' || vr === 'TM' || vr === 'DT' || vr === 'AS' || vr === 'UN' || !vr || TEXT_VRS.has(vr)) {
        const bytes = Buffer.from(ds.byteArray.buffer, ds.byteArray.byteOffset + el.dataOffset, Math.min(el.length, ds.byteArray.length - el.dataOffset));
        const raw = TEXT_VRS.has(vr) && charset !== 'latin1' ? iconv.decode(bytes, charset) : bytes.toString('latin1');
        // Values are padded to an even length, some writers with NUL: strip it from each value.
        const value = raw.replace(/[\0 ]+(?=\\|$)/g, '').trim();
        // PN groups are Alphabetic=Ideographic=Phonetic; DICOM JSON's Alphabetic is the first.
        return vr === 'PN' ? value.split('=')[0]!.trim() : value;
      }
      if (vr === 'US') return String(ds.uint16(`x${tag.toLowerCase()}`) ?? '');
      if (vr === 'UL') return String(ds.uint32(`x${tag.toLowerCase()}`) ?? '');
      return '';
    },
    items(tag) {
      const el = ds.elements[`x${tag.toLowerCase()}`];
      return (el?.items ?? []).filter((i) => i.dataSet).map((i) => part10Attrs(i.dataSet!, charset));
    },
  };
}

type JsonElement = { vr?: string; Value?: unknown[] };

function jsonValue(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') {
    const pn = v as { Alphabetic?: string };
    return typeof pn.Alphabetic === 'string' ? pn.Alphabetic : '';
  }
  return String(v);
}

export function jsonAttrs(obj: Record<string, JsonElement>): DicomAttrs {
  return {
    text(tag) {
      const el = obj[tag];
      if (!el || !Array.isArray(el.Value) || el.vr === 'SQ') return '';
      return el.Value.map((v) => jsonValue(v).replace(/\0+$/, '')).join('\\').trim();
    },
    items(tag) {
      const el = obj[tag];
      if (!el || el.vr !== 'SQ' || !Array.isArray(el.Value)) return [];
      return el.Value.filter((v): v is Record<string, JsonElement> => !!v && typeof v === 'object').map(jsonAttrs);
    },
  };
}
