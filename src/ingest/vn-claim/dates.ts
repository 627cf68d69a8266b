/**
 * Claim timestamps are local wall-clock strings: `yyyyMMddHHmm` (12) or `yyyyMMdd` (8), with
 * unknown parts written as `00` (QĐ 4750, NGAY_SINH). They become FHIR dates/dateTimes in
 * Vietnam time (+07:00, no daylight saving), at the precision the source actually gives.
 */

const SHAPE = /^([0-9]{4})([0-9]{2})([0-9]{2})(?:([0-9]{2})([0-9]{2}))?$/;

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** FHIR `date` (yyyy, yyyy-MM or yyyy-MM-dd) from either claim form; undefined if not a real date. */
export function claimDate(value: string): string | undefined {
  const m = SHAPE.exec(value);
  if (!m) return undefined;
  const [, y, mo, d] = m as unknown as [string, string, string, string];
  if (y === '0000') return undefined;
  if (mo === '00') return d === '00' ? y : undefined;
  if (Number(mo) > 12) return undefined;
  if (d === '00') return `${y}-${mo}`;
  if (Number(d) > daysIn(Number(y), Number(mo))) return undefined;
  return `${y}-${mo}-${d}`;
}

/**
 * FHIR `dateTime`: full time with seconds and +07:00 when hour and minute are known, otherwise the
 * date part alone (`0000` means "time not known" in these files).
 */
export function claimDateTime(value: string): string | undefined {
  const date = claimDate(value);
  if (!date) return undefined;
  const m = SHAPE.exec(value)!;
  const [hh, mm] = [m[4], m[5]];
  if (hh === undefined || mm === undefined || (hh === '00' && mm === '00') || date.length !== 10) return date;
  if (Number(hh) > 23 || Number(mm) > 59) return undefined;
  return `${date}T${hh}:${mm}:00+07:00`;
}

/** A dateTime with a time part, usable where FHIR wants an `instant`. */
export function claimInstant(value: string): string | undefined {
  const dt = claimDateTime(value);
  return dt && dt.length > 10 ? dt : undefined;
}
