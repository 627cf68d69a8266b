import type { Period, Timing } from 'fhir/r4';
import { compact, type MapContext, type Seg, val, where } from './context';

// TQ1 (timing/quantity, "thời gian dùng thuốc/thực hiện") → Timing, per the IG's TQ1 tables.

/** Repeat patterns (HL7 table 0335) as frequency per period; the usual ones in Vietnamese orders. */
const REPEAT: Record<string, { frequency: number; period: number; periodUnit: 'h' | 'd' | 'wk' }> = {
  QD: { frequency: 1, period: 1, periodUnit: 'd' }, BID: { frequency: 2, period: 1, periodUnit: 'd' },
  TID: { frequency: 3, period: 1, periodUnit: 'd' }, QID: { frequency: 4, period: 1, periodUnit: 'd' },
  QOD: { frequency: 1, period: 2, periodUnit: 'd' }, QW: { frequency: 1, period: 1, periodUnit: 'wk' },
  Q1H: { frequency: 1, period: 1, periodUnit: 'h' }, Q2H: { frequency: 1, period: 2, periodUnit: 'h' },
  Q4H: { frequency: 1, period: 4, periodUnit: 'h' }, Q6H: { frequency: 1, period: 6, periodUnit: 'h' },
  Q8H: { frequency: 1, period: 8, periodUnit: 'h' }, Q12H: { frequency: 1, period: 12, periodUnit: 'h' },
  Q24H: { frequency: 1, period: 24, periodUnit: 'h' },
};

/** TQ1-7/8 as a period; either end alone is kept. */
export function tq1Period(ctx: MapContext, tq1: Seg | undefined): Period | undefined {
  if (!tq1) return undefined;
  const start = ctx.dateTime(val(tq1, 7), where(tq1, 7));
  const end = ctx.dateTime(val(tq1, 8), where(tq1, 8));
  return start || end ? compact<Period>({ start, end }) : undefined;
}

/** TQ1-3 repeat pattern, TQ1-7/8 bounds, TQ1-14 total occurrences. */
export function tq1Timing(ctx: MapContext, tq1: Seg | undefined): Timing | undefined {
  if (!tq1) return undefined;
  const pattern = val(tq1, 3).toUpperCase();
  const repeatOf = REPEAT[pattern];
  const bounds = tq1Period(ctx, tq1);
  const count = Number(val(tq1, 14));
  const repeat = compact<NonNullable<Timing['repeat']>>({
    boundsPeriod: bounds,
    count: Number.isInteger(count) && count > 0 ? count : undefined,
    frequency: repeatOf?.frequency,
    period: repeatOf?.period,
    periodUnit: repeatOf?.periodUnit,
  });
  const timing = compact<Timing>({
    repeat: Object.keys(repeat).length ? repeat : undefined,
    code: pattern ? { text: pattern } : undefined,
  });
  return Object.keys(timing).length ? timing : undefined;
}
