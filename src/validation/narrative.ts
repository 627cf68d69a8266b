import type { ElementDefinition } from 'fhir/r4';
import { readXml, type XmlElement } from '../fhir/xml/tokens';

/**
 * Narrative rules a profile sets on a `text` element through two core extensions:
 * - narrative-language-control: language sections (top-level elements with `lang`/`xml:lang`)
 *   are prohibited (`_no`), required (`_yes`), required for the resource's own language
 *   (`_resource`), or required for the listed language codes;
 * - narrative-source-control: every top-level part says where it came from with a class
 *   (`boilerplate`, `generated` or `original`), so a reader can tell authored from generated text.
 * Pure: the messages, for the caller to report.
 */
const LANGUAGE_CONTROL = 'http://hl7.org/fhir/StructureDefinition/narrative-language-control';
const SOURCE_CONTROL = 'http://hl7.org/fhir/StructureDefinition/narrative-source-control';
const SOURCES = new Set(['boilerplate', 'generated', 'original']);

export function hasNarrativeControl(def: ElementDefinition): boolean {
  return !!def.extension?.some((e) => e.url === LANGUAGE_CONTROL || e.url === SOURCE_CONTROL);
}

export function narrativeControlIssues(def: ElementDefinition, narrative: unknown, resourceLanguage: unknown, profile: string): string[] {
  const div = (narrative as { div?: unknown } | null)?.div;
  if (typeof div !== 'string') return [];
  let root: XmlElement;
  try {
    root = readXml(div);
  } catch {
    return []; // a malformed div is reported by the Narrative checks themselves
  }
  const out: string[] = [];
  const languages = [...new Set(root.children.map((c) => c.attrs['xml:lang'] ?? c.attrs.lang).filter((l): l is string => !!l))].sort();
  for (const ext of def.extension ?? []) {
    if (ext.url === LANGUAGE_CONTROL && ext.valueCode) {
      const rule = ext.valueCode;
      if (rule === '_no' && languages.length > 0) out.push(`The xhtml has some language sections (${languages.join(', ')}), but language sections are prohibited in this context by the profile ${profile}`);
      else if (rule === '_yes' && languages.length === 0) out.push(`The xhtml has no language sections, but language sections are required in this context by the profile ${profile}`);
      else if (rule === '_resource' && typeof resourceLanguage === 'string' && !languages.includes(resourceLanguage)) {
        out.push(`The profile ${profile} requires a section in the narrative for the resource language (${resourceLanguage}), but it was not found (found: ${languages.join(', ') || 'none'})`);
      } else if (!rule.startsWith('_') && !languages.includes(rule)) out.push(`The profile ${profile} requires a section in the narrative for the language ${rule}, but it was not found`);
    }
    if (ext.url === SOURCE_CONTROL) {
      const unsourced = (what: string) => `The xhtml node at '${what.trim().slice(0, 60)}' does not have a class attribute to indicate its source (boilerplate, generated, or original) and this is required by the profile ${profile}`;
      for (const text of root.chunks) if (/\S/.test(text)) out.push(unsourced(text));
      for (const child of root.children) {
        const classes = (child.attrs.class ?? '').split(/\s+/);
        if (!classes.some((c) => SOURCES.has(c))) out.push(unsourced(child.text || `<${child.name}>`));
      }
    }
  }
  return out;
}
