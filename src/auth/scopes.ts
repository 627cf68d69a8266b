/**
 * SMART v2 system scopes (`system/Patient.rs`, `system/*.cruds`), with the v1 forms
 * (`system/*.read`, `system/Observation.write`) translated. Pure functions: a scope string in,
 * a grant (resource type → permitted letters) out.
 */
export type Permission = 'c' | 'r' | 'u' | 'd' | 's';

/** One parsed scope: `*` or a resource type, and the letters it permits. */
export interface ScopeEntry {
  type: string;
  perms: Set<Permission>;
}

const V1: Record<string, Permission[]> = { read: ['r', 's'], write: ['c', 'u', 'd'], '*': ['c', 'r', 'u', 'd', 's'] };
const ORDER: Permission[] = ['c', 'r', 'u', 'd', 's'];

/** Parses one scope token; undefined when it is not a system resource scope (e.g. `openid`). */
export function parseScope(token: string): ScopeEntry | undefined {
  const m = /^system\/([A-Za-z]+|\*)\.([a-z*]+)$/.exec(token);
  if (!m) return undefined;
  const [, type, rest] = m as unknown as [string, string, string];
  if (V1[rest]) return { type, perms: new Set(V1[rest]) };
  // v2 letters come in c, r, u, d, s order, each at most once.
  if (!/^c?r?u?d?s?$/.test(rest)) return undefined;
  return { type, perms: new Set(rest.split('') as Permission[]) };
}

export function parseScopes(scope: string): ScopeEntry[] {
  return scope
    .split(/\s+/)
    .filter(Boolean)
    .map(parseScope)
    .filter((s): s is ScopeEntry => !!s);
}

function format(e: ScopeEntry): string {
  return `system/${e.type}.${ORDER.filter((p) => e.perms.has(p)).join('')}`;
}

/** What a grant allows on one type: the union of its `*` and its typed entries. */
export function permits(grant: ScopeEntry[], type: string, perm: Permission): boolean {
  return grant.some((e) => (e.type === '*' || e.type === type) && e.perms.has(perm));
}

/**
 * The part of `requested` that `registered` allows, in v2 form (a v1 request is answered in v2).
 * `system/*.rs` asked by a client registered for `system/Patient.rs` becomes `system/Patient.rs`.
 */
export function downgrade(requested: string, registered: string): string {
  const allowed = parseScopes(registered);
  const out: ScopeEntry[] = [];
  for (const want of parseScopes(requested)) {
    for (const have of allowed) {
      const type = want.type === '*' ? have.type : have.type === '*' || have.type === want.type ? want.type : undefined;
      if (!type) continue;
      const perms = new Set([...want.perms].filter((p) => have.perms.has(p)));
      if (perms.size) out.push({ type, perms });
    }
  }
  // Merge entries for the same type so the answer reads as a plain scope list.
  const merged = new Map<string, Set<Permission>>();
  for (const e of out) merged.set(e.type, new Set([...(merged.get(e.type) ?? []), ...e.perms]));
  return [...merged].map(([type, perms]) => format({ type, perms })).join(' ');
}

/** The scope a refusal names: `system/Observation.c`. */
export function neededScope(type: string, perm: Permission): string {
  return `system/${type}.${perm}`;
}
