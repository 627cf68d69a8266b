import type { Procedure, Reference } from 'fhir/r4';
import { compact, rep, reps, val, where, type MapContext, type Seg } from '../context';
import { addMinutes, concept } from '../datatypes';
import { place, practitioner } from '../references';
import { segmentMap } from '../segment-maps';

// PR1 (procedures, "thủ thuật, phẫu thuật") → Procedure.
export const PR1 = segmentMap({
  segment: 'PR1',
  igTable: 'Segment PR1 to Procedure',
  resource: 'Procedure',
  fields: {
    3: 'Procedure.code', 4: 'Procedure.code.text', 5: 'Procedure.performedDateTime', 6: 'Procedure.category',
    8: 'Procedure.performer (anesthesiologist)', 11: 'Procedure.performer (surgeon)', 12: 'Procedure.performer',
    15: 'Procedure.reasonCode', 19: 'Procedure.identifier', 20: 'Procedure.status',
    7: 'Procedure.performedPeriod.end (PR1-5 + minutes)', 23: 'Procedure.location', 25: 'Procedure.partOf (by identifier)',
  },
  dropped: { 9: 'anesthesia code: no Procedure element', 10: 'anesthesia minutes: no Procedure element', 13: 'consent: a Consent resource is out of scope', 14: 'procedure priority: no Procedure element' },
});

const PERFORMERS: [number, string, string][] = [[8, '88189002', 'Anesthesiologist'], [11, '304292004', 'Surgeon'], [12, '', '']];

export function mapPr1(ctx: MapContext, pr1: Seg, patient: Reference, encounter: Reference | undefined): Reference | undefined {
  const code = concept(rep(pr1, 3)) ?? (val(pr1, 4) ? { text: val(pr1, 4) } : undefined);
  if (!code) return undefined;
  // PR1-4 description is the IG's code.text unless the CWE carries its own original text (PR1-3.9).
  if (val(pr1, 4) && !rep(pr1, 3)?.[8]?.[0]) code.text = val(pr1, 4);
  const ident = val(pr1, 19);
  const when = ctx.dateTime(val(pr1, 5), where(pr1, 5));
  // PR1-7 minutes from PR1-5: the IG's performedPeriod.end.
  const minutes = Number(val(pr1, 7));
  const ends = when && val(pr1, 7) && Number.isFinite(minutes) && minutes > 0 ? addMinutes(when, minutes) : undefined;
  if (val(pr1, 7) && !ends) ctx.dropped(pr1, 7, 'procedure minutes: needs a number and a start time (PR1-5) with the time of day');
  // PR1-25 the procedure this one is part of, by its identifier; PR1-23 where it was done.
  const parent = val(pr1, 25);
  const performer: Procedure['performer'] = [];
  for (const [field, sct, display] of PERFORMERS) {
    for (const x of reps(pr1, field)) {
      const actor = practitioner(ctx, x);
      if (actor) performer.push(compact({ actor, function: sct ? { coding: [{ system: 'http://snomed.info/sct', code: sct, display }] } : undefined }));
    }
  }
  const category = concept(rep(pr1, 6));
  const reasons = reps(pr1, 15).map(concept).filter((x) => !!x);
  const procedure = compact<Procedure & { id: string }>({
    resourceType: 'Procedure',
    id: ctx.id('Procedure', ident ? `id:${ident}` : `${encounter?.reference ?? patient.reference}|${code.coding?.[0]?.code ?? code.text}|${val(pr1, 5)}`),
    identifier: ident ? [{ value: ident }] : undefined,
    status: val(pr1, 20) === 'D' ? 'entered-in-error' : 'completed',
    category,
    code,
    subject: patient,
    encounter,
    performedDateTime: ends ? undefined : when,
    performedPeriod: ends ? { start: when, end: ends } : undefined,
    performer,
    location: place(ctx, pr1, 23),
    partOf: parent ? [{ type: 'Procedure', identifier: { value: parent } }] : undefined,
    reasonCode: reasons,
  });
  return ctx.put(procedure);
}

