import type { Bundle, BundleEntry, CodeableConcept, Coding, FhirResource, Money, Quantity, Reference } from 'fhir/r4';
import { coding, translate } from '../../fhir/conceptmap';
import type { Issue } from '../../fhir/outcome';
import { deterministicId } from '../ids';

/** Canonical bases of the VN profiles and identifier systems (see profiles/ and DESIGN.md). */
export const VN = 'http://fhir.ehealth.gov.vn/core';
export const SID = `${VN}/sid`;
export const CS = `${VN}/CodeSystem`;
export const SD = `${VN}/StructureDefinition`;
export const CM = `${VN}/ConceptMap`;
export const LOINC = 'http://loinc.org';

/**
 * What the mapping functions share while building one episode's Bundle: the facility and
 * episode key that make ids deterministic, the entries so far, and the issues found.
 */
export class MapContext {
  readonly entries: BundleEntry[] = [];
  readonly issues: Issue[] = [];
  private readonly seen = new Set<string>();

  constructor(readonly facility: string, readonly maLK: string) {}

  /** Id of a resource of this episode (keyed by the episode and the given parts). */
  id(type: string, ...key: string[]): string {
    return deterministicId(this.facility, type, this.maLK, ...key);
  }

  /** Adds a resource once (PUT by id, so a resend updates); returns a reference to it. `profile`: a VN profile id or a full canonical URL. */
  add<T extends FhirResource & { id?: string }>(resource: T, profile?: string): Reference {
    const id = resource.id!;
    const key = `${resource.resourceType}/${id}`;
    if (!this.seen.has(key)) {
      this.seen.add(key);
      if (profile) (resource as { meta?: { profile: string[] } }).meta = { profile: [profile.startsWith('http') ? profile : `${SD}/${profile}`] };
      this.entries.push({ fullUrl: `urn:uuid:${id}`, resource, request: { method: 'PUT', url: key } });
    }
    return { reference: key };
  }

  /** A facility by MA_CSKCB: one Organization per code across all facilities' data. */
  organization(maCSKCB: string): Reference {
    const id = deterministicId('', 'Organization', maCSKCB);
    return this.add({ resourceType: 'Organization', id, identifier: [{ system: `${SID}/provider-code`, value: maCSKCB }], active: true }, 'vn-organization');
  }

  bundle(): Bundle {
    return { resourceType: 'Bundle', type: 'transaction', entry: this.entries };
  }
}

/** `;`-separated multi-values (cards, ICD codes, departments, clinicians), empty parts dropped. */
export function multi(value: string | undefined): string[] {
  return (value ?? '').split(';').map((s) => s.trim()).filter(Boolean);
}

export function decimal(value: string | undefined): number | undefined {
  if (value === undefined || !/^-?[0-9]+(\.[0-9]+)?$/.test(value.trim())) return undefined;
  return Number(value);
}

export function vnd(value: string | undefined): Money | undefined {
  const n = decimal(value);
  return n === undefined ? undefined : { value: n, currency: 'VND' };
}

export function quantity(value: string | undefined, unit?: string): Quantity | undefined {
  const n = decimal(value);
  return n === undefined ? undefined : { value: n, ...(unit ? { unit } : {}) };
}

/** A clinician by practising-certificate number: a logical reference, no Practitioner is invented. */
export function practitioner(cchn: string): Reference {
  return { identifier: { system: `${SID}/practitioner-license`, value: cchn }, type: 'Practitioner' };
}

/** A code in one of the project's VN code systems, as a CodeableConcept with an optional text. */
export function vnConcept(system: string, code: string, text?: string): CodeableConcept {
  return { coding: [coding(`${CS}/${system}`, code)], ...(text ? { text } : {}) };
}

/** Source code translated through a ConceptMap, keeping the source coding beside the target. */
export function translated(map: string, system: string, code: string): { target?: Coding; concept: CodeableConcept } {
  const target = translate(`${CM}/${map}`, code);
  return { target, concept: { coding: [...(target ? [target] : []), coding(`${CS}/${system}`, code)] } };
}

/** Plain text as a FHIR Attachment (documents carried as text in the claim). */
export function textAttachment(text: string, title?: string): { contentType: string; data: string; title?: string } {
  return { contentType: 'text/plain; charset=utf-8', data: Buffer.from(text, 'utf8').toString('base64'), ...(title ? { title } : {}) };
}

export const present = <T>(v: T | undefined | null | ''): v is T => v !== undefined && v !== null && v !== '';

/** Drops members that are undefined, empty strings or empty arrays, so resources stay valid. */
export function compact<T extends object>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined || v === '' || (Array.isArray(v) && v.length === 0)) continue;
    out[k] = v;
  }
  return out as T;
}
