import type { Issue } from '../fhir/outcome';
import type { ImagingStudy, Patient } from 'fhir/r4';
import { intakeFacilityIssue } from '../auth/rules';
import { hasErrors } from '../fhir/outcome';
import { first } from './hl7v2/parse';
import { convertDicom, mergeImagingStudy, type DicomSourceConfig } from './dicom';
import { convertHl7v2, type Hl7SourceConfig } from './hl7v2';
import type { AckCode } from './hl7v2/ack';
import type { ConvertedUnit, FeedAdapter, Intake, IntakeResult } from './intake';
import { convertClaim } from './vn-claim';

/**
 * The feeds the intake knows: each adapter turns a stored message's bytes into units with the
 * format's own pure converter. Replay uses the same adapters, so a message runs the same way
 * the second time.
 */

/** Vietnamese claim XML (GIAMDINHHS envelope or one inner table): one unit per HOSO. */
export const vnClaimAdapter: FeedAdapter = {
  feed: 'vn-claim',
  convert: (raw, meta) => convertClaim(raw, meta.facility ? { facility: meta.facility } : {}),
};

/**
 * The dedupe key of an HL7 v2 message: MSH-10 is unique per sender only. The one place it is
 * built, so the lookup and the key recorded when the message is finished always agree.
 */
function hl7SourceKey(conv: ReturnType<typeof convertHl7v2>): string {
  return conv.messageControlId ? `${conv.sender}|${conv.messageControlId}` : '';
}

function hl7Unit(conv: ReturnType<typeof convertHl7v2>): ConvertedUnit {
  // A message whose header could not be read is about the message as a whole (index -1): rejected.
  return { index: conv.message ? 0 : -1, sourceKey: hl7SourceKey(conv), facility: conv.facility, ...(conv.bundle ? { bundle: conv.bundle } : {}), issues: conv.issues };
}

/** HL7 v2 over MLLP or HTTP: one message, one unit. */
export function hl7v2Adapter(cfg: Hl7SourceConfig): FeedAdapter {
  return { feed: 'hl7v2', convert: (raw) => [hl7Unit(convertHl7v2(raw, cfg))] };
}

/** DICOM Part 10 or DICOM JSON: one unit (an ImagingStudy and what it references). */
export function dicomAdapter(cfg: DicomSourceConfig): FeedAdapter {
  return {
    feed: 'dicom',
    convert: (raw, meta) => {
      const facility = meta.facility ?? cfg.facility;
      const c = convertDicom(raw, meta.contentType ?? 'application/dicom', { ...cfg, facility });
      // A mapped Institution Name decides the facility, so the facility rules see whose images these are.
      return [{ index: c.sourceKey || c.bundle ? 0 : -1, sourceKey: c.sourceKey, facility: c.facility, ...(c.bundle ? { bundle: c.bundle } : {}), issues: c.issues }];
    },
    // Each Part 10 file carries one instance: add it to the study already stored.
    async merge(bundle, read) {
      for (const e of bundle.entry ?? []) {
        const study = e.resource as ImagingStudy | undefined;
        if (study?.resourceType !== 'ImagingStudy' || !study.id) continue;
        const stored = (await read('ImagingStudy', study.id)) as unknown as ImagingStudy | undefined;
        if (stored) e.resource = { ...mergeImagingStudy(stored, study), id: study.id };
      }
      return bundle;
    },
  };
}

/**
 * One HL7 v2 message in, its ACK out, after the raw message is persisted and the resources
 * are stored: AA when stored, AE when quarantined (with ERR segments saying what and where),
 * AR when unreadable. The ACK is built from what the message log records, so a repeated MSH-10
 * from the same sender is answered with the first message's code and ERR segments (MSA-2 is
 * the resent message's own MSH-10) without being processed again.
 */
export async function receiveHl7v2(intake: Intake, raw: Buffer, cfg: Hl7SourceConfig, transport: string, ack: AckPolicy = { mode: 'stored' }): Promise<{ ack: Buffer; result: IntakeResult }> {
  const conv = convertHl7v2(raw, cfg);
  const input = {
    feed: 'hl7v2',
    raw,
    ...(conv.facility ? { facility: conv.facility } : {}),
    ...(conv.messageControlId ? { sourceKey: hl7SourceKey(conv) } : {}),
    contentType: transport,
    ...(conv.message ? { detectedCharset: conv.message.charset } : {}),
  };
  // Only a message that converted cleanly is acknowledged on receipt: one with errors is
  // quarantined at once (nothing to store), so its sender hears why in this very ACK.
  const early = ackMode(ack, conv.sender) === 'received' && !!conv.bundle && !hasErrors(conv.issues) && !intakeFacilityIssue(conv.facility);
  const result = early ? await intake.accept(input, hl7OrderKey(conv), [hl7Unit(conv)]) : await intake.receive(input, [hl7Unit(conv)]);
  const answered = result.status === 'duplicate' ? result.previous! : result;
  // Enhanced mode (MSH-15 = AL) asks for the commit ACK; original mode gets AA.
  const received: AckCode = conv.message && first(conv.message.segments[0]?.fields[15]) === 'AL' ? 'CA' : 'AA';
  const code: AckCode = answered.status === 'received' ? received : answered.status === 'accepted' ? 'AA' : answered.status === 'rejected' ? 'AR' : 'AE';
  const issues = answered.status === 'received' ? conv.issues : recordedIssues(answered.units, answered.outcome);
  return { ack: conv.ack(code, issues), result };
}

/** When an HL7 v2 feed is acknowledged: on receipt (`received`) or once stored (`stored`), per sender (MSH-3^MSH-4). */
export interface AckPolicy {
  mode: 'received' | 'stored';
  bySender?: Record<string, 'received' | 'stored'>;
}

function ackMode(p: AckPolicy, sender: string): 'received' | 'stored' {
  return p.bySender?.[sender] ?? p.mode;
}

/** Sender and patient: the messages that must be applied in the order they came. */
function hl7OrderKey(conv: ReturnType<typeof convertHl7v2>): string {
  const patient = conv.bundle?.entry?.find((e) => e.resource?.resourceType === 'Patient')?.resource as Patient | undefined;
  return `hl7v2|${conv.sender}|${patient?.id ?? ''}`;
}

type RecordedOutcome = { issue?: { severity: Issue['severity']; code: Issue['code']; diagnostics?: string; details?: { text?: string }; expression?: string[] }[] };

/** The Issues a message's recorded outcome holds (its units' first, then the message's own), back in the ACK's terms. */
function recordedIssues(units: unknown, outcome: unknown): Issue[] {
  const outcomes = [...((units ?? []) as { outcome?: RecordedOutcome }[]).map((u) => u.outcome), outcome as RecordedOutcome | undefined];
  return outcomes.flatMap((o) => (o?.issue ?? []).map((i) => ({ severity: i.severity, code: i.code, diagnostics: i.diagnostics ?? i.details?.text ?? '', ...(i.expression?.[0] ? { expression: i.expression[0] } : {}) })));
}
