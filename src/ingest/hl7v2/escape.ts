import * as iconv from 'iconv-lite';

/** MSH-1 and MSH-2 of one message. `truncation` exists from v2.7 on. */
export interface Delimiters {
  field: string;
  component: string;
  repetition: string;
  escape: string;
  subcomponent: string;
  truncation: string;
}

export const DEFAULT_DELIMITERS: Delimiters = { field: '|', component: '^', repetition: '~', escape: '\\', subcomponent: '&', truncation: '' };

function hexText(hex: string, charset: string): string | undefined {
  if (hex.length % 2 !== 0 || !/^[0-9A-Fa-f]*$/.test(hex)) return undefined;
  const bytes = Buffer.from(hex, 'hex');
  if (charset === 'utf8' || charset === 'latin1' || charset === 'ascii') return bytes.toString(charset === 'ascii' ? 'latin1' : charset);
  return iconv.decode(bytes, charset);
}

/**
 * Decodes `\F\ \S\ \T\ \R\ \E\ \P\ \Xhh..\ \.br\` in one leaf value. Highlighting (`\H\ \N\`)
 * and layout commands other than line breaks carry no data and are dropped; anything else
 * unknown (local `\Z..\`, charset switches) is kept as written so nothing is silently lost.
 */
export function unescapeHl7(s: string, d: Delimiters, charset = 'utf8'): string {
  const e = d.escape;
  if (!e || s.indexOf(e) < 0) return s;
  let out = '';
  let i = 0;
  while (i < s.length) {
    const start = s.indexOf(e, i);
    if (start < 0) break;
    const end = s.indexOf(e, start + 1);
    if (end < 0) break;
    out += s.slice(i, start);
    const body = s.slice(start + 1, end);
    i = end + 1;
    switch (body) {
      case 'F': out += d.field; continue;
      case 'S': out += d.component; continue;
      case 'T': out += d.subcomponent; continue;
      case 'R': out += d.repetition; continue;
      case 'E': out += d.escape; continue;
      case 'P': out += d.truncation; continue;
      case 'H': case 'N': continue;
      case '.br': out += '\n'; continue;
    }
    const head = body[0];
    if (head === 'X') {
      const text = hexText(body.slice(1), charset);
      if (text !== undefined) { out += text; continue; }
    } else if (head === '.') {
      if (body.startsWith('.sp')) out += '\n';
      if (/^\.(sp|in|ti|sk|fi|nf|ce)/.test(body)) continue;
    }
    out += e + body + e;
  }
  return out + s.slice(i);
}

/** The inverse for values this gateway writes (ACK text): delimiters and line breaks escaped. */
export function escapeHl7(s: string, d: Delimiters): string {
  let out = '';
  for (const ch of s) {
    if (ch === d.escape) out += `${d.escape}E${d.escape}`;
    else if (ch === d.field) out += `${d.escape}F${d.escape}`;
    else if (ch === d.component) out += `${d.escape}S${d.escape}`;
    else if (ch === d.subcomponent && ch) out += `${d.escape}T${d.escape}`;
    else if (ch === d.repetition) out += `${d.escape}R${d.escape}`;
    else if (ch === '\n') out += `${d.escape}.br${d.escape}`;
    else if (ch === '\r') continue;
    else out += ch;
  }
  return out;
}
