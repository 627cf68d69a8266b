import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MllpClient } from '../../src/listeners/mllp-client';
import { MessageLog } from '../../src/store/message-log';
import { CORPORA } from '../helpers/corpora';
import { STORES, startTestGateway, type TestGateway } from '../helpers/gateway';
import { adtA04, msa } from './hl7v2-messages';

/**
 * MLLP_ACK=received and `Prefer: respond-async`: the sender is answered once the raw message is
 * durable; background workers store it, one patient's messages in the order they came.
 */
const envelope = readFileSync(join(CORPORA, 'vn', 'synthetic', 'giamdinhhs-outpatient-synthetic.xml'), 'utf8');

/** The A04 with its trigger changed to A08 (update patient information) and another name. */
const adtA08 = (controlId: string, patientId: string, name: string) =>
  Buffer.from(adtA04({ controlId, patientId, patientName: name }).toString('utf8').replace('ADT^A04^ADT_A01', 'ADT^A08^ADT_A01').replace('EVN|A04', 'EVN|A08'));

async function until<T>(what: () => Promise<T>, ok: (v: T) => boolean, ms = 90_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await what();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.each(STORES)('acknowledge on receipt (%s store)', (store) => {
  let gw: TestGateway;
  let log: MessageLog;
  beforeAll(async () => {
    gw = await startTestGateway(store, { mllpAck: 'received', recoveryIntervalSeconds: 0 });
    log = new MessageLog(gw.db);
  });
  afterAll(() => gw.stop());

  const backlogEmpty = () => until(() => log.backlog(), (b) => b.count === 0);

  test('MLLP: every clean message is answered AA (CA with MSH-15=AL) on receipt, then stored; an A08 never overtakes its A04', async () => {
    const patients = 12;
    const a = await MllpClient.connect(gw.mllpPort!);
    const b = await MllpClient.connect(gw.mllpPort!);
    const sent: Promise<Buffer>[] = [];
    for (let i = 0; i < patients; i++) {
      // The A04 and its A08 on different connections, the A08 sent once the A04 is acknowledged.
      const pid = `BN-ORD-${i}-${randomUUID().slice(0, 8)}`;
      const first = a.send(adtA04({ controlId: `ORD-A04-${pid}`, patientId: pid, patientName: 'Trần^Thị Bình' }));
      sent.push(first.then(() => b.send(adtA08(`ORD-A08-${pid}`, pid, 'Lê^Văn Cường'))), first);
    }
    const enhanced = adtA04({ controlId: `ENH-${randomUUID().slice(0, 8)}`, patientId: `BN-ENH-${randomUUID().slice(0, 8)}` }).toString('utf8').replace('|P|2.5.1', '|P|2.5.1|||AL|NE');
    const acks = await Promise.all([...sent, a.send(Buffer.from(enhanced))]);
    expect(acks.slice(0, -1).map((x) => msa(x)![2])).toEqual(Array(patients * 2).fill('AA'));
    expect(msa(acks[acks.length - 1]!)![2]).toBe('CA');
    await a.close();
    await b.close();

    await backlogEmpty();
    const { messages } = await log.list({ feed: 'hl7v2', count: 500, offset: 0 });
    const updates = messages.filter((m) => m.sourceKey?.includes('ORD-A08-'));
    expect(updates).toHaveLength(patients);
    expect(messages.filter((m) => m.sourceKey?.includes('ORD-')).map((m) => m.status)).toEqual(Array(patients * 2).fill('accepted'));
    for (const m of updates) {
      const location = (m.units as { resources: string[] }[])[0]!.resources.find((r) => r.startsWith('Patient/'))!;
      const patient = (await (await fetch(`${gw.fhir}/${location.split('/_history')[0]}`)).json()) as { name: { family: string }[] };
      // The A08's name: applied after the A04's.
      expect(patient.name[0]!.family).toBe('Lê');
    }
  }, 180_000);

  test('MLLP: a message with errors is not acknowledged on receipt: AE at once, quarantined', async () => {
    const c = await MllpClient.connect(gw.mllpPort!);
    const bad = Buffer.from(adtA04({ controlId: `BAD-${randomUUID().slice(0, 8)}` }).toString('utf8').replace(/PID\|[^\r]*\r/, ''));
    const ack = await c.send(bad);
    await c.close();
    expect(msa(ack)![2]).toMatch(/^A[ER]$/);
  });

  test('HTTP respond-async: 202 with Content-Location, whose status moves to accepted; a bad claim file ends rejected', async () => {
    const hl7 = await fetch(`${gw.url}/ingest/hl7v2`, { method: 'POST', headers: { prefer: 'respond-async', 'content-type': 'x-application/hl7-v2+er7' }, body: adtA04({ controlId: `HTTP-${randomUUID().slice(0, 8)}`, patientId: `BN-HTTP-${randomUUID().slice(0, 8)}` }) });
    expect(hl7.status).toBe(202);
    expect(msa(await hl7.text())![2]).toBe('AA');
    const claim = await fetch(`${gw.url}/ingest/vn-claim`, { method: 'POST', headers: { prefer: 'respond-async', 'content-type': 'application/xml' }, body: envelope });
    expect(claim.status).toBe(202);
    const bad = await fetch(`${gw.url}/ingest/vn-claim`, { method: 'POST', headers: { prefer: 'respond-async', 'content-type': 'application/xml' }, body: '<GIAMDINHHS><broken' });
    expect(bad.status).toBe(202);
    const status = (r: Response) => until(async () => ((await (await fetch(r.headers.get('content-location')!)).json()) as { status: string }).status, (s) => s !== 'received');
    expect(await status(hl7)).toBe('accepted');
    expect(await status(claim)).toBe('accepted');
    expect(await status(bad)).toBe('rejected');
    // The claim's resources are there and searchable once accepted.
    const rec = (await (await fetch(claim.headers.get('content-location')!)).json()) as { units: { resources: string[] }[] };
    const patientRef = rec.units[0]!.resources.find((r) => r.startsWith('Patient/'))!.split('/_history')[0]!;
    const found = (await (await fetch(`${gw.fhir}/Encounter?subject=${patientRef}`)).json()) as { total?: number; entry?: unknown[] };
    expect(found.entry?.length).toBeGreaterThan(0);
  });
});

describe('back-pressure (embedded store)', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    // No workers: the backlog only grows until the test drains it by a recovery pass.
    gw = await startTestGateway('embedded', { mllpAck: 'received', ingestWorkers: 0, ingestBacklogMax: 3, recoveryIntervalSeconds: 0 });
  });
  afterAll(() => gw.stop());

  test('past INGEST_BACKLOG_MAX HTTP answers 503 with Retry-After and MLLP stops answering until the backlog drains', async () => {
    const post = (i: number) =>
      fetch(`${gw.url}/ingest/hl7v2`, { method: 'POST', headers: { prefer: 'respond-async' }, body: adtA04({ controlId: `BP-${i}`, patientId: `BN-BP-${i}` }) });
    for (let i = 0; i < 3; i++) expect((await post(i)).status).toBe(202);
    await new Promise((r) => setTimeout(r, 300)); // the backlog figure is refreshed every 200 ms
    const refused = await until(() => post(99), (r) => r.status === 503, 2000);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(((await refused.json()) as { issue: { code: string }[] }).issue[0]!.code).toBe('transient');

    const c = await MllpClient.connect(gw.mllpPort!);
    let answered = false;
    const ack = c.send(adtA04({ controlId: 'BP-MLLP', patientId: 'BN-BP-MLLP' })).then((a) => ((answered = true), a));
    await new Promise((r) => setTimeout(r, 500));
    expect(answered).toBe(false);
    // The bound is checked against a figure at most 200 ms old: a message or so more may get in.
    expect(await gw.intake.recover(0)).toBeGreaterThanOrEqual(3);
    expect(msa(await ack)![2]).toBe('AA');
    await c.close();
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    expect(metrics).toMatch(/fhir_gateway_ingest_backlog_messages [01]\n/);
    expect(metrics).toMatch(/fhir_gateway_ingest_backlog_oldest_seconds \d/);
  });
});
