import type { ElementRule } from './model';
import { codeSet } from './terminology';
import type { Walk } from './walk';

/**
 * Checks on values that the element tree cannot express: codes against bound value sets, and
 * the XHTML of a narrative (the txt-1/txt-2 invariants, whose `htmlChecks()` fhirpath lacks).
 */

function vsLabel(name: string, url: string): string {
  return `'${name}' (${url})`;
}

const TOKEN = "[A-Za-z0-9!#$&^_.+-]+";
/**
 * Value sets defined by a grammar rather than a list, so no expansion can hold them: BCP 13
 * MIME types (`type/subtype; parameters`). Their syntax is what can be checked.
 */
const GRAMMARS: Record<string, { name: string; pattern: RegExp }> = {
  // CapabilityStatement.format also takes the short forms xml, json and ttl
  // (parameters are taken as written: published examples carry unquoted spaces in them)
  'http://hl7.org/fhir/ValueSet/mimetypes': { name: 'MimeType', pattern: new RegExp(`^(xml|json|ttl|${TOKEN}/${TOKEN}(\\s*;.*)?)$`) },
};

function checkGrammar(w: Walk, valueSet: string, value: string): void {
  const g = GRAMMARS[valueSet.split('|')[0]!];
  if (!g || g.pattern.test(value)) return;
  reportCodeNotInSet(w, value, g.name, valueSet, '');
}

/** As the Java validator words it: it first fails to place the code in any system of the set. */
/** Value sets this small are listed in full when a code is not in them ("male | female | other | unknown"). */
const LISTED_CODES = 20;

/**
 * The same two issues the Java validator raises, but what a sender can act on first: the code
 * is wrong, and (for a short list like `gender`) which codes there are. The code-system
 * message is for those who read further.
 */
function reportCodeNotInSet(w: Walk, value: string, name: string, valueSet: string, allowed: string): void {
  w.report('error', 'code-invalid', `The value provided ('${value.slice(0, 100)}') was not found in the value set ${vsLabel(name, valueSet)}, and a code is required from this value set${allowed}`);
  w.report('error', 'code-invalid', `The System URI could not be determined for the code '${value.slice(0, 100)}' in the ValueSet '${valueSet}'`);
}

/**
 * Required bindings are enforced. An extensible binding gets a warning when a coding uses one of
 * the value set's own code systems with a code the set does not hold (other systems are what
 * "extensible" allows). Preferred and example bindings are not reported.
 */
export function checkCodedValue(w: Walk, r: ElementRule, value: unknown): void {
  const b = r.binding;
  if (!b) return;
  if (b.strength === 'extensible') return checkExtensible(w, r, value);
  if (b.strength !== 'required') return;
  const set = codeSet(b.valueSet);
  if (!set) {
    if (typeof value === 'string') checkGrammar(w, b.valueSet, value);
    return;
  }
  if (typeof value === 'string') {
    if (!set.codes.has(value)) reportCodeNotInSet(w, value, set.name, b.valueSet, set.codes.size <= LISTED_CODES ? `; allowed codes: ${[...set.codes].join(' | ')}` : '');
    return;
  }
  const v = value as Record<string, unknown>;
  if (r.typeCode === 'Coding') {
    if (typeof v.code === 'string' && !inSet(set, v)) {
      w.report('error', 'code-invalid', `The Coding provided (${String(v.system)}#${v.code}) was not found in the value set ${vsLabel(set.name, b.valueSet)}, and a code is required from this value set`);
    }
  } else if (r.typeCode === 'CodeableConcept') {
    const codings = Array.isArray(v.coding) ? (v.coding as Record<string, unknown>[]) : [];
    const coded = codings.filter((c) => c && typeof c.code === 'string');
    if (coded.length && !coded.some((c) => inSet(set, c))) {
      const codes = coded.map((c) => `${String(c.system ?? null)}#${String(c.code)}`).join(', ');
      w.report('error', 'code-invalid', `None of the codings provided are in the value set ${vsLabel(set.name, b.valueSet)}, and a coding from this value set is required) (codes = ${codes})`);
    }
  }
}

function checkExtensible(w: Walk, r: ElementRule, value: unknown): void {
  if (r.typeCode !== 'CodeableConcept' && r.typeCode !== 'Coding') return;
  const set = codeSet(r.binding!.valueSet);
  if (!set) return;
  const v = value as Record<string, unknown>;
  const codings = r.typeCode === 'Coding' ? [v] : Array.isArray(v.coding) ? (v.coding as Record<string, unknown>[]) : [];
  const own = codings.filter((c) => c && typeof c.code === 'string' && typeof c.system === 'string' && set.systems.has(c.system));
  if (own.length && !codings.some((c) => c && inSet(set, c))) {
    const codes = own.map((c) => `${String(c.system)}#${String(c.code)}`).join(', ');
    w.report('warning', 'code-invalid', `None of the codings provided are in the value set ${vsLabel(set.name, r.binding!.valueSet)}, and a coding should come from this value set unless it has no suitable code (codes = ${codes})`);
  }
}

function inSet(set: NonNullable<ReturnType<typeof codeSet>>, c: Record<string, unknown>): boolean {
  return typeof c.system === 'string' ? set.pairs.has(`${c.system}|${String(c.code)}`) : set.codes.has(String(c.code));
}

const XHTML_NS = 'http://www.w3.org/1999/xhtml';
const ALLOWED = new Set(
  'a abbr acronym address b bdo big blockquote br caption cite code col colgroup dd dfn div dl dt em h1 h2 h3 h4 h5 h6 hr i img li ol p pre q samp small span strong sub sup table tbody td tfoot th thead tr tt ul var'.split(' '),
);
const TAG = /<([A-Za-z][A-Za-z0-9:_-]*)([^<>]*)>/g;
const ATTR = /([^\s=/"']+)\s*(?:=\s*(?:"[^"]*"|'[^']*'|[^\s>]+))?/g;

export function checkXhtml(w: Walk, div: string): void {
  const start = div.trimStart();
  if (!start.startsWith('<div')) {
    w.report('error', 'invalid', `The narrative must start with a <div> element`);
    return;
  }
  TAG.lastIndex = 0;
  let m: RegExpExecArray | null;
  let first = true;
  let illegal = false;
  const entity = /&([^;\s&<]{1,32});/g.exec(div.replace(/&(lt|gt|amp|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);/g, ''));
  if (entity) w.report('error', 'invalid', `Invalid entity in the XHTML ('&${entity[1]};')`);
  while ((m = TAG.exec(div))) {
    const name = m[1]!.includes(':') ? m[1]!.split(':')[1]! : m[1]!;
    const attrs = m[2]!;
    if (first) {
      first = false;
      const ns = /\bxmlns\s*=\s*["']([^"']*)["']/.exec(attrs);
      if (!ns || ns[1] !== XHTML_NS) w.report('error', 'invalid', `Wrong namespace on the XHTML ('${ns?.[1] ?? ''}', should be '${XHTML_NS}')`);
    }
    if (!ALLOWED.has(name)) {
      w.report('error', 'invalid', `Illegal element name in the XHTML ('${name}')`);
      illegal = true;
      continue;
    }
    ATTR.lastIndex = 0;
    let a: RegExpExecArray | null;
    while ((a = ATTR.exec(attrs))) {
      const an = a[1]!.toLowerCase();
      if (an.startsWith('on')) {
        w.report('error', 'invalid', `Illegal attribute name in the XHTML ('${a[1]}' on '${name}')`);
        illegal = true;
      }
    }
  }
  if (illegal) {
    w.report('error', 'invariant', "Constraint failed: txt-1: 'The narrative SHALL contain only the basic html formatting elements and attributes described in chapters 7-11 (except section 4 of chapter 9) and 12 of the HTML 4.0 standard, <a> elements (either name or href), images and internally contained style attributes' (defined in http://hl7.org/fhir/StructureDefinition/Narrative)");
  }
  const text = div.replace(/<[^>]*>/g, '').replace(/&[a-zA-Z#0-9]+;/g, 'x');
  if (!/\S/.test(text) && !/<img\b/i.test(div)) {
    w.report('error', 'invariant', "Constraint failed: txt-2: 'The narrative SHALL have some non-whitespace content' (defined in http://hl7.org/fhir/StructureDefinition/Narrative)");
  }
}

const UUID_LOWER = /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const OID = /^urn:oid:[0-2](\.(0|[1-9][0-9]*))+$/;

/** urn:uuid: and urn:oid: values must be well-formed wherever a uri is allowed. */
export function checkUrn(w: Walk, s: string): void {
  if (s.startsWith('urn:uuid:') && !UUID_LOWER.test(s)) w.report('error', 'invalid', `UUIDs must be valid and lowercase (${s.slice(9, 109)})`);
  else if (s.startsWith('urn:oid:') && !OID.test(s)) w.report('error', 'invalid', `OIDs must be valid (${s.slice(8, 108)})`);
}

/** Markdown allows inline HTML, but FHIR's renderers escape it: a tag will show as text. */
export function checkMarkdownHtml(w: Walk, s: string, severity: 'warning' | 'error'): void {
  const at = s.search(/<[A-Za-z/!]/);
  if (at < 0) return;
  w.report(
    severity,
    'invalid',
    `The markdown contains content that appears to be an embedded HTML tag starting at '${s.slice(at, at + 2)}'. This will (or SHOULD) be escaped by the presentation layer. The content should be checked to confirm that this is the desired behaviour`,
  );
}

/** Hosts reserved for examples (RFC 2606) and the specification's own fictional company. */
const EXAMPLE_HOST = /^https?:\/\/([^/?#]*\.)?(example\.(org|com|net)|acme\.(com|org))([:/?#]|$)/i;

export function isExampleUrl(s: string): boolean {
  return EXAMPLE_HOST.test(s);
}

/** Attachment.size, when given with inline data, is the decoded length of that data. */
export function checkAttachment(w: Walk, att: Record<string, unknown>): void {
  if (typeof att.data !== 'string' || typeof att.size !== 'number') return;
  const b64 = att.data.replace(/\s/g, '');
  const actual = Math.floor((b64.length * 3) / 4) - (b64.endsWith('==') ? 2 : b64.endsWith('=') ? 1 : 0);
  if (actual !== att.size) {
    w.report('error', 'structure', `Stated Attachment Size ${att.size.toLocaleString('en-US')} does not match actual attachment size ${actual}`);
  }
}

const HTML_TAG = /<\s*\/?\s*[a-zA-Z][a-zA-Z0-9-]*(\s[^<>]*)?\/?>/;

/** With security checks on, plain strings must not carry HTML markup (a stored-XSS vector). */
export function checkNoHtml(w: Walk, s: string): void {
  if (s.includes('<') && HTML_TAG.test(s)) {
    w.report('error', 'security', 'The string value contains text that looks like embedded HTML tags, which are not allowed for security reasons in this context');
  }
}
