import type { Bundle } from 'fhir/r4';
import { issue, type Issue } from '../../fhir/outcome';
import type { Hl7SourceConfig } from './config';
import { MapContext } from './context';
import { orderGroups } from './groups';
import { mapAppointment } from './map-appointment';
import { mapEncounter } from './map-encounter';
import { mapServiceRequest } from './map-order';
import { mapMerge, mapPatient } from './map-patient';
import { mapReferral } from './map-referral';
import { mapReport } from './map-result';
import type { Hl7Message } from './parse';

/**
 * One parsed message → one FHIR R4 transaction Bundle of PUTs with deterministic ids.
 * Pure: the same message and configuration always give the same Bundle.
 */
type Route = 'visit' | 'person' | 'merge' | 'order' | 'result' | 'appointment' | 'referral';

/** Which mapping each MSH-9 takes; anything else is refused as unsupported. */
const ROUTES: Record<string, Route> = {
  'ADT^A01': 'visit', 'ADT^A02': 'visit', 'ADT^A03': 'visit', 'ADT^A04': 'visit', 'ADT^A05': 'visit',
  'ADT^A06': 'visit', 'ADT^A07': 'visit', 'ADT^A08': 'visit', 'ADT^A11': 'visit', 'ADT^A12': 'visit',
  'ADT^A13': 'visit', 'ADT^A14': 'visit',
  'ADT^A28': 'person', 'ADT^A31': 'person',
  'ADT^A40': 'merge',
  'ORM^O01': 'order', 'OMI^O23': 'order', 'OMG^O19': 'order', 'OML^O21': 'order',
  'ORU^R01': 'result',
  'SIU^S12': 'appointment', 'SIU^S13': 'appointment', 'SIU^S14': 'appointment', 'SIU^S15': 'appointment',
  'REF^I12': 'referral', 'REF^I13': 'referral', 'REF^I14': 'referral', 'REF^I15': 'referral',
};

export function facilityOf(m: Hl7Message, cfg: Hl7SourceConfig): string {
  return cfg.facility || m.sendingFacility || m.segments[0]?.fields[4]?.[0]?.[1]?.[0] || m.sendingApplication || 'unknown';
}

export function isSupported(m: Hl7Message): boolean {
  return `${m.type}^${m.trigger}` in ROUTES;
}

export function mapHl7v2(m: Hl7Message, cfg: Hl7SourceConfig = {}): { bundle?: Bundle; issues: Issue[] } {
  const route = ROUTES[`${m.type}^${m.trigger}`];
  if (!route) return { issues: [issue('error', 'not-supported', `Message type ${m.type}^${m.trigger} is not mapped to FHIR`, 'MSH-9')] };
  const ctx = new MapContext(m, cfg, facilityOf(m, cfg));
  const pids = ctx.all('PID');
  if (!pids.length) return { issues: [issue('error', 'required', `${m.type}^${m.trigger} without a PID segment`, 'PID')] };
  const patient = mapPatient(ctx, pids[0]!);
  if (!patient) return { issues: ctx.issues };

  switch (route) {
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
    case 'order':
    case 'result': {
      const encounter = mapEncounter(ctx, patient);
      const groups = orderGroups(ctx);
      if (!groups.length) ctx.issues.push(issue('error', 'required', `${m.type}^${m.trigger} without ORC or OBR`, 'OBR'));
      for (const g of groups) {
        const order = mapServiceRequest(ctx, g, patient, encounter, route === 'result');
        if (route === 'result') mapReport(ctx, g, patient, encounter, order);
      }
      break;
    }
    case 'appointment':
      mapAppointment(ctx, patient);
      break;
    case 'referral':
      mapReferral(ctx, patient, ctx.find('PV1') ? mapEncounter(ctx, patient) : undefined);
      break;
  }
  return { bundle: ctx.bundle(), issues: ctx.issues };
}
