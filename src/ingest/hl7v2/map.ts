import type { Bundle } from 'fhir/r4';
import { issue, type Issue } from '../../fhir/outcome';
import type { Hl7SourceConfig } from './config';
import { MapContext } from './context';
import { explain, type Explanation } from './explain';
import { mapPatient } from './map-patient';
import { messageDef } from './messages';
import { mapProvenance } from './segments/msh';
import { mapRemainingParticipations } from './segments/rol';
import type { Hl7Message } from './parse';

/**
 * One parsed message → one FHIR R4 transaction Bundle of PUTs with deterministic ids.
 * Pure: the same message and configuration always give the same Bundle. Which messages map,
 * and how, is the registry in messages.ts.
 */

export function facilityOf(m: Hl7Message, cfg: Hl7SourceConfig): string {
  return cfg.facility || m.sendingFacility || m.segments[0]?.fields[4]?.[0]?.[1]?.[0] || m.sendingApplication || 'unknown';
}

export function isSupported(m: Hl7Message): boolean {
  return !!messageDef(m);
}

export interface MapOptions {
  /** Also report, per non-empty field, the element it went to or why it was dropped. */
  explain?: boolean;
}

export function mapHl7v2(m: Hl7Message, cfg: Hl7SourceConfig = {}, opts: MapOptions = {}): { bundle?: Bundle; issues: Issue[]; explanation?: Explanation } {
  const def = messageDef(m);
  if (!def) return { issues: [issue('error', 'not-supported', `Message type ${m.type}^${m.trigger} is not mapped to FHIR`, 'MSH-9')] };
  const ctx = new MapContext(m, cfg, facilityOf(m, cfg));
  if (def.mapWithoutPatient) {
    def.mapWithoutPatient(ctx);
    return finish(ctx, opts);
  }
  const pid = ctx.find('PID');
  if (!pid) return { issues: [issue('error', 'required', `${m.type}^${m.trigger} without a PID segment`, 'PID')] };
  const patient = mapPatient(ctx, pid);
  if (!patient) return { issues: ctx.issues };
  def.map(ctx, patient);
  mapRemainingParticipations(ctx);
  return finish(ctx, opts);
}

function finish(ctx: MapContext, opts: MapOptions): { bundle?: Bundle; issues: Issue[]; explanation?: Explanation } {
  mapProvenance(ctx);
  const bundle = ctx.bundle();
  return { bundle: bundle.entry!.length ? bundle : undefined, issues: ctx.issues, explanation: opts.explain ? explain(ctx) : undefined };
}
