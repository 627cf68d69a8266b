import { isResourceType } from '../definitions';
import { FhirError, issue } from '../outcome';
import { typeNode, type ElementRule, type TypeNode } from '../../validation/model';
import { lineCol, readXml, type XmlElement } from './tokens';

/**
 * FHIR XML → FHIR JSON, by the spec's rules: primitives carry `value` (and `id`) attributes and
 * extension children, which become `_name` companions; Element.id and Extension.url are
 * attributes; resources sit inside a container element; the narrative `div` is kept as its
 * XHTML text. Shape errors that JSON could also carry (unknown element, bad boolean) are left
 * in the result for the validator to report at the same FHIRPath location as for JSON.
 */
export const FHIR_NS = 'http://hl7.org/fhir';
export const XHTML_NS = 'http://www.w3.org/1999/xhtml';

export function parseFhirXml(text: string): unknown {
  const src = text.replace(/^\uFEFF/, '');
  const root = readXml(src);
  if (root.ns !== FHIR_NS) fail(src, root, `The root element must be in the FHIR namespace '${FHIR_NS}', not '${root.ns}'`);
  return resource(src, root);
}

function fail(src: string, el: XmlElement, msg: string): never {
  throw new FhirError(400, [issue('fatal', 'structure', `${msg} (at ${lineCol(src, el.start)})`, `(${lineCol(src, el.start)})`)]);
}

function resource(src: string, el: XmlElement): Record<string, unknown> {
  const out: Record<string, unknown> = { resourceType: el.name };
  const node = isResourceType(el.name) ? typeNode(el.name) : undefined;
  if (!node) fail(src, el, `Unknown resource type '${el.name}'`);
  fill(src, el, node, out, true);
  return out;
}

type Slot = { values: unknown[]; companions: (Record<string, unknown> | null)[]; rule?: ElementRule };

function fill(src: string, el: XmlElement, node: TypeNode, out: Record<string, unknown>, isResource: boolean): void {
  for (const a in el.attrs) {
    if (a === 'id' && !isResource) out.id = el.attrs[a];
    else if (a === 'url' && node.name === 'Extension') out.url = el.attrs[a];
    else out[`@${a}`] = el.attrs[a]; // surfaces as an unknown property
  }
  if (el.chunks.length) out['#text'] = el.chunks;
  const slots = new Map<string, Slot>();
  for (const child of el.children) {
    const rule = node.elements[child.name];
    const narrative = rule?.typeCode === 'xhtml' && child.ns === XHTML_NS;
    if (child.ns !== FHIR_NS && !narrative) {
      out[child.name] = `(element in namespace '${child.ns}')`;
      continue;
    }
    let slot = slots.get(child.name);
    if (!slot) {
      slot = { values: [], companions: [], rule };
      slots.set(child.name, slot);
    }
    if (!rule) {
      slot.values.push(generic(child));
      slot.companions.push(null);
    } else if (rule.typeCode === 'xhtml') {
      slot.values.push(xhtml(src, child));
      slot.companions.push(null);
    } else if (rule.primitive) {
      const v = child.attrs.value;
      slot.values.push(v === undefined ? null : primitiveValue(rule, v));
      const comp: Record<string, unknown> = {};
      if (child.attrs.id !== undefined) comp.id = child.attrs.id;
      for (const a in child.attrs) if (a !== 'id' && a !== 'value') comp[`@${a}`] = child.attrs[a];
      // extensions, and anything else a primitive should not hold (reported as unknown)
      Object.assign(comp, elementTypeChildren(src, child));
      slot.companions.push(Object.keys(comp).length ? comp : null);
    } else if (rule.typeCode === 'Resource' || rule.typeCode === 'DomainResource') {
      const inner = child.children;
      if (inner.length !== 1) fail(src, child, `<${child.name}> must contain exactly one resource`);
      slot.values.push(resource(src, inner[0]!));
      slot.companions.push(null);
    } else {
      const sub = rule.node ?? typeNode(rule.typeCode);
      const obj: Record<string, unknown> = {};
      if (sub) fill(src, child, sub, obj, false);
      slot.values.push(obj);
      slot.companions.push(null);
    }
  }
  for (const [name, s] of slots) {
    const array = s.rule ? s.rule.array : s.values.length > 1;
    const hasValue = s.values.some((v) => v !== null);
    const hasComp = s.companions.some((c) => c !== null);
    if (array) {
      if (hasValue) out[name] = s.values;
      if (hasComp) out[`_${name}`] = s.companions;
    } else {
      // a repeated single element stays an array, for the validator to flag
      if (hasValue) out[name] = s.values.length === 1 ? s.values[0] : s.values;
      if (hasComp) out[`_${name}`] = s.companions.length === 1 ? s.companions[0] : s.companions;
    }
    if (!hasValue && !hasComp) {
      if (s.rule?.primitive) out[`_${name}`] = array ? s.companions.map(() => ({})) : {};
      else out[name] = {};
    }
  }
}

/** Extensions of a primitive (the only children it may have). */
function elementTypeChildren(src: string, el: XmlElement): Record<string, unknown> {
  const node = typeNode('Element');
  const out: Record<string, unknown> = {};
  if (node && el.children.length) fill(src, { ...el, attrs: {} }, node, out, false);
  return out;
}

function primitiveValue(rule: ElementRule, v: string): unknown {
  const json = rule.primitive!.json;
  if (json === 'boolean') return v === 'true' ? true : v === 'false' ? false : v;
  if (json === 'number') {
    return /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$/.test(v) ? Number(v) : v;
  }
  return v;
}

function xhtml(src: string, el: XmlElement): string {
  let raw = src.slice(el.start, el.end);
  if (el.ns === XHTML_NS && !/^<[^>]*\sxmlns\s*=/.test(raw)) raw = raw.replace(/^<([A-Za-z:]+)/, `<$1 xmlns="${XHTML_NS}"`);
  return raw;
}

/** An element the definitions do not know: its value attribute, or its children as an object. */
function generic(el: XmlElement): unknown {
  if (el.attrs.value !== undefined && el.children.length === 0) return el.attrs.value;
  const out: Record<string, unknown> = {};
  for (const c of el.children) out[c.name] = generic(c);
  return out;
}
