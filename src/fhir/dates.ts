/**
 * FHIR date, dateTime and instant values as half-open ranges [lo, hi) in epoch milliseconds,
 * as wide as their precision: `2024` covers the whole year, `2024-03-05T10:20` the minute.
 * Values without a zone are read as UTC, on the stored side and the search side alike.
 */
export interface DateRange {
  lo: number;
  hi: number;
}

const DATE_RE = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

export function dateRange(value: string): DateRange | undefined {
  const m = DATE_RE.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, tz] = m;
  const year = Number(y);
  const month = mo ? Number(mo) - 1 : 0;
  const day = d ? Number(d) : 1;
  if (month > 11 || day < 1 || day > 31) return undefined;
  const offsetMin = tz && tz !== 'Z' ? (tz[0] === '-' ? -1 : 1) * (Number(tz.slice(1, 3)) * 60 + Number(tz.slice(4, 6))) : 0;
  const utc = (Y: number, M: number, D: number, H = 0, Mi = 0, S = 0, Ms = 0) => {
    // Date.UTC maps years 0-99 to 1900-1999; setUTCFullYear does not.
    const t = new Date(Date.UTC(2000, M, D, H, Mi, S, Ms));
    t.setUTCFullYear(Y + (t.getUTCFullYear() - 2000));
    return t.getTime() - offsetMin * 60_000;
  };
  if (!mo) return { lo: utc(year, 0, 1), hi: utc(year + 1, 0, 1) };
  if (!d) return { lo: utc(year, month, 1), hi: utc(year, month + 1, 1) };
  if (!h) return { lo: utc(year, month, day), hi: utc(year, month, day + 1) };
  const H = Number(h);
  const Mi = Number(mi);
  if (H > 24 || Mi > 59) return undefined;
  if (s === undefined) {
    const lo = utc(year, month, day, H, Mi);
    return { lo, hi: lo + 60_000 };
  }
  const S = Number(s);
  if (S > 60) return undefined;
  if (frac === undefined) {
    const lo = utc(year, month, day, H, Mi, S);
    return { lo, hi: lo + 1000 };
  }
  const lo = utc(year, month, day, H, Mi, S, Number(frac.slice(0, 3).padEnd(3, '0')));
  return { lo, hi: lo + 1 };
}

/** Smallest and largest instants PostgreSQL's timestamptz handles comfortably, for open-ended periods. */
export const MIN_TIME = -62135596800000; // 0001-01-01T00:00:00Z
export const MAX_TIME = Date.UTC(9999, 11, 31);

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}
