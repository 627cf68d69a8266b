import type { Duration, Period, Timing } from 'fhir/r4';
import { compact, rep, reps, type MapContext, type Seg, val, where } from './context';
import { addMinutes, c } from './datatypes';

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

/** CQ time units (ISO+ or ANSI spellings) → the UCUM units-of-time code Timing allows. */
const TIME_UNITS: Record<string, 's' | 'min' | 'h' | 'd' | 'wk' | 'mo' | 'a'> = {
  s: 's', sec: 's', min: 'min', h: 'h', hr: 'h', d: 'd', day: 'd', wk: 'wk', mo: 'mo', a: 'a', yr: 'a', ann: 'a',
};

/** CQ (quantity ^ units) of time → value and UCUM unit, when the unit is one Timing knows. */
function timeQuantity(ctx: MapContext, tq1: Seg, field: number): { value: number; unit: 's' | 'min' | 'h' | 'd' | 'wk' | 'mo' | 'a' } | undefined {
  const cq = rep(tq1, field);
  if (!c(cq, 1)) return undefined;
  const value = Number(c(cq, 1));
  const unit = TIME_UNITS[c(cq, 2).toLowerCase()];
  if (Number.isFinite(value) && value >= 0 && unit) return { value, unit };
  ctx.dropped(tq1, field, `'${c(cq, 1)} ${c(cq, 2)}' is not a number of a UCUM unit of time`);
  return undefined;
}

const MINUTES_OF: Partial<Record<string, number>> = { s: 1 / 60, min: 1, h: 60, d: 1440, wk: 10080 };

/** TQ1-4 explicit times (TM: HHMM[SS]) → FHIR time values for repeat.timeOfDay. */
function timesOfDay(tq1: Seg): string[] {
  // TM is HHMM[SS]; some senders write HH:MM[:SS].
  return reps(tq1, 4).map((r) => /^(\d{2}):?(\d{2})(?::?(\d{2}))?$/.exec(c(r, 1))).filter((m) => !!m && Number(m[1]) < 24 && Number(m[2]) < 60)
    .map((m) => `${m![1]}:${m![2]}:${m![3] ?? '00'}`);
}

/**
 * TQ1-3 repeat pattern, TQ1-4 explicit times, TQ1-7/8 bounds, TQ1-14 total
 * occurrences; TQ1-13 occurrence duration (how long each dose or session lasts) and TQ1-6 service
 * duration (the whole course: boundsDuration without TQ1-7/8, else the missing end of the
 * period), per the IG's TQ1[MedicationRequest] and TQ1[ServiceRequest] maps.
 */
export function tq1Timing(ctx: MapContext, tq1: Seg | undefined): Timing | undefined {
  if (!tq1) return undefined;
  const pattern = val(tq1, 3).toUpperCase();
  const repeatOf = REPEAT[pattern];
  let bounds = tq1Period(ctx, tq1);
  const count = Number(val(tq1, 14));
  const each = timeQuantity(ctx, tq1, 13);
  const course = timeQuantity(ctx, tq1, 6);
  const courseMinutes = course && MINUTES_OF[course.unit] !== undefined ? course.value * MINUTES_OF[course.unit]! : undefined;
  if (bounds && course) {
    // One end and a length give the other end (the IG's TQ1-6 rows); with both ends TQ1-6 adds nothing.
    const other = bounds.start && bounds.end || courseMinutes === undefined ? undefined
      : bounds.start ? addMinutes(bounds.start, courseMinutes) : addMinutes(bounds.end, -courseMinutes);
    if (other) bounds = bounds.start ? { ...bounds, end: other } : { ...bounds, start: other };
    else ctx.dropped(tq1, 6, bounds.start && bounds.end ? 'service duration: TQ1-7/8 already give both ends'
      : 'service duration: no exact other end (months or years, or a date without a time of day)');
  }
  // The IG's repeat.offset for TQ1-5 needs a repeat.when (tim-9), and TQ1 names no event to hang it on.
  if (val(tq1, 5)) ctx.dropped(tq1, 5, 'relative time: R4 Timing takes an offset only with a `when` event (tim-9), which TQ1 does not name');
  const times = timesOfDay(tq1);
  const repeat = compact<NonNullable<Timing['repeat']>>({
    boundsPeriod: bounds,
    boundsDuration: course && !bounds ? compact<Duration>({ value: course.value, unit: course.unit, system: 'http://unitsofmeasure.org', code: course.unit }) : undefined,
    duration: each?.value,
    durationUnit: each?.unit,
    count: Number.isInteger(count) && count > 0 ? count : undefined,
    frequency: repeatOf?.frequency,
    period: repeatOf?.period,
    periodUnit: repeatOf?.periodUnit,
    timeOfDay: times.length ? times : undefined,
  });
  const timing = compact<Timing>({
    repeat: Object.keys(repeat).length ? repeat : undefined,
    code: pattern ? { text: pattern } : undefined,
  });
  return Object.keys(timing).length ? timing : undefined;
}
