/**
 * fixed[x] and pattern[x] from profiles. fixed: the value is exactly this (every property, no
 * more). pattern: the value has at least these properties; each item of a pattern array must
 * match some item of the value's array.
 */
export function matchesFixed(value: unknown, want: unknown): boolean {
  if (typeof want !== 'object' || want === null) return value === want || (typeof value === 'number' && typeof want === 'number' && value === want);
  if (Array.isArray(want)) {
    return Array.isArray(value) && value.length === want.length && want.every((w, i) => matchesFixed(value[i], w));
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  const w = want as Record<string, unknown>;
  const keys = Object.keys(w);
  return keys.every((k) => matchesFixed(v[k], w[k])) && Object.keys(v).every((k) => k in w || k === 'id' || k === 'extension');
}

export function matchesPattern(value: unknown, want: unknown): boolean {
  if (typeof want !== 'object' || want === null) return value === want;
  if (Array.isArray(want)) {
    const items = Array.isArray(value) ? value : [value];
    return want.every((w) => items.some((x) => matchesPattern(x, w)));
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  return Object.entries(want as Record<string, unknown>).every(([k, w]) => matchesPattern(v[k], w));
}

/** Short text of a value for a message. */
export function describe(v: unknown): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}
