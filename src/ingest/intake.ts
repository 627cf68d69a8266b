import { createHash, randomUUID } from 'node:crypto';
import type { Bundle, BundleEntry, OperationOutcome, Provenance } from 'fhir/r4';
import { FhirError, hasErrors, issue, toOperationOutcome, type Issue } from '../fhir/outcome';
import { intakeFacilityIssue } from '../auth/rules';
import { current } from '../auth/context';
import type { Logger } from '../logger';
import type { BundleProcessor } from '../service/bundle';
import type { Claim, MessageLog, MessageMeta, MessageRecord, MessageStatus } from '../store/message-log';
import type { Queryable } from '../store/db';
import { deterministicId } from './ids';

/**
 * The intake every source format shares:
 *   persist raw → recognise duplicates → convert (format adapter) → store each unit in one
 *   transaction with a Provenance → record the outcome.
 * The raw message is durable before anything is answered, so nothing acknowledged is lost; a
 * message whose processing was interrupted is taken up again by a recovery pass (at start and
 * every half minute), and any message can be replayed once the cause of its quarantine is fixed.
 */

/** One independently stored piece of a message: a HOSO of a claim file, an HL7 v2 message. */
export interface ConvertedUnit {
  index: number;
  sourceKey: string;
  facility: string;
  bundle?: Bundle;
  issues: Issue[];
}

export type ReadStored = (type: string, id: string) => Promise<Record<string, unknown> | undefined>;

/** A format adapter: pure conversion of the message's bytes into units. */
export interface FeedAdapter {
  feed: string;
  convert(raw: Buffer, meta: { facility?: string; contentType?: string }): AsyncIterable<ConvertedUnit> | Iterable<ConvertedUnit>;
  /**
   * Combines a unit with what is already stored, for formats whose messages each carry part
   * of a resource (DICOM: one instance of a study per file). Runs again if a concurrent
   * message changed the same resource first.
   */
  merge?(bundle: Bundle, read: ReadStored): Promise<Bundle>;
}

export interface UnitResult {
  index: number;
  sourceKey: string;
  status: 'accepted' | 'quarantined';
  response?: Bundle;
  outcome?: OperationOutcome;
}

export interface IntakeResult {
  messageId: string;
  status: MessageStatus;
  duplicateOf?: string;
  facility: string;
  units: UnitResult[];
  /** Issues about the message as a whole (rejection reason, or warnings). */
  outcome?: OperationOutcome;
  /** The earlier message's recorded answer, for a duplicate. */
  previous?: MessageRecord;
}

export interface ReceiveInput {
  feed: string;
  raw: Buffer;
  facility?: string;
  sourceKey?: string;
  contentType?: string;
  declaredCharset?: string;
  detectedCharset?: string;
}

/** This process's claim on a message was taken over (it had gone stale): the new holder runs it. */
class ClaimLost extends Error {
  constructor(id: string) {
    super(`message ${id} was taken up by another pass while this one ran it`);
  }
}

export const INGEST_MESSAGE_SYSTEM = 'urn:fhir-gateway:ingest-message';

/** The Provenance that ties what a unit produced to the raw message it came from. */
export function provenanceFor(messageId: string, unit: ConvertedUnit, feed: string, targets: string[], recorded: string): Provenance {
  return {
    resourceType: 'Provenance',
    id: deterministicId(unit.facility, 'Provenance', messageId, String(unit.index)),
    target: targets.map((reference) => ({ reference })),
    recorded,
    activity: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-DataOperation', code: 'UPDATE' }], text: `${feed} intake` },
    agent: [{ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type', code: 'assembler' }] }, who: { display: 'fhir-gateway intake' } }],
    entity: [
      {
        role: 'source',
        what: { identifier: { system: INGEST_MESSAGE_SYSTEM, value: messageId }, display: `${feed} message ${messageId}${unit.sourceKey ? ` (${unit.sourceKey})` : ''}` },
      },
    ],
  };
}

export interface RecoveryOptions {
  /** A message left `received` (and unclaimed) this long is taken up again. */
  graceMs: number;
  /** After this many attempts a message that still fails is quarantined with the reason. */
  maxAttempts: number;
  /** Background workers take the messages queued on receipt; recovery only stale claims. */
  workers?: boolean;
}

const RECOVERY_DEFAULTS: RecoveryOptions = { graceMs: 60_000, maxAttempts: 5 };
const RECOVERY_BATCH = 50;
const CONVERTED_KEPT = 20_000;

/** The facility rule for a message processed away from its request: the sender's facility was recorded with it. */
function queuedFacilityIssue(senderFacility: string | undefined, unitFacility: string): Issue | undefined {
  if (!senderFacility || !unitFacility || unitFacility === senderFacility) return undefined;
  return issue('error', 'forbidden', `403: the content belongs to facility ${unitFacility}; this sender is facility ${senderFacility}`);
}

export class Intake {
  private readonly adapters = new Map<string, FeedAdapter>();
  private readonly recovery: RecoveryOptions;
  private recovering: Promise<number> | undefined;
  /**
   * Units converted at receipt of messages queued by this process, so its worker need not read
   * and convert them again; another process (or a restart) converts from the log.
   */
  private readonly converted = new Map<string, ConvertedUnit[]>();
  /** Called when a message is queued for the background workers. */
  onQueued: (() => void) | undefined;

  constructor(
    private readonly log: MessageLog,
    private readonly bundles: BundleProcessor,
    private readonly read: ReadStored,
    private readonly logger?: Logger,
    recovery: Partial<RecoveryOptions> = {},
  ) {
    this.recovery = { ...RECOVERY_DEFAULTS, ...recovery };
  }

  register(adapter: FeedAdapter): void {
    this.adapters.set(adapter.feed, adapter);
  }

  /**
   * `converted`: units the caller already produced from these bytes (the HL7 v2 path parses
   * once to build its ACK); otherwise the feed's adapter converts them.
   */
  async receive(input: ReceiveInput, converted?: ConvertedUnit[]): Promise<IntakeResult> {
    const admitted = await this.admit(input);
    if ('result' in admitted) return admitted.result;
    await this.log.append(admitted.meta, input.raw);
    // The receiver holds the first attempt from the start (see MessageLog.append).
    try {
      return await this.process({ id: admitted.meta.id, attempts: 1 }, input.feed, input.raw, input.facility, input.contentType, converted);
    } catch (e) {
      if (!(e instanceof ClaimLost)) throw e;
      return { messageId: admitted.meta.id, status: 'received', facility: admitted.meta.facility, units: [] };
    }
  }

  /**
   * Acknowledge on receipt: the message is durable in the log when this returns (status
   * `received`, or `duplicate` with the first message's answer); a background worker converts
   * and stores it. `orderKey` (sender and patient) keeps one patient's messages in order.
   */
  async accept(input: ReceiveInput, orderKey?: string, converted?: ConvertedUnit[]): Promise<IntakeResult> {
    const admitted = await this.admit(input, true);
    if ('result' in admitted) return admitted.result;
    const p = current()?.principal;
    const meta = { ...admitted.meta, ...(orderKey ? { orderKey } : {}), ...(p && !p.admin ? { senderFacility: p.facility } : {}) };
    if (converted) {
      // Bounded: entries of messages another process took are dropped oldest first.
      if (this.converted.size >= CONVERTED_KEPT) this.converted.delete(this.converted.keys().next().value!);
      this.converted.set(meta.id, converted);
    }
    try {
      await this.log.append(meta, input.raw, 'received', undefined, true);
    } catch (e) {
      this.converted.delete(meta.id);
      throw e;
    }
    this.onQueued?.();
    return { messageId: meta.id, status: 'received', facility: meta.facility, units: [] };
  }

  /**
   * The log record of a new message, or the answer to a duplicate. `queued`: a resend of a
   * message still waiting in the backlog is a duplicate too (the worker will process the first).
   */
  private async admit(input: ReceiveInput, queued = false): Promise<{ meta: MessageMeta } | { result: IntakeResult }> {
    const adapter = this.adapters.get(input.feed);
    if (!adapter) throw new FhirError(404, `no intake for feed '${input.feed}'`, 'not-supported');
    const checksum = createHash('sha256').update(input.raw).digest('hex');
    const facility = input.facility ?? 'unknown';
    const meta = {
      id: randomUUID(),
      feed: input.feed,
      facility,
      checksum,
      size: input.raw.length,
      receivedAt: new Date().toISOString(),
      ...(input.sourceKey ? { sourceKey: input.sourceKey } : {}),
      ...(input.contentType ? { contentType: input.contentType } : {}),
      ...(input.declaredCharset ? { declaredCharset: input.declaredCharset } : {}),
      ...(input.detectedCharset ? { detectedCharset: input.detectedCharset } : {}),
    };
    // Without a declared facility the content names it (e.g. MA_CSKCB); match on content alone.
    const previous = await this.log.findDuplicate(input.feed, input.facility, checksum, input.sourceKey);
    // A refusal of the sender's authority (403) says nothing about the content: the rightful sender's copy is no duplicate.
    const refusedSender = previous?.status === 'rejected' && (previous.outcome as OperationOutcome | undefined)?.issue?.some((i) => i.code === 'forbidden');
    if (previous && (previous.status !== 'received' || queued) && !refusedSender) {
      // Recorded (for the audit trail) but not processed again: the sender gets the first answer.
      await this.log.append(meta, undefined, 'duplicate', previous.id);
      this.logger?.info({ feed: input.feed, message: meta.id, duplicateOf: previous.id }, 'duplicate message');
      return { result: { messageId: meta.id, status: 'duplicate', duplicateOf: previous.id, facility, units: [], previous } };
    }
    return { meta };
  }

  /** Runs a stored message again (after its cause was fixed). */
  async replay(id: string): Promise<IntakeResult> {
    const rec = await this.log.get(id);
    if (!rec) throw new FhirError(404, `message ${id} is not known`, 'not-found');
    if (rec.status === 'duplicate') throw new FhirError(409, `message ${id} is a duplicate of ${rec.duplicateOf}; replay that one`, 'conflict');
    const attempts = await this.log.claim(id);
    try {
      return (await this.run({ id, attempts }))!;
    } catch (e) {
      if (!(e instanceof ClaimLost)) throw e;
      throw new FhirError(409, `message ${id} was taken up by another replay or recovery pass while this replay ran; see its status`, 'conflict');
    }
  }

  /** `claimed`: a message finished or claimed again meanwhile is left alone (see runClaimed). */
  private async run(claim: Claim, claimed = false): Promise<IntakeResult | undefined> {
    const { id } = claim;
    const rec = await this.log.get(id);
    if (!rec) throw new FhirError(404, `message ${id} is not known`, 'not-found');
    // Taken up meanwhile by another process (its claim went stale while it waited in a batch
    // here): running it again could apply it after a later message of the same patient.
    if (claimed && (rec.status !== 'received' || rec.attempts !== claim.attempts)) return undefined;
    if (!this.adapters.has(rec.feed)) throw new FhirError(409, `message ${id} is of feed '${rec.feed}', which this gateway does not take in`, 'not-supported');
    const converted = this.converted.get(id);
    const raw = await this.log.raw(id);
    if (!raw) throw new FhirError(409, `message ${id} has no stored content`, 'not-found');
    try {
      return await this.process(claim, rec.feed, raw, rec.facility === 'unknown' ? undefined : rec.facility, rec.contentType, converted, rec.senderFacility);
    } finally {
      this.converted.delete(id);
    }
  }

  /**
   * Finishes what was persisted but never finished: by a process that stopped, or whose
   * database write failed. Takes every such message left longer than `graceMs` (all of them,
   * a batch at a time), each on its own: one that fails is recorded and tried again on a later
   * pass, and quarantined with its reason after `maxAttempts`. Returns how many it took up.
   */
  async recover(graceMs = 0): Promise<number> {
    const before = await this.log.cutoff(graceMs);
    let n = 0;
    for (;;) {
      // Rows claimed in this pass are newer than `before`, so each batch brings new ones.
      const batch = await this.log.claimUnfinished(before, RECOVERY_BATCH, !this.recovery.workers);
      await this.runBatch(batch, 1);
      n += batch.length;
      if (batch.length < RECOVERY_BATCH) return n;
    }
  }

  /** Runs `recover` every `intervalMs` (one pass at a time); returns a stop that waits for the pass under way. */
  startRecovery(intervalMs: number): () => Promise<void> {
    const pass = () => {
      this.recovering ??= this.recover(this.recovery.graceMs)
        .then((n) => {
          if (n > 0) this.logger?.warn({ recovered: n }, 'took up messages left unfinished');
          return n;
        })
        .catch((e: Error) => {
          this.logger?.error({ err: e.message }, 'recovery pass failed');
          return 0;
        })
        .finally(() => (this.recovering = undefined));
      return this.recovering;
    };
    void pass();
    const timer = setInterval(() => void pass(), intervalMs).unref();
    return async () => {
      clearInterval(timer);
      await this.recovering;
    };
  }

  /**
   * Runs claimed messages `width` at a time, renewing the claim of every one not yet finished
   * (those still waiting their turn too) four times per recovery grace: a claim left to go stale
   * would let a recovery pass, here or in another gateway, run the message a second time.
   */
  async runBatch(batch: Claim[], width: number): Promise<void> {
    const heartbeatMs = Math.max(250, this.recovery.graceMs / 4);
    let next = 0;
    const unfinished = new Set(batch);
    const lane = async () => {
      while (next < batch.length) {
        const m = batch[next++]!;
        await this.runClaimed(m);
        unfinished.delete(m);
      }
    };
    const heartbeat = setInterval(() => void this.log.touch([...unfinished]).catch(() => undefined), heartbeatMs);
    try {
      await Promise.all(Array.from({ length: Math.min(width, batch.length) }, lane));
    } finally {
      clearInterval(heartbeat);
    }
  }

  /**
   * Runs a message this process has claimed (a recovery pass, a background worker). A failure is
   * recorded and the message tried again once its claim is stale; quarantined after `maxAttempts`.
   * A claim taken over by another pass meanwhile leaves the message to that pass.
   */
  async runClaimed(claim: Claim): Promise<void> {
    const { maxAttempts } = this.recovery;
    const { id, attempts } = claim;
    try {
      if (attempts > maxAttempts) throw new Error('processing never finished (the process stopped or its database failed each time)');
      await this.run(claim, true);
    } catch (e) {
      if (e instanceof ClaimLost) {
        this.logger?.warn({ message: id, attempts }, 'message taken up by another pass; left to it');
        return;
      }
      const reason = (e as Error).message;
      this.logger?.error({ message: id, attempts, err: reason }, 'recovery attempt failed');
      const giveUp = attempts >= maxAttempts;
      const outcome = toOperationOutcome([issue('error', e instanceof FhirError ? e.issues[0]!.code : 'exception', giveUp ? `quarantined after ${attempts} attempts: ${reason}` : `attempt ${attempts} failed: ${reason}`)]);
      await (giveUp ? this.log.finish(id, attempts, 'quarantined', { outcome }) : this.log.recordFailure(id, attempts, outcome)).catch((e2: Error) =>
        this.logger?.error({ message: id, err: e2.message }, 'could not record the failure'),
      );
    }
  }

  private async process(claim: Claim, feed: string, raw: Buffer, facility: string | undefined, contentType?: string, converted?: ConvertedUnit[], senderFacility?: string): Promise<IntakeResult> {
    const { id } = claim;
    const adapter = this.adapters.get(feed)!;
    const units: UnitResult[] = [];
    const messageIssues: Issue[] = [];
    let unitFacility: string | undefined;
    let sourceKey: string | undefined;
    let lastTouch = Date.now();
    try {
      for await (const unit of converted ?? adapter.convert(raw, { ...(facility ? { facility } : {}), ...(contentType ? { contentType } : {}) })) {
        if (unit.index < 0) {
          messageIssues.push(...unit.issues);
          continue;
        }
        unitFacility ??= unit.facility || undefined;
        sourceKey ??= unit.sourceKey || undefined;
        // Content of another facility than the sender's: the whole message is refused, nothing stored.
        const foreign = intakeFacilityIssue(unit.facility) ?? queuedFacilityIssue(senderFacility, unit.facility);
        if (foreign) {
          messageIssues.push(foreign);
          units.length = 0;
          break;
        }
        units.push(await this.storeUnit(claim, adapter, unit));
        if (Date.now() - lastTouch > this.recovery.graceMs / 2) {
          // A long file: keep it claimed so no recovery pass takes it up while it is worked on.
          lastTouch = Date.now();
          await this.log.touch([claim]).catch(() => undefined);
        }
      }
    } catch (e) {
      if (e instanceof ClaimLost) throw e;
      // An adapter must not throw, but if one does the message is kept and quarantined.
      messageIssues.push(issue('error', 'exception', `conversion failed: ${(e as Error).message}`));
    }
    if (units.length === 0 && !hasErrors(messageIssues)) messageIssues.push(issue('error', 'required', 'the message holds nothing to convert'));
    // rejected: nothing in it could be read; quarantined: some of it (or all) must be fixed and replayed.
    const status: MessageStatus = units.length === 0 ? 'rejected' : hasErrors(messageIssues) || units.some((u) => u.status === 'quarantined') ? 'quarantined' : 'accepted';
    const outcome = messageIssues.length ? toOperationOutcome(messageIssues) : undefined;
    const resolvedFacility = facility ?? unitFacility ?? 'unknown';
    const recorded = await this.log.finish(id, claim.attempts, status, {
      units: units.map((u) => ({ index: u.index, sourceKey: u.sourceKey, status: u.status, ...(u.outcome ? { outcome: u.outcome } : {}), ...(u.response ? { resources: (u.response.entry ?? []).map((e) => e.response?.location) } : {}) })),
      ...(outcome ? { outcome } : {}),
      ...(resolvedFacility !== 'unknown' ? { facility: resolvedFacility } : {}),
      ...(sourceKey ? { sourceKey } : {}),
    });
    // Another pass took the message over after this one's last unit: its record is the one that counts.
    if (!recorded) throw new ClaimLost(id);
    this.logger?.info({ feed, message: id, status, units: units.length, quarantined: units.filter((u) => u.status === 'quarantined').length }, 'message processed');
    return { messageId: id, status, facility: resolvedFacility, units, ...(outcome ? { outcome } : {}) };
  }

  private async storeUnit(claim: Claim, adapter: FeedAdapter, unit: ConvertedUnit): Promise<UnitResult> {
    const messageId = claim.id;
    const feed = adapter.feed;
    const base = { index: unit.index, sourceKey: unit.sourceKey };
    if (!unit.bundle || hasErrors(unit.issues)) return { ...base, status: 'quarantined', outcome: toOperationOutcome(unit.issues) };
    const attempt = async (): Promise<Bundle> => {
      const bundle = adapter.merge ? await adapter.merge(structuredClone(unit.bundle!), this.read) : unit.bundle!;
      const entries: BundleEntry[] = [...(bundle.entry ?? [])];
      // fullUrl when the unit uses urn:uuid ids (rewritten with the rest), else the PUT's Type/id.
      const targets = entries.map((e) => e.fullUrl ?? e.request?.url?.split('?')[0]).filter((u): u is string => !!u && (u.includes('/') || u.startsWith('urn:')));
      const prov = provenanceFor(messageId, unit, feed, targets, new Date().toISOString());
      entries.push({ resource: prov, request: { method: 'PUT', url: `Provenance/${prov.id}` } });
      // The raw message is already durable and replays to the same result, so this commit need
      // not wait for the disk: after a crash, start-up recovery redoes it.
      // Applied only while this process holds the message: a pass that took over a stale claim
      // and this one must never both apply it, or an admission could land after its update.
      const beforeCommit = async (tx: Queryable) => {
        if (!(await this.log.holdsClaim(tx, claim.id, claim.attempts))) throw new ClaimLost(claim.id);
      };
      return this.bundles.process({ ...bundle, type: 'transaction', entry: entries }, { facility: unit.facility || 'unknown', feed, mapped: true }, { relaxedCommit: true, beforeCommit });
    };
    try {
      // A concurrent message that wrote the same resource first (409) is no fault in the data: try again.
      for (let i = 0; ; i++) {
        try {
          // Warnings are kept with the unit, so a duplicate can be answered with them too.
          const warnings = unit.issues.filter((i) => i.severity !== 'information');
          return { ...base, status: 'accepted', response: await attempt(), ...(warnings.length ? { outcome: toOperationOutcome(warnings) } : {}) };
        } catch (e) {
          if (!(e instanceof FhirError && e.status === 409 && i < 3)) throw e;
        }
      }
    } catch (e) {
      if (e instanceof ClaimLost) throw e;
      const outcome = e instanceof FhirError ? e.outcome() : toOperationOutcome([issue('error', 'exception', 'the unit could not be stored')]);
      if (!(e instanceof FhirError)) this.logger?.error({ feed, message: messageId, unit: unit.index, err: (e as Error).message }, 'store failed');
      return { ...base, status: 'quarantined', outcome };
    }
  }
}
