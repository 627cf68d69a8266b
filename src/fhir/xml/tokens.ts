import { FhirError, issue } from '../outcome';

/**
 * A small, strict XML reader for FHIR payloads: namespaces, attributes, character references,
 * CDATA and comments; no DTD, no entity declarations (refused outright, which rules out
 * entity-expansion attacks), bounded depth. Each element keeps its source span so that the
 * narrative XHTML can be carried over byte for byte.
 */
export interface XmlElement {
  /** Local name, without prefix. */
  name: string;
  ns: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** Non-whitespace character data directly inside this element, if any. */
  text: string;
  /** The same, one entry per run of character data between child elements. */
  chunks: string[];
  start: number;
  end: number;
}

export const MAX_XML_DEPTH = 256;
const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

export function lineCol(src: string, offset: number): string {
  let line = 1;
  let last = -1;
  for (let i = 0; i < offset && i < src.length; i++) {
    if (src.charCodeAt(i) === 10) {
      line++;
      last = i;
    }
  }
  return `line ${line}, column ${offset - last}`;
}

function fail(src: string, at: number, msg: string): never {
  throw new FhirError(400, [issue('fatal', 'structure', `XML error at ${lineCol(src, at)}: ${msg}`, `(${lineCol(src, at)})`)]);
}

function isNameChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 45 || c === 46 || c === 58 || c > 127;
}

export function decodeEntities(src: string, raw: string, at: number): string {
  if (raw.indexOf('&') < 0) return raw;
  return raw.replace(/&([^;&\s]{0,12});?/g, (m, name: string) => {
    if (!m.endsWith(';')) fail(src, at, `unterminated character reference '${m}'`);
    if (name.startsWith('#x')) {
      const n = parseInt(name.slice(2), 16);
      if (!Number.isFinite(n) || n > 0x10ffff) fail(src, at, `bad character reference '${m}'`);
      return String.fromCodePoint(n);
    }
    if (name.startsWith('#')) {
      const n = parseInt(name.slice(1), 10);
      if (!Number.isFinite(n) || n > 0x10ffff) fail(src, at, `bad character reference '${m}'`);
      return String.fromCodePoint(n);
    }
    const v = PREDEFINED[name];
    if (v === undefined) fail(src, at, `undeclared entity '${m}' (entities are not supported)`);
    return v;
  });
}

/** Parses a whole document to its root element; throws FhirError 400 with a location. */
export function readXml(src: string): XmlElement {
  let i = 0;
  const n = src.length;
  const stack: { el: XmlElement; prefixes: Record<string, string>; qname: string }[] = [];
  let root: XmlElement | undefined;
  while (i < n) {
    const lt = src.indexOf('<', i);
    const textEnd = lt < 0 ? n : lt;
    if (textEnd > i) {
      const raw = src.slice(i, textEnd);
      const top = stack[stack.length - 1];
      if (!top) {
        if (/\S/.test(raw)) fail(src, i, 'text outside the root element');
      } else if (/\S/.test(raw)) {
        const t = decodeEntities(src, raw, i);
        top.el.text += t;
        top.el.chunks.push(t.trim());
      }
    }
    if (lt < 0) break;
    i = lt;
    if (src.startsWith('<!--', i)) {
      const e = src.indexOf('-->', i + 4);
      if (e < 0) fail(src, i, 'unterminated comment');
      i = e + 3;
    } else if (src.startsWith('<![CDATA[', i)) {
      const e = src.indexOf(']]>', i + 9);
      if (e < 0) fail(src, i, 'unterminated CDATA section');
      const top = stack[stack.length - 1];
      if (!top) fail(src, i, 'CDATA outside the root element');
      top.el.text += src.slice(i + 9, e);
      top.el.chunks.push(src.slice(i + 9, e));
      i = e + 3;
    } else if (src.startsWith('<?', i)) {
      const e = src.indexOf('?>', i + 2);
      if (e < 0) fail(src, i, 'unterminated processing instruction');
      i = e + 2;
    } else if (src.startsWith('<!', i)) {
      fail(src, i, 'DTDs and entity declarations are not allowed');
    } else if (src.charCodeAt(i + 1) === 47) {
      let j = i + 2;
      while (j < n && isNameChar(src.charCodeAt(j))) j++;
      const qname = src.slice(i + 2, j);
      while (j < n && /\s/.test(src[j]!)) j++;
      if (src.charCodeAt(j) !== 62) fail(src, j, `malformed end tag </${qname}`);
      const top = stack.pop();
      if (!top || top.qname !== qname) fail(src, i, `end tag </${qname}> does not match <${top?.qname ?? 'nothing'}>`);
      top.el.end = j + 1;
      i = j + 1;
    } else {
      i = startTag(src, i, stack, (el) => {
        if (root) fail(src, el.start, 'more than one root element');
        root = el;
      });
    }
  }
  if (stack.length) fail(src, n, `element <${stack[stack.length - 1]!.qname}> is not closed`);
  if (!root) fail(src, 0, 'no root element');
  return root;
}

function startTag(
  src: string,
  at: number,
  stack: { el: XmlElement; prefixes: Record<string, string>; qname: string }[],
  onRoot: (el: XmlElement) => void,
): number {
  const n = src.length;
  let j = at + 1;
  while (j < n && isNameChar(src.charCodeAt(j))) j++;
  const qname = src.slice(at + 1, j);
  if (!qname) fail(src, at, "'<' not followed by a name");
  const rawAttrs: [string, string, number][] = [];
  for (;;) {
    const ws = j;
    while (j < n && (src.charCodeAt(j) === 32 || src.charCodeAt(j) === 9 || src.charCodeAt(j) === 10 || src.charCodeAt(j) === 13)) j++;
    const c = src.charCodeAt(j);
    if (c === 62 || (c === 47 && src.charCodeAt(j + 1) === 62)) break;
    if (j === ws || j >= n) fail(src, j, `malformed start tag <${qname}`);
    const ns = j;
    while (j < n && isNameChar(src.charCodeAt(j))) j++;
    const an = src.slice(ns, j);
    while (j < n && /\s/.test(src[j]!)) j++;
    if (!an || src.charCodeAt(j) !== 61) fail(src, j, `attribute without a value in <${qname}`);
    j++;
    while (j < n && /\s/.test(src[j]!)) j++;
    const q = src[j];
    if (q !== '"' && q !== "'") fail(src, j, `unquoted attribute value in <${qname}`);
    const e = src.indexOf(q, j + 1);
    if (e < 0) fail(src, j, 'unterminated attribute value');
    const raw = src.slice(j + 1, e);
    if (raw.includes('<')) fail(src, j, "'<' in an attribute value");
    if (rawAttrs.some((a) => a[0] === an)) fail(src, ns, `duplicate attribute '${an}'`);
    rawAttrs.push([an, decodeEntities(src, raw, j), ns]);
    j = e + 1;
  }
  const selfClosing = src.charCodeAt(j) === 47;
  const end = selfClosing ? j + 2 : j + 1;
  const parent = stack[stack.length - 1];
  let prefixes = parent ? parent.prefixes : { xml: 'http://www.w3.org/XML/1998/namespace' };
  const attrs: Record<string, string> = Object.create(null) as Record<string, string>;
  let copied = false;
  for (const [an, v] of rawAttrs) {
    if (an === 'xmlns' || an.startsWith('xmlns:')) {
      if (!copied) {
        prefixes = { ...prefixes };
        copied = true;
      }
      prefixes[an === 'xmlns' ? '' : an.slice(6)] = v;
    }
  }
  for (const [an, v, pos] of rawAttrs) {
    if (an === 'xmlns' || an.startsWith('xmlns:')) continue;
    const colon = an.indexOf(':');
    if (colon > 0 && prefixes[an.slice(0, colon)] === undefined) fail(src, pos, `undeclared namespace prefix in '${an}'`);
    attrs[colon > 0 && an.slice(0, colon) !== 'xml' ? an.slice(colon + 1) : an] = v;
  }
  const colon = qname.indexOf(':');
  const prefix = colon > 0 ? qname.slice(0, colon) : '';
  const ns = prefixes[prefix];
  if (ns === undefined && prefix) fail(src, at, `undeclared namespace prefix '${prefix}'`);
  const el: XmlElement = { name: colon > 0 ? qname.slice(colon + 1) : qname, ns: ns ?? '', attrs, children: [], text: '', chunks: [], start: at, end };
  if (parent) parent.el.children.push(el);
  else onRoot(el);
  if (!selfClosing) {
    if (stack.length >= MAX_XML_DEPTH) fail(src, at, `nesting deeper than ${MAX_XML_DEPTH} elements`);
    stack.push({ el, prefixes, qname });
  }
  return end;
}
