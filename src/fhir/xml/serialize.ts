import { FhirError } from '../outcome';
import { typeNode, type ElementRule, type TypeNode } from '../../validation/model';
import { FHIR_NS, XHTML_NS } from './parse';

/**
 * FHIR JSON → FHIR XML: elements in StructureDefinition order, primitives as `value`
 * attributes with their `_name` id and extensions, Element.id and Extension.url as attributes,
 * resources inside their container element, the narrative div written as the XHTML it holds.
 */
export function serializeFhirXml(resource: unknown): string {
  const r = resource as { resourceType?: unknown };
  const node = typeof r?.resourceType === 'string' ? typeNode(r.resourceType) : undefined;
  if (!node?.resource) throw new FhirError(400, 'Cannot write XML: not a known FHIR resource');
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>\n'];
  writeResource(out, r as Record<string, unknown>, node, true);
  return out.join('');
}

function esc(s: string): string {
  return s.replace(/[&<>"\r\n\t]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : `&#x${c.charCodeAt(0).toString(16)};`));
}

function writeResource(out: string[], res: Record<string, unknown>, node: TypeNode, root: boolean): void {
  const name = res.resourceType as string;
  out.push(`<${name} xmlns="${FHIR_NS}">`);
  writeChildren(out, res, node, true);
  out.push(`</${name}>`);
  if (root) out.push('\n');
}

function writeChildren(out: string[], obj: Record<string, unknown>, node: TypeNode, isResource: boolean): void {
  for (const key in node.elements) {
    const rule = node.elements[key]!;
    if (!isResource && (key === 'id' || (key === 'url' && node.name === 'Extension'))) continue;
    const v = obj[key];
    const comp = rule.primitive ? obj[`_${key}`] : undefined;
    if (v === undefined && comp === undefined) continue;
    const values = Array.isArray(v) ? v : v === undefined ? [] : [v];
    const comps = Array.isArray(comp) ? comp : comp === undefined ? [] : [comp];
    const n = Math.max(values.length, comps.length);
    for (let i = 0; i < n; i++) writeElement(out, key, rule, values[i], comps[i] as Record<string, unknown> | null | undefined);
  }
}

function writeElement(out: string[], key: string, rule: ElementRule, v: unknown, comp: Record<string, unknown> | null | undefined): void {
  if (rule.typeCode === 'xhtml') {
    if (typeof v === 'string') out.push(v.includes('xmlns') ? v : v.replace(/^<div/, `<div xmlns="${XHTML_NS}"`));
    return;
  }
  if (rule.primitive) {
    let attrs = '';
    if (comp && typeof comp.id === 'string') attrs += ` id="${esc(comp.id)}"`;
    if (v !== undefined && v !== null) attrs += ` value="${esc(String(v))}"`;
    const ext = comp && Array.isArray(comp.extension) ? comp.extension : undefined;
    if (!ext) {
      out.push(`<${key}${attrs}/>`);
      return;
    }
    out.push(`<${key}${attrs}>`);
    const extNode = typeNode('Extension')!;
    for (const e of ext) writeComplex(out, 'extension', e as Record<string, unknown>, extNode);
    out.push(`</${key}>`);
    return;
  }
  if (typeof v !== 'object' || v === null) return;
  if (rule.typeCode === 'Resource' || rule.typeCode === 'DomainResource') {
    const inner = v as Record<string, unknown>;
    const node = typeof inner.resourceType === 'string' ? typeNode(inner.resourceType) : undefined;
    if (!node) return;
    out.push(`<${key}>`);
    writeResource(out, inner, node, false);
    out.push(`</${key}>`);
    return;
  }
  const node = rule.node ?? typeNode(rule.typeCode);
  if (node) writeComplex(out, key, v as Record<string, unknown>, node);
}

function writeComplex(out: string[], key: string, obj: Record<string, unknown>, node: TypeNode): void {
  let attrs = '';
  if (typeof obj.id === 'string') attrs += ` id="${esc(obj.id)}"`;
  if (node.name === 'Extension' && typeof obj.url === 'string') attrs += ` url="${esc(obj.url)}"`;
  const start = out.length;
  out.push(`<${key}${attrs}>`);
  const before = out.length;
  writeChildren(out, obj, node, false);
  if (out.length === before) out[start] = `<${key}${attrs}/>`;
  else out.push(`</${key}>`);
}
