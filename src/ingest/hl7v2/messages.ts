import type { Reference } from 'fhir/r4';
import type { MapContext } from './context';
import { ADT_MESSAGES } from './messages-adt';
import { BILLING_MESSAGES } from './messages-billing';
import { DOCUMENT_MESSAGES } from './messages-document';
import { IMMUNIZATION_MESSAGES } from './messages-immunization';
import { ORDER_MESSAGES } from './messages-order';
import { PHARMACY_MESSAGES } from './messages-pharmacy';
import { PROBLEM_MESSAGES } from './messages-problem';
import { REFERRAL_MESSAGES } from './messages-referral';
import { SCHEDULING_MESSAGES } from './messages-scheduling';
import type { Hl7Message } from './parse';

/**
 * Which messages convert, as data: `TYPE^TRIGGER` (MSH-9.1^9.2) → the mapping that handles it
 * and the IG message map it follows. Each message family lists its entries in its own
 * `messages-<family>.ts` array, added to FAMILIES below; anything not listed is refused with an
 * AR/AE naming the type.
 */
export interface MessageDef {
  /** `ADT^A01`. */
  event: string;
  /** The abstract message structure (MSH-9.3) the event uses, e.g. `ADT_A01`. */
  structure: string;
  /** The HL7 v2-to-FHIR IG message map followed, e.g. `ADT_A01 to Bundle`. */
  igMap: string;
  /** Maps everything after the patient (which the registry's caller has already put). */
  map: (ctx: MapContext, patient: Reference) => void;
  /** For the few messages about no patient (ADT^A20 bed status): mapped instead of `map`, no PID needed. */
  mapWithoutPatient?: (ctx: MapContext) => void;
}

const FAMILIES: MessageDef[][] = [ADT_MESSAGES, ORDER_MESSAGES, SCHEDULING_MESSAGES, REFERRAL_MESSAGES,
  PHARMACY_MESSAGES, IMMUNIZATION_MESSAGES, DOCUMENT_MESSAGES, BILLING_MESSAGES, PROBLEM_MESSAGES];

const BY_EVENT = new Map<string, MessageDef>();
for (const family of FAMILIES) for (const def of family) BY_EVENT.set(def.event, def);

export function messageDef(m: Pick<Hl7Message, 'type' | 'trigger'>): MessageDef | undefined {
  return BY_EVENT.get(`${m.type}^${m.trigger}`);
}

export function supportedMessages(): MessageDef[] {
  return [...BY_EVENT.values()];
}
