import { createHash, randomUUID } from 'node:crypto';
import type { Bundle, Patient } from 'fhir/r4';
import { MessageLog, type Claim } from '../../src/store/message-log';
import { STORES, startTestGateway, type TestGateway } from '../helpers/gateway';

/**
 * A claim is the attempt a process took: a recovery pass that finds it stale claims the message
 * again (one attempt more), and from then on only the new holder may apply or record it. Without
 * this an admission run by a stale holder could land after its update, run by the new one.
 */
describe.each(STORES)('a claim taken over by another pass (%s store)', (store) => {
  let gw: TestGateway;
  let log: MessageLog;
  /** Runs once, between a unit's conversion and its transaction (the adapter's merge step). */
  let midway: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    // No recovery passes and no background workers: the test makes every claim itself.
    gw = await startTestGateway(store, { recoveryIntervalSeconds: 0, ingestWorkers: 0 });
    log = new MessageLog(gw.db);
    gw.intake.register({
      feed: 'takeover-test',
      *convert(raw) {
        const family = raw.toString();
        const bundle: Bundle = { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: { resourceType: 'Patient', id: family, name: [{ family }] } as Patient, request: { method: 'PUT', url: `Patient/${family}` } }] };
        yield { index: 0, sourceKey: family, facility: '79001', bundle, issues: [] };
      },
      async merge(bundle) {
        const step = midway;
        midway = undefined;
        await step?.();
        return bundle;
      },
    });
  });
  afterAll(() => gw.stop());

  /** A message acknowledged on receipt and claimed by a worker (its first attempt). */
  const queuedAndClaimed = async (): Promise<{ id: string; patient: string; first: Claim }> => {
    const patient = `takeover-${randomUUID().slice(0, 8)}`;
    const raw = Buffer.from(patient);
    const id = randomUUID();
    await log.append({ id, feed: 'takeover-test', facility: '79001', checksum: createHash('sha256').update(raw).digest('hex'), size: raw.length, receivedAt: new Date().toISOString() }, raw, 'received', undefined, true);
    const first = (await log.claimQueued(100)).find((c) => c.id === id)!;
    expect(first).toEqual({ id, attempts: 1 });
    return { id, patient, first };
  };
  /** What a recovery pass does when it finds the claim stale (a cutoff after the claim). */
  const takeOver = async (id: string): Promise<Claim> => (await log.claimUnfinished(new Date(Date.now() + 3_600_000), 100)).find((c) => c.id === id)!;
  const patientStatus = async (patient: string) => (await fetch(`${gw.fhir}/Patient/${patient}`)).status;

  test('taken over while its unit was being applied: the stale holder writes nothing and records nothing; the new holder stores it', async () => {
    const { id, patient, first } = await queuedAndClaimed();
    let second: Claim | undefined;
    midway = async () => {
      second = await takeOver(id);
    };
    await gw.intake.runClaimed(first);
    expect(second).toEqual({ id, attempts: 2 });
    expect(await patientStatus(patient)).toBe(404);
    const left = await log.get(id);
    expect(left).toMatchObject({ status: 'received', attempts: 2 });
    expect(left!.outcome).toBeUndefined();

    await gw.intake.runClaimed(second!);
    expect(await log.get(id)).toMatchObject({ status: 'accepted', attempts: 2 });
    expect(await patientStatus(patient)).toBe(200);
  });

  test('taken over before its turn in a batch: the stale holder leaves it alone', async () => {
    const { id, patient, first } = await queuedAndClaimed();
    const second = await takeOver(id);
    await gw.intake.runBatch([first], 1);
    expect(await patientStatus(patient)).toBe(404);
    expect(await log.get(id)).toMatchObject({ status: 'received', attempts: 2 });
    await gw.intake.runBatch([second], 1);
    expect(await log.get(id)).toMatchObject({ status: 'accepted', attempts: 2 });
  });

  test("a stale holder's heartbeat does not renew the new holder's claim, and its failure is not recorded", async () => {
    const { id, first } = await queuedAndClaimed();
    const second = await takeOver(id);
    const claimedAt = async () => (await gw.db.query<{ t: string }>(`SELECT claimed_at::text AS t FROM ingest_messages WHERE id = $1`, [id]))[0]!.t;
    await gw.db.query(`UPDATE ingest_messages SET claimed_at = claimed_at - interval '1 hour' WHERE id = $1`, [id]);
    const stale = await claimedAt();
    await log.touch([first]);
    expect(await claimedAt()).toBe(stale);
    await log.recordFailure(id, first.attempts, { resourceType: 'OperationOutcome', issue: [] });
    expect((await log.get(id))!.outcome).toBeUndefined();
    expect(await log.finish(id, first.attempts, 'quarantined', {})).toBe(false);
    await log.touch([second]);
    expect(await claimedAt()).not.toBe(stale);
    expect(await log.finish(id, second.attempts, 'accepted', {})).toBe(true);
  });
});
