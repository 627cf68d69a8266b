import { isUtf8 } from 'node:buffer';
import * as iconv from 'iconv-lite';
import { issue, type Issue } from '../../fhir/outcome';

/**
 * Bytes → text before any HL7 parsing, because delimiters are only safe to find once the
 * bytes are characters. MSH-18 names the character set; a source configured with a legacy
 * encoding (Windows-1258, TCVN3, VISCII from older Vietnamese HIS) overrides it, because such
 * systems usually leave MSH-18 empty or declare 8859/1 while sending something else.
 */
export interface DecodedText {
  text: string;
  /** The encoding actually used, as an iconv-lite / Node name. */
  charset: string;
  issues: Issue[];
}

/** HL7 table 0211 names → decoder names. */
const MSH18: Record<string, string> = {
  'ASCII': 'ascii',
  '8859/1': 'latin1',
  '8859/2': 'iso-8859-2',
  '8859/3': 'iso-8859-3',
  '8859/4': 'iso-8859-4',
  '8859/5': 'iso-8859-5',
  '8859/6': 'iso-8859-6',
  '8859/7': 'iso-8859-7',
  '8859/8': 'iso-8859-8',
  '8859/9': 'iso-8859-9',
  '8859/15': 'iso-8859-15',
  'UNICODE UTF-8': 'utf8',
  'UNICODE': 'utf8',
  'UTF-8': 'utf8',
};

/** Reads MSH-18 from the raw bytes: the header is ASCII whatever the payload's encoding. */
export function declaredCharset(raw: Buffer): string {
  const start = raw.indexOf('MSH');
  if (start < 0 || raw.length < start + 8) return '';
  let end = start;
  while (end < raw.length && end - start < 4096 && raw[end] !== 0x0d && raw[end] !== 0x0a) end++;
  const header = raw.toString('latin1', start, end);
  const fieldSep = header[3]!;
  const parts = header.split(fieldSep);
  // parts[0] is "MSH" and parts[1] is MSH-2, so MSH-n is parts[n - 1].
  const value = parts[17] ?? '';
  const first = value.split(/[~^]/)[0] ?? '';
  return first.trim().toUpperCase();
}

export function decodeHl7Bytes(raw: Buffer, configuredCharset?: string): DecodedText {
  const issues: Issue[] = [];
  let bytes = raw;
  if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);

  if (configuredCharset) {
    if (!iconv.encodingExists(configuredCharset)) {
      issues.push(issue('error', 'not-supported', `Configured character set '${configuredCharset}' is not known`, 'MSH-18'));
      return { text: bytes.toString('latin1'), charset: 'latin1', issues };
    }
    // Legacy Vietnamese code pages carry tone marks as combining characters: compose them so
    // names compare equal to the same name typed on a Unicode system.
    return { text: iconv.decode(bytes, configuredCharset).normalize('NFC'), charset: configuredCharset, issues };
  }

  const declared = declaredCharset(bytes);
  const name = declared ? MSH18[declared] ?? (iconv.encodingExists(declared) ? declared : undefined) : undefined;
  if (declared && !name) {
    issues.push(issue('warning', 'not-supported', `MSH-18 character set '${declared}' is not supported; read as UTF-8 or Latin-1`, 'MSH-18'));
  }
  if (name === 'utf8' || name === 'ascii' || !name) {
    if (isUtf8(bytes)) return { text: bytes.toString('utf8'), charset: 'utf8', issues };
    issues.push(issue('warning', 'value', `Message is not valid ${name === 'ascii' ? 'ASCII' : 'UTF-8'}; read as Latin-1`, 'MSH-18'));
    return { text: bytes.toString('latin1'), charset: 'latin1', issues };
  }
  if (name === 'latin1') return { text: bytes.toString('latin1'), charset: 'latin1', issues };
  return { text: iconv.decode(bytes, name), charset: name, issues };
}

/** Text → bytes in the charset the message came in, so an ACK reads back the way it was sent. */
export function encodeHl7Text(text: string, charset: string): Buffer {
  if (charset === 'utf8' || charset === 'ascii') return Buffer.from(text, 'utf8');
  if (charset === 'latin1') return Buffer.from(text, 'latin1');
  return iconv.encode(text, charset);
}
