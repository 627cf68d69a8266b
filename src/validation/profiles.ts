import { profileNode } from './model';
import type { Walk } from './walk';

/**
 * Profiles named in meta.profile or asked for by the caller. A requested profile that cannot be
 * found is an error (the caller asked for a check that cannot run); an unknown meta.profile is a
 * warning, as the Java validator reports it.
 */
export function validateProfiles(w: Walk, resource: unknown, requested: string[] | undefined): void {
  const res = resource as { resourceType?: string; meta?: { profile?: unknown } };
  const declared = Array.isArray(res?.meta?.profile) ? (res.meta.profile as unknown[]).filter((p): p is string => typeof p === 'string') : [];
  const seen = new Set<string>();
  for (const [url, asked] of [...(requested ?? []).map((u) => [u, true] as const), ...declared.map((u) => [u, false] as const)]) {
    if (seen.has(url)) continue;
    seen.add(url);
    const node = profileNode(url);
    if (!node) {
      w.push(res.resourceType ?? 'Resource');
      w.report(asked ? 'error' : 'warning', asked ? 'not-found' : 'informational', `Profile reference '${url}' has not been checked because it could not be found`);
      w.pop();
    }
  }
}
