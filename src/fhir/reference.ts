import { isResourceType } from './definitions';

export interface ParsedReference {
  type?: string;
  id?: string;
  version?: string;
  /** Set when the reference is absolute, a URN or a canonical: kept as a URL. */
  url?: string;
}

const RELATIVE = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/([A-Za-z0-9\-.]{1,64}))?$/;
const ABSOLUTE = /^(https?:\/\/.+)\/([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/([A-Za-z0-9\-.]{1,64}))?$/;

/**
 * `Patient/123`, `Patient/123/_history/2`, or an absolute URL whose base is one of ours
 * become a local (type, id); anything else is kept as a URL.
 */
export function parseReference(ref: string, localBases: string[] = []): ParsedReference {
  const m = RELATIVE.exec(ref);
  if (m && isResourceType(m[1]!)) return { type: m[1], id: m[2], ...(m[3] ? { version: m[3] } : {}) };
  const a = ABSOLUTE.exec(ref);
  if (a && isResourceType(a[2]!)) {
    if (localBases.includes(a[1]!)) return { type: a[2], id: a[3], ...(a[4] ? { version: a[4] } : {}) };
    return { type: a[2], id: a[3], url: ref };
  }
  return { url: ref };
}
