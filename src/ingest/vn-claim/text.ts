import { issue } from '../../fhir/outcome';
import type { Issue } from '../../fhir/outcome';

/** Bytes → text for claim documents: base64 of NOIDUNGFILE, then UTF-8 and nothing else. */
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

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export function decodeBase64(text: string, where: string): { bytes?: Buffer; issues: Issue[] } {
  const s = text.replace(/\s+/g, '');
  if (!s) return { issues: [issue('error', 'required', 'NOIDUNGFILE is empty', where)] };
  if (!BASE64.test(s) || s.length % 4 !== 0) {
    const bad = s.search(/[^A-Za-z0-9+/=]/);
    const why = bad >= 0 ? `character ${JSON.stringify(s[bad])} at position ${bad}` : `length ${s.length} is not a multiple of 4 (truncated?)`;
    return { issues: [issue('error', 'invalid', `NOIDUNGFILE is not valid base64: ${why}`, where)] };
  }
  return { bytes: Buffer.from(s, 'base64'), issues: [] };
}

