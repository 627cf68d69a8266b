import type { Coding } from 'fhir/r4';
import type { AnyResource } from '../store/types';

/** Where a write came from: the facility (MA_CSKCB, or the configured default) and the feed. */
export interface WriteContext {
  facility: string;
  /** `rest`, `vn-claim`, `hl7v2`, `dicom`, … */
  feed: string;
  /** The resources were mapped by the gateway from a source message, not written by a client. */
  mapped?: boolean;
}

export const FACILITY_TAG_SYSTEM = 'http://fhir.ehealth.gov.vn/core/sid/provider-code';
export const FEED_TAG_SYSTEM = 'urn:fhir-gateway:feed';

export function sourceUri(ctx: WriteContext): string {
  return `urn:fhir-gateway:${encodeURIComponent(ctx.feed)}:${encodeURIComponent(ctx.facility)}`;
}

/**
 * Records provenance on the resource itself: `meta.source` and two tags, so that every stored
 * resource can be searched (`_source`, `_tag`) and, later, filtered per facility. The gateway's
 * own marks replace any the client sent; the client's other tags stay.
 */
export function stampProvenance(resource: AnyResource, ctx: WriteContext): AnyResource {
  const tags: Coding[] = (resource.meta?.tag ?? []).filter((t) => t.system !== FACILITY_TAG_SYSTEM && t.system !== FEED_TAG_SYSTEM);
  tags.push({ system: FACILITY_TAG_SYSTEM, code: ctx.facility }, { system: FEED_TAG_SYSTEM, code: ctx.feed });
  return { ...resource, meta: { ...(resource.meta ?? {}), source: sourceUri(ctx), tag: tags } };
}
