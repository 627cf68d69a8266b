import type { Bundle } from 'fhir/r4';
import { hasErrors, issue, type Issue } from '../../fhir/outcome';
import { isStorable, unstorableIssue } from '../../fhir/text';
import { ackCodeFor, buildAckBytes, type AckCode } from './ack';
import type { Hl7SourceConfig } from './config';
import type { Explanation } from './explain';
import { facilityOf, mapHl7v2, type MapOptions } from './map';
import { parseHl7v2, type Hl7Message } from './parse';

/**
 * The one entry point intake calls for HL7 v2 (MLLP frame or HTTP body): bytes in, the keys
 * intake needs for dedupe and routing, the Bundle, Issues, and ACK builders out. Pure and
 * never throws; what to persist and when to ACK is intake's decision.
 */
export interface Hl7v2Conversion {
  /** MSH-10: with `sender`, the dedupe key ("the same message again"). */
  messageControlId: string;
  /** MSH-3.1^MSH-4.1: who sent it. */
  sender: string;
  /** MA_CSKCB the resource ids are scoped to (configuration, else MSH-4). */
  facility: string;
  /** MSH-9 as `TYPE^TRIGGER`, e.g. `ORU^R01`. */
  messageType: string;
  version: string;
  message?: Hl7Message;
  bundle?: Bundle;
  /** Parse and mapping Issues, with HL7 locations such as `PID-3[2].1`. */
  issues: Issue[];
  /** The code the Issues call for: AR unreadable, AE errors, AA otherwise. */
  ackCode: AckCode;
  /** With `explain`: each non-empty field, where it went or why it was dropped. */
  explanation?: Explanation;
  /** ACK bytes (in the message's charset) with the given code and Issues (default: this conversion's). */
  ack(code?: AckCode, issues?: Issue[]): Buffer;
}

/** `PID-5`, `OBX(2)-5`: each field holding a character no store can keep. */
function unstorableFields(message: Hl7Message): Issue[] {
  const found: Issue[] = [];
  const seen = new Map<string, number>();
  for (const seg of message.segments) {
    const occurrence = (seen.get(seg.id) ?? 0) + 1;
    seen.set(seg.id, occurrence);
    seg.fields.forEach((field, n) => {
      if (n > 0 && field.some((rep) => rep.some((comp) => comp.some((v) => !isStorable(v))))) {
        found.push(unstorableIssue(`${seg.id}${occurrence > 1 ? `(${occurrence})` : ''}-${n}`));
      }
    });
  }
  return found;
}

function convertMessage(message: Hl7Message | undefined, cfg: Hl7SourceConfig, leading: Issue[], mappable: boolean, opts: MapOptions): Hl7v2Conversion {
  const unstorable = message ? unstorableFields(message) : [];
  const issues: Issue[] = [...leading, ...(message?.issues ?? []), ...unstorable];
  // A message whose header could not be read cannot be mapped safely; one holding characters
  // that cannot be stored is quarantined with the fields named.
  const readable = !!message && !hasErrors(message.issues);
  let bundle: Bundle | undefined;
  let explanation: Explanation | undefined;
  if (message && readable && mappable && unstorable.length === 0) {
    const mapped = mapHl7v2(message, cfg, opts);
    bundle = mapped.bundle;
    explanation = mapped.explanation;
    issues.push(...mapped.issues);
  }
  const ackCode = ackCodeFor(issues, readable);
  return {
    messageControlId: message?.controlId ?? '',
    sender: message ? `${message.sendingApplication}^${message.sendingFacility}` : '',
    facility: message ? facilityOf(message, cfg) : cfg.facility ?? '',
    messageType: message ? `${message.type}^${message.trigger}` : '',
    version: message?.version ?? '',
    message,
    bundle,
    issues,
    ackCode,
    ...(explanation ? { explanation } : {}),
    ack: (code = ackCode, extra = issues) => buildAckBytes(message, { code, issues: extra }),
  };
}

/** One message (an MLLP frame or an HTTP body). */
export function convertHl7v2(raw: Buffer, cfg: Hl7SourceConfig = {}, opts: MapOptions = {}): Hl7v2Conversion {
  const batch = parseHl7v2(raw, { charset: cfg.charset });
  const leading = [...batch.issues];
  const single = batch.messages.length <= 1;
  if (!single) {
    leading.push(issue('error', 'structure', `${batch.messages.length} messages in one frame: send one message per frame, or the file to the batch intake`, 'MSH'));
  }
  return convertMessage(batch.messages[0], cfg, leading, single, opts);
}

/** A file or batch (FHS/BHS or plain concatenation) → one conversion per message. */
export function convertHl7v2Batch(raw: Buffer, cfg: Hl7SourceConfig = {}, opts: MapOptions = {}): Hl7v2Conversion[] {
  return parseHl7v2(raw, { charset: cfg.charset }).messages.map((m) => convertMessage(m, cfg, [], true, opts));
}

export type { Hl7SourceConfig } from './config';
export type { AckCode } from './ack';
export { parseHl7v2, parseHl7v2Text, type Hl7Message, type Hl7Batch } from './parse';
export { encodeHl7v2 } from './encode';
export { buildAck, buildAckBytes, ackCodeFor } from './ack';
export type { Explanation, FieldUse } from './explain';
