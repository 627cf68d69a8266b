import type { Bundle, BundleEntry, Composition, CompositionSection, Resource } from 'fhir/r4';
import type { AnyResource } from '../store/types';
import { escapeXml, facilityOf, type Lang, type Text } from './i18n';
import { SECTIONS, type SectionDef } from './sections';

/**
 * The IPS strategy: from a patient and the resources of their (linked) compartments, the
 * `document` Bundle of Bundle-uv-ips — Composition first, then the Patient, then each section's
 * entries. Pure: identifiers and times come in, so the same data always gives the same bytes
 * (a cached answer is the uncached one).
 */
export interface SummaryInput {
  patient: AnyResource;
  /** Ids of every Patient record of this person; their resources all point at `patient` in the document. */
  patientIds: string[];
  resources: AnyResource[];
  /** Resources the entries reference (practitioners, organizations, medications); those of SUPPORTING_TYPES go in. */
  referenced: AnyResource[];
  lang: Lang;
  base: string;
  /** Deterministic document identity (uuid) and time (the newest change in the data). */
  documentId: string;
  timestamp: string;
  /** "Now" for selection rules such as "within the last year". */
  now: number;
}

const LOINC = 'http://loinc.org';
const XHTML = (inner: string) => `<div xmlns="http://www.w3.org/1999/xhtml">${inner}</div>`;
const FACILITY: Text = { vi: 'Cơ sở KCB', en: 'Facility' };
const TITLE: Text = { vi: 'Bản tóm tắt thông tin người bệnh', en: 'International Patient Summary' };
const NO_INFO: Text = { vi: 'Không có thông tin.', en: 'No information available.' };
const key = (r: Resource) => `${r.resourceType}/${r.id}`;

function table(def: SectionDef, rows: AnyResource[], lang: Lang): string {
  const head = [...def.columns.map((c) => c.header[lang]), FACILITY[lang]].map((h) => `<th>${escapeXml(h)}</th>`).join('');
  const body = rows
    .map((r) => `<tr id="${escapeXml(`${r.resourceType}-${r.id}`)}">${[...def.columns.map((c) => c.cell(r, lang)), facilityOf(r)].map((v) => `<td>${escapeXml(v)}</td>`).join('')}</tr>`)
    .join('');
  return XHTML(`<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`);
}

/** Types a Bundle-uv-ips may carry besides the section entries, when an entry references them. */
export const SUPPORTING_TYPES = new Set(['Practitioner', 'PractitionerRole', 'Organization', 'Medication', 'Device', 'Specimen']);

/**
 * A reference must resolve inside a document: one to a linked Patient record becomes the
 * summary's Patient, one to a resource the document carries stays, any other (an Encounter, a
 * Location) keeps only its display text.
 */
function rewriteReferences(v: unknown, inDocument: Set<string>, patientRef: string, linked: Set<string>): unknown {
  if (Array.isArray(v)) return v.map((x) => rewriteReferences(x, inDocument, patientRef, linked));
  if (!v || typeof v !== 'object') return v;
  const o = v as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(o)) out[k] = k === 'text' || k === 'meta' ? x : rewriteReferences(x, inDocument, patientRef, linked);
  const ref = o.reference;
  if (typeof ref === 'string' && !ref.startsWith('#')) {
    if (linked.has(ref)) out.reference = patientRef;
    else if (!inDocument.has(ref)) {
      delete out.reference;
      out.display ??= ref.split('/')[0];
    }
  }
  return out;
}

function referencesIn(v: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(v)) for (const x of v) referencesIn(x, out);
  else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if (k === 'reference' && typeof x === 'string') out.add(x);
      else if (k !== 'text') referencesIn(x, out);
    }
  }
  return out;
}

/** A copy fit for the document: its source's own profiles dropped (they are not IPS), references made to resolve. */
function forDocument(r: AnyResource, inDocument: Set<string>, patientRef: string, linked: Set<string>): AnyResource {
  const copy = rewriteReferences(r, inDocument, patientRef, linked) as AnyResource;
  if (r.meta) {
    const { profile: _p, ...meta } = r.meta;
    copy.meta = meta;
  }
  return copy;
}

export function buildSummary(input: SummaryInput): Bundle {
  const { patient, lang, base } = input;
  const patientRef = `Patient/${patient.id}`;
  const linked = new Set(input.patientIds.map((id) => `Patient/${id}`));
  const chosenAll = new Map<string, AnyResource>();
  const sections: CompositionSection[] = [];
  for (const def of SECTIONS) {
    const chosen = def.select(input.resources.filter((r) => def.types.includes(r.resourceType)), input.now);
    if (chosen.length === 0 && def.use !== 'required') continue;
    const section: CompositionSection = {
      title: def.title[lang],
      code: { coding: [{ system: LOINC, code: def.code, display: def.display }] },
      text: { status: 'generated', div: chosen.length ? table(def, chosen, lang) : XHTML(`<p>${escapeXml(NO_INFO[lang])}</p>`) },
    };
    if (chosen.length) section.entry = chosen.map((r) => ({ reference: key(r) }));
    else section.emptyReason = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/list-empty-reason', code: 'unavailable', display: 'Unavailable' }] };
    for (const r of chosen) chosenAll.set(key(r), r);
    sections.push(section);
  }
  const composition: Composition = {
    resourceType: 'Composition',
    id: input.documentId,
    // Declared so that any validator checks the sections' rules (ips-comp-1) by name.
    meta: { profile: ['http://hl7.org/fhir/uv/ips/StructureDefinition/Composition-uv-ips'] },
    language: lang,
    status: 'final',
    type: { coding: [{ system: LOINC, code: '60591-5', display: 'Patient summary Document' }] },
    subject: { reference: patientRef },
    date: input.timestamp,
    author: [{ display: lang === 'vi' ? 'Cổng trao đổi dữ liệu FHIR' : 'FHIR gateway' }],
    title: TITLE[lang],
    confidentiality: 'N',
    section: sections,
  };
  const wanted = referencesIn([patient, ...chosenAll.values()]);
  const supporting = input.referenced.filter((r) => SUPPORTING_TYPES.has(r.resourceType) && wanted.has(key(r)) && !chosenAll.has(key(r)));
  const inDocument = new Set([patientRef, ...chosenAll.keys(), ...supporting.map(key)]);
  const entries = [...chosenAll.values(), ...supporting].map((r) => forDocument(r, inDocument, patientRef, linked));
  const full = (r: Resource) => `${base}/${key(r)}`;
  const entry: BundleEntry[] = [
    { fullUrl: full(composition), resource: composition },
    { fullUrl: full(patient), resource: forDocument(patient, inDocument, patientRef, linked) as Resource },
    ...entries.map((r) => ({ fullUrl: full(r), resource: r as Resource })),
  ];
  return {
    resourceType: 'Bundle',
    language: lang,
    identifier: { system: 'urn:ietf:rfc:3986', value: `urn:uuid:${input.documentId}` },
    type: 'document',
    timestamp: input.timestamp,
    entry,
  };
}
