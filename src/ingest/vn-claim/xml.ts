/**
 * A deliberately small XML reader for the claim tables: elements, text, CDATA, comments and the
 * five predefined entities plus character references. It refuses DTDs (so no entity expansion,
 * no external entities) and stops at a depth and element-count limit, so hostile input costs
 * bounded time and memory. Attributes are read past and dropped (claim tables carry none that
 * matter); namespace prefixes are dropped from names.
 */

export interface XmlElement {
  name: string;
  children: XmlElement[];
  text: string;
}

export interface XmlLimits {
  maxDepth: number;
  maxElements: number;
}

export const DEFAULT_XML_LIMITS: XmlLimits = { maxDepth: 12, maxElements: 200_000 };

/** `code` is the OperationOutcome issue type: structure (malformed), security (DTD), too-costly (limits). */
export class XmlError extends Error {
  constructor(message: string, readonly line: number, readonly code: 'structure' | 'security' | 'too-costly' = 'structure') {
    super(`${message} (line ${line})`);
  }
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeEntities(s: string, lineAt: () => number): string {
  if (!s.includes('&')) return s;
  return s.replace(/&([^;&\s]{1,10});|&/g, (m, name: string | undefined) => {
    if (name === undefined) throw new XmlError("bare '&' in text", lineAt());
    if (name in ENTITIES) return ENTITIES[name]!;
    const num = /^#(x[0-9a-fA-F]{1,6}|[0-9]{1,7})$/.exec(name);
    if (num) {
      const cp = num[1]!.startsWith('x') ? parseInt(num[1]!.slice(1), 16) : parseInt(num[1]!, 10);
      if (cp > 0 && cp <= 0x10ffff) return String.fromCodePoint(cp);
    }
    throw new XmlError(`undefined entity ${m}`, lineAt());
  });
}

const localName = (qname: string): string => qname.slice(qname.indexOf(':') + 1);

/** Parses one document; throws XmlError with a line number on anything malformed or refused. */
export function readXml(text: string, limits: XmlLimits = DEFAULT_XML_LIMITS): XmlElement {
  let pos = 0;
  const lineAt = (at = pos): number => {
    let n = 1;
    for (let i = text.indexOf('\n'); i !== -1 && i < at; i = text.indexOf('\n', i + 1)) n++;
    return n;
  };
  const fail = (msg: string, at = pos, code?: XmlError['code']): never => { throw new XmlError(msg, lineAt(at), code); };
  const stack: XmlElement[] = [];
  const textParts: string[][] = [];
  let root: XmlElement | undefined;
  let count = 0;
  if (text.charCodeAt(0) === 0xfeff) pos = 1;

  while (pos < text.length) {
    const lt = text.indexOf('<', pos);
    const chunk = lt === -1 ? text.slice(pos) : text.slice(pos, lt);
    if (chunk) {
      if (stack.length) textParts[stack.length - 1]!.push(decodeEntities(chunk, () => lineAt()));
      else if (chunk.trim()) fail('text outside the root element');
    }
    if (lt === -1) break;
    pos = lt;
    if (text.startsWith('<![CDATA[', pos)) {
      const end = text.indexOf(']]>', pos + 9);
      if (end === -1) fail('unterminated CDATA section');
      if (!stack.length) fail('CDATA outside the root element');
      textParts[stack.length - 1]!.push(text.slice(pos + 9, end));
      pos = end + 3;
    } else if (text.startsWith('<!--', pos)) {
      const end = text.indexOf('-->', pos + 4);
      if (end === -1) fail('unterminated comment');
      pos = end + 3;
    } else if (text.startsWith('<!', pos)) {
      fail('DOCTYPE and entity declarations are not accepted', pos, 'security');
    } else if (text.startsWith('<?', pos)) {
      const end = text.indexOf('?>', pos + 2);
      if (end === -1) fail('unterminated processing instruction');
      pos = end + 2;
    } else if (text.startsWith('</', pos)) {
      const end = text.indexOf('>', pos);
      if (end === -1) fail('unterminated end tag');
      const name = localName(text.slice(pos + 2, end).trim());
      const open = stack.pop();
      if (!open || open.name !== name) fail(`end tag </${name}> does not match <${open?.name ?? ''}>`);
      const parts = textParts.pop()!;
      open!.text = parts.length === 1 ? parts[0]! : parts.join('');
      pos = end + 1;
    } else {
      // Start tag: skip attributes, honouring quotes so a '>' inside a value does not end it.
      let i = pos + 1;
      let quote = '';
      for (; i < text.length; i++) {
        const c = text[i];
        if (quote) { if (c === quote) quote = ''; }
        else if (c === '"' || c === "'") quote = c;
        else if (c === '>') break;
      }
      if (i >= text.length) fail('unterminated start tag');
      const selfClosing = text[i - 1] === '/';
      const inner = text.slice(pos + 1, selfClosing ? i - 1 : i);
      const m = /^[^\s/>]+/.exec(inner);
      if (!m) fail('element without a name');
      if (root && !stack.length) fail('more than one root element');
      if (++count > limits.maxElements) fail(`more than ${limits.maxElements} elements`, pos, 'too-costly');
      const el: XmlElement = { name: localName(m![0]), children: [], text: '' };
      if (stack.length) stack[stack.length - 1]!.children.push(el);
      else root = el;
      if (!selfClosing) {
        if (stack.length >= limits.maxDepth) fail(`nesting deeper than ${limits.maxDepth} levels`, pos, 'too-costly');
        stack.push(el);
        textParts.push([]);
      }
      pos = i + 1;
    }
  }
  if (stack.length) fail(`document ends inside <${stack[stack.length - 1]!.name}> (truncated?)`, text.length);
  if (!root) fail('no root element', 0);
  return root!;
}

/** The text of the first child with this name, trimmed; '' when absent. */
export function childText(el: XmlElement, name: string): string {
  return el.children.find((c) => c.name === name)?.text.trim() ?? '';
}
