import type { Bundle, BundleEntry, FhirResource, Reference } from 'fhir/r4';
import type { Issue } from '../../fhir/outcome';
import { deterministicId } from '../ids';
import type { Hl7SourceConfig } from './config';
import type { Rep } from './datatypes';
import { dateTime } from './datatypes';
import { hl7Location } from './location';
export { compact } from './compact';
import type { Hl7Message, Hl7Segment } from './parse';

/** A segment with its occurrence number among segments of the same id, for locations. */
export interface Seg {
  seg: Hl7Segment;
  occ: number;
  /** Fields a mapper read (SEG-n numbers), for `--explain` and the coverage report. */
  used: Set<number>;
  /** Explicit targets or drop reasons, when the segment's table does not say it. */
  notes?: Map<number, FieldNote>;
}

/** Where a field went (`element`) or why it was left out (`dropped`). */
export type FieldNote = { element: string } | { dropped: string };

/** Everything one message's mapping shares: the message, the source, the growing Bundle. */
export class MapContext {
  readonly issues: Issue[] = [];
  readonly segs: Seg[];
  private readonly entries = new Map<string, BundleEntry>();

  constructor(readonly msg: Hl7Message, readonly cfg: Hl7SourceConfig, readonly facility: string) {
    const count = new Map<string, number>();
    this.segs = msg.segments.map((seg) => {
      const occ = (count.get(seg.id) ?? 0) + 1;
      count.set(seg.id, occ);
      return { seg, occ, used: new Set<number>() };
    });
  }

  find(id: string): Seg | undefined {
    return this.segs.find((s) => s.seg.id === id);
  }

  all(id: string): Seg[] {
    return this.segs.filter((s) => s.seg.id === id);
  }

  id(resourceType: string, ...key: string[]): string {
    return deterministicId(this.facility, resourceType, ...key);
  }

  /** PUT by deterministic id, so a resent message updates instead of duplicating. Last write wins. */
  put<T extends FhirResource>(resource: T & { id: string }): Reference {
    const key = `${resource.resourceType}/${resource.id}`;
    this.entries.set(key, { fullUrl: `urn:uuid:${resource.id}`, resource, request: { method: 'PUT', url: key } });
    return { reference: key };
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  get<T extends FhirResource>(key: string): T | undefined {
    return this.entries.get(key)?.resource as T | undefined;
  }

  bundle(): Bundle {
    return { resourceType: 'Bundle', type: 'transaction', entry: [...this.entries.values()] };
  }

  /** Names the element a field went to, when it differs from the segment table (e.g. PV1-7 → Practitioner). */
  mapped(s: Seg | undefined, field: number, element: string): void {
    if (!s) return;
    s.used.add(field);
    (s.notes ??= new Map()).set(field, { element });
  }

  /** Records that a non-empty field was deliberately left out, and why (shown by `--explain`). */
  dropped(s: Seg | undefined, field: number, reason: string): void {
    if (!s) return;
    s.used.delete(field);
    (s.notes ??= new Map()).set(field, { dropped: reason });
  }

  dateTime(value: string, where: string): string | undefined {
    return dateTime(value, where, this.issues, this.cfg.timezoneOffset);
  }
}

// The accessors record every field read, so each mapper gets `--explain` without extra code.

export function reps(s: Seg | undefined, field: number): Rep[] {
  if (!s) return [];
  s.used.add(field);
  return s.seg.fields[field] ?? [];
}

export function rep(s: Seg | undefined, field: number, r = 0): Rep | undefined {
  if (!s) return undefined;
  s.used.add(field);
  return s.seg.fields[field]?.[r];
}

/** First component/subcomponent of the first repetition, trimmed; `""` reads as empty. */
export function val(s: Seg | undefined, field: number, component = 1, sub = 1): string {
  if (!s) return '';
  s.used.add(field);
  const v = s?.seg.fields[field]?.[0]?.[component - 1]?.[sub - 1] ?? '';
  return v === '""' ? '' : v.trim();
}

export function where(s: Seg, field?: number, repetition = 1, component?: number): string {
  return hl7Location(s.seg.id, s.occ, field, repetition, component);
}

