import { createHash, randomUUID } from 'node:crypto';
import { MessageLog } from '../../src/store/message-log';
import { STORES, startTestGateway, type TestGateway } from '../helpers/gateway';
import { adtA04 } from './hl7v2-messages';

/**
 * Messages left `received` (their receiver stopped, or the database failed under it) are taken
 * up while the gateway runs, all of them, each on its own; one that keeps failing is
 * quarantined with its reason after a bounded number of attempts.
 */
describe.each(STORES)('recovery of unfinished messages (%s store)', (store) => {
  let gw: TestGateway;
  let log: MessageLog;
  beforeAll(async () => {
    // the periodic pass is off here: the test runs the passes itself
    gw = await startTestGateway(store, { recoveryIntervalSeconds: 0 });
    log = new MessageLog(gw.db);
  });
  afterAll(() => gw.stop());

  const append = async (feed: string, raw: Buffer | undefined) => {
    const id = randomUUID();
    const bytes = raw ?? Buffer.from('lost');
    await log.append({ id, feed, facility: '79001', checksum: createHash('sha256').update(bytes).update(id).digest('hex'), size: bytes.length, receivedAt: new Date().toISOString() }, raw);
    return id;
  };

  test('250 unfinished messages with poison among them: every good one processed, the poison quarantined with attempts and reason, none left received', async () => {
    const good: string[] = [];
    for (let i = 0; i < 230; i++) good.push(await append('hl7v2', adtA04({ controlId: `REC-${i}`, patientId: `BN-REC-${i}` })));
    const retiredFeed: string[] = [];
    const noContent: string[] = [];
    for (let i = 0; i < 10; i++) retiredFeed.push(await append('retired-feed', Buffer.from(`payload ${i}`)));
    for (let i = 0; i < 10; i++) noContent.push(await append('hl7v2', undefined));
    // all of them left by a receiver that stopped an hour ago
    await gw.db.query(`UPDATE ingest_messages SET received_at = received_at - interval '1 hour', claimed_at = claimed_at - interval '1 hour'`);
    // and one being received right now, which no pass may take from its receiver
    const fresh = await append('hl7v2', adtA04({ controlId: 'REC-FRESH' }));

    // two passes at once (two gateways): each message is taken by one of them only
    const [a, b] = await Promise.all([gw.intake.recover(30_000), gw.intake.recover(30_000)]);
    expect(a + b).toBe(250);
    // attempts count the starts: the receiver's, then the recovery's
    for (const id of good) expect(await log.get(id)).toMatchObject({ status: 'accepted', attempts: 2 });
    const afterFirst = await log.get(noContent[0]!);
    expect(afterFirst).toMatchObject({ status: 'received', attempts: 2 });
    expect(JSON.stringify(afterFirst!.outcome)).toMatch(/attempt 2 failed: .*no stored content/);

    const passes: number[] = [];
    for (let n = -1; n !== 0 && passes.length < 10; ) passes.push((n = await gw.intake.recover(0)));
    // the poison (and, once no grace applies, the fresh one) until the poison is quarantined at 5 attempts
    expect(passes).toEqual([21, 20, 20, 0]);
    for (const id of [...retiredFeed, ...noContent]) {
      const m = await log.get(id);
      expect(m).toMatchObject({ status: 'quarantined', attempts: 5 });
      expect(JSON.stringify(m!.outcome)).toMatch(/quarantined after 5 attempts: .*(no stored content|does not take in)/);
    }
    expect((await log.get(fresh))!.status).toBe('accepted');
    expect((await log.list({ status: 'received', count: 10, offset: 0 })).total).toBe(0);
  });

  test('a message whose processing never finishes is quarantined once its attempts are used up', async () => {
    const id = await append('hl7v2', adtA04({ controlId: 'REC-CRASH' }));
    // five starts that never finished (the process died each time)
    await gw.db.query(`UPDATE ingest_messages SET attempts = 5, claimed_at = now() - interval '1 hour' WHERE id = $1`, [id]);
    expect(await gw.intake.recover(1000)).toBeGreaterThanOrEqual(1);
    const m = await log.get(id);
    expect(m).toMatchObject({ status: 'quarantined', attempts: 6 });
    expect(JSON.stringify(m!.outcome)).toMatch(/processing never finished/);
  });

  test('the running gateway takes up what was left, without a restart', async () => {
    const g2 = await startTestGateway(store, { recoveryIntervalSeconds: 1, recoveryGraceSeconds: 1 });
    try {
      const l2 = new MessageLog(g2.db);
      const id = randomUUID();
      const raw = adtA04({ controlId: 'REC-LIVE' });
      await l2.append({ id, feed: 'hl7v2', facility: '79001', checksum: createHash('sha256').update(raw).digest('hex'), size: raw.length, receivedAt: new Date().toISOString() }, raw);
      const deadline = Date.now() + 20_000;
      while ((await l2.get(id))!.status === 'received' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      expect((await l2.get(id))!.status).toBe('accepted');
    } finally {
      await g2.stop();
    }
  });
});
