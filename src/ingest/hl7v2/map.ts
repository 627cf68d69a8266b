import type { Bundle } from 'fhir/r4';
import { issue, type Issue } from '../../fhir/outcome';
import type { Hl7SourceConfig } from './config';
import { MapContext } from './context';
import { mapEncounter } from './map-encounter';
import { mapMerge, mapPatient } from './map-patient';
import { CLINICAL_MESSAGES } from './messages-clinical';
import type { Hl7Message } from './parse';

/**
 * One parsed message → one FHIR R4 transaction Bundle of PUTs with deterministic ids.
 * Pure: the same message and configuration always give the same Bundle.
 */
type Route = 'visit' | 'person' | 'merge';

/** Which mapping each MSH-9 takes; anything else is refused as unsupported. */
const ROUTES: Record<string, Route> = {
  'ADT^A01': 'visit', 'ADT^A02': 'visit', 'ADT^A03': 'visit', 'ADT^A04': 'visit', 'ADT^A05': 'visit',
  'ADT^A06': 'visit', 'ADT^A07': 'visit', 'ADT^A08': 'visit', 'ADT^A11': 'visit', 'ADT^A12': 'visit',
  'ADT^A13': 'visit', 'ADT^A14': 'visit',
  'ADT^A28': 'person', 'ADT^A31': 'person',
  'ADT^A40': 'merge',
};

export function facilityOf(m: Hl7Message, cfg: Hl7SourceConfig): string {
  return cfg.facility || m.sendingFacility || m.segments[0]?.fields[4]?.[0]?.[1]?.[0] || m.sendingApplication || 'unknown';
}

export function isSupported(m: Hl7Message): boolean {
  const key = `${m.type}^${m.trigger}`;
  return key in ROUTES || key in CLINICAL_MESSAGES;
}

export function mapHl7v2(m: Hl7Message, cfg: Hl7SourceConfig = {}): { bundle?: Bundle; issues: Issue[] } {
  const route = ROUTES[`${m.type}^${m.trigger}`];
  const clinical = CLINICAL_MESSAGES[`${m.type}^${m.trigger}`];
  if (!route && !clinical) return { issues: [issue('error', 'not-supported', `Message type ${m.type}^${m.trigger} is not mapped to FHIR`, 'MSH-9')] };
  const ctx = new MapContext(m, cfg, facilityOf(m, cfg));
  const pids = ctx.all('PID');
  if (!pids.length) return { issues: [issue('error', 'required', `${m.type}^${m.trigger} without a PID segment`, 'PID')] };
  const patient = mapPatient(ctx, pids[0]!);
  if (!patient) return { issues: ctx.issues };
  if (clinical) {
    clinical(ctx, patient);
    return { bundle: ctx.bundle(), issues: ctx.issues };
  }

  switch (route!) {
    case 'visit':
      mapEncounter(ctx, patient, m.trigger);
      break;
    case 'person':
      break;
    case 'merge':
      // A40 may carry several PID/MRG pairs; each MRG follows the PID it merges into.
      for (const pid of pids) {
        const survivor = pid === pids[0] ? patient : mapPatient(ctx, pid);
        const next = ctx.segs.slice(ctx.segs.indexOf(pid) + 1).find((s) => s.seg.id === 'MRG' || s.seg.id === 'PID');
        if (survivor && next?.seg.id === 'MRG') mapMerge(ctx, pid, next, survivor);
        else if (survivor) ctx.issues.push(issue('error', 'required', 'A40 without an MRG segment after the PID', 'MRG'));
      }
      break;
  }
  return { bundle: ctx.bundle(), issues: ctx.issues };
}
