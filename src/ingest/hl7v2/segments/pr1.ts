import type { Procedure, Reference } from 'fhir/r4';
import { compact, rep, reps, val, where, type MapContext, type Seg } from '../context';
import { concept } from '../datatypes';
import { practitioner } from '../references';
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
  },
  dropped: { 7: 'procedure minutes: R4 Procedure has no duration', 9: 'anesthesia code: no Procedure element', 10: 'anesthesia minutes: no Procedure element', 13: 'consent: a Consent resource is out of scope', 14: 'procedure priority: no Procedure element' },
});

const PERFORMERS: [number, string, string][] = [[8, '88189002', 'Anesthesiologist'], [11, '304292004', 'Surgeon'], [12, '', '']];

export function mapPr1(ctx: MapContext, pr1: Seg, patient: Reference, encounter: Reference | undefined): Reference | undefined {
  const code = concept(rep(pr1, 3)) ?? (val(pr1, 4) ? { text: val(pr1, 4) } : undefined);
  if (!code) return undefined;
  if (!code.text && val(pr1, 4)) code.text = val(pr1, 4);
  const ident = val(pr1, 19);
  const when = ctx.dateTime(val(pr1, 5), where(pr1, 5));
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
    performedDateTime: when,
    performer,
    reasonCode: reasons,
  });
  return ctx.put(procedure);
}
