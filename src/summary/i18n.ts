import type { CodeableConcept, Coding } from 'fhir/r4';
import { lookup } from '../fhir/conceptmap';
import { FACILITY_TAG_SYSTEM } from '../service/provenance';
import type { AnyResource } from '../store/types';

/** The summary's languages: Vietnamese (default) and English. */
export type Lang = 'vi' | 'en';
export type Text = Record<Lang, string>;

/** The first of `vi`/`en` the client accepts, by quality; Vietnamese when it names neither. */
export function pickLanguage(acceptLanguage: string | undefined): Lang {
  const tags = (acceptLanguage ?? '')
    .split(',')
    .map((part, i) => {
      const [tag, ...ps] = part.trim().toLowerCase().split(';');
      const q = Number(ps.find((p) => p.trim().startsWith('q='))?.trim().slice(2) ?? 1);
      return { tag: tag ?? '', q: Number.isNaN(q) ? 0 : q, i };
    })
    .filter((t) => t.q > 0)
    .sort((a, b) => b.q - a.q || a.i - b.i);
  for (const t of tags) {
    if (t.tag === 'vi' || t.tag.startsWith('vi-')) return 'vi';
    if (t.tag === 'en' || t.tag.startsWith('en-')) return 'en';
  }
  return 'vi';
}

const ICD10_VN = 'http://fhir.ehealth.gov.vn/core/CodeSystem/vn-icd10';
/** Systems whose codes the project's Vietnamese ICD-10 (QĐ 4469) names. */
const ICD10_SYSTEMS = new Set([ICD10_VN, 'http://hl7.org/fhir/sid/icd-10', 'http://hl7.org/fhir/sid/icd-10-vn']);

/** A coding's display in the summary's language: the project's Vietnamese name when it has one. */
function codingText(c: Coding, lang: Lang): string | undefined {
  if (lang === 'vi' && c.system && c.code) {
    const vn = lookup(ICD10_SYSTEMS.has(c.system) ? ICD10_VN : c.system, c.code)?.display;
    if (vn) return vn;
  }
  return c.display;
}

export function conceptText(cc: CodeableConcept | undefined, lang: Lang): string {
  if (!cc) return '';
  for (const c of cc.coding ?? []) {
    const t = codingText(c, lang);
    if (t) return c.code && ICD10_SYSTEMS.has(c.system ?? '') ? `${c.code} ${t}` : t;
  }
  return cc.text ?? cc.coding?.[0]?.code ?? '';
}

/** The facility a resource came from, as stamped on it at write time. */
export function facilityOf(r: AnyResource): string {
  const tag = r.meta?.tag?.find((t) => t.system === FACILITY_TAG_SYSTEM);
  return tag?.display ?? tag?.code ?? '';
}

/** A FHIR date/dateTime shown as the reader's convention: dd/mm/yyyy in Vietnamese, yyyy-mm-dd in English. */
export function showDate(v: string | undefined, lang: Lang): string {
  if (!v) return '';
  const [y, m, d] = v.slice(0, 10).split('-');
  if (lang === 'en' || !m) return v.slice(0, 10);
  return d ? `${d}/${m}/${y}` : `${m}/${y}`;
}

export function escapeXml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}
