import { createTestDatabase } from '../test/helpers/gateway';
import { startChildGateway, type ChildGateway } from '../test/helpers/process';
import { Client } from 'pg';
import { admission, eventually, mllpStream, messageCount, pool, summary, CHAOS_ENV } from './helpers/load';

/** The log rows of messages by control id (for a failure's diagnosis). */
async function messageRows(url: string, controlIds: string[]): Promise<unknown[]> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    const r = await c.query(
      `SELECT source_key, seq, status, attempts, order_key, received_at, processed_at, outcome->'issue'->0->>'diagnostics' AS why FROM ingest_messages
       WHERE ${controlIds.map((_, i) => `source_key LIKE '%' || $${i + 1}`).join(' OR ')} ORDER BY seq`,
      controlIds,
    );
    return r.rows;
  } finally {
    await c.end();
  }
}

/**
 * Acknowledge on receipt (MLLP_ACK=received, Prefer: respond-async) under kill -9, and one
 * backlog shared by two gateway processes: every acknowledged message is stored exactly once,
 * and a patient's update (A08) is applied after its admission (A01). CHAOS_MESSAGES sets the
 * stream's length (the issue's figure is 10,000; CI runs 500 to stay within its time budget).
 */
const MESSAGES = Number(process.env.CHAOS_MESSAGES ?? 500);

/** The admission's update: same patient, another name, sent after it on the same connection. */
function update(tag: string, i: number): string {
  return admission(tag, i).replace(`ADT^A01^ADT_A01|${tag}-${i}|`, `ADT^A08^ADT_A01|${tag}-U-${i}|`).replace('EVN|A01', 'EVN|A08').replace(`Nguyễn^Văn ${i}`, `Trần^Cập Nhật ${i}`);
}

/** Admission then update per patient, in that order on the wire. */
const pairs = (tag: string, patients: number) => Array.from({ length: patients }, (_, i) => [admission(tag, i), update(tag, i)]).flat();

/** Per identifier value: how many current Patients carry it, and the family name of the last one. */
async function patients(fhir: string): Promise<Map<string, { n: number; family: string }>> {
  const out = new Map<string, { n: number; family: string }>();
  let next: string | undefined = `${fhir}/Patient?_count=1000&_elements=identifier,name`;
  while (next) {
    const page = (await (await fetch(next, { headers: { accept: 'application/fhir+json' } })).json()) as any;
    for (const e of page.entry ?? []) {
      for (const id of e.resource?.identifier ?? []) out.set(id.value, { n: (out.get(id.value)?.n ?? 0) + 1, family: e.resource.name?.[0]?.family ?? '' });
    }
    next = page.link?.find((l: any) => l.relation === 'next')?.url;
  }
  return out;
}

/** Acknowledged messages lost, stored twice, and updates overtaken by their admission (their control ids in `overtaken`). */
function check(stored: Map<string, { n: number; family: string }>, tag: string, acked: Set<number>, overtaken: string[] = []): { lost: number; duplicates: number; outOfOrder: number } {
  let lost = 0, duplicates = 0, outOfOrder = 0;
  for (const k of acked) {
    const i = Math.floor(k / 2);
    const p = stored.get(`${tag}-${i}`);
    if (!p) lost++;
    else if (p.n > 1) duplicates++;
    // An acknowledged update must be what the patient shows: the admission may never come after it.
    else if (k % 2 === 1 && p.family !== 'Trần') {
      outOfOrder++;
      overtaken.push(`${tag}-U-${i}`);
    }
  }
  return { lost, duplicates, outOfOrder };
}

describe('acknowledge on receipt (PostgreSQL)', () => {
  let db: { url: string; drop(): Promise<void> };
  const gws: ChildGateway[] = [];
  // A 10 s recovery grace (production: 60 s) rather than CHAOS_ENV's 2 s. At 2 s, CI once saw 2
  // updates in 127 acknowledged pairs overtaken by their admission after the kill, with the claim
  // takeover ruled out (a claim is now checked in the applying transaction): the cause is still
  // open (README, Limits and known gaps). This scenario counts kill -9 and shared-backlog losses.
  const start = (env: Record<string, string> = {}) =>
    startChildGateway({ ...CHAOS_ENV, RECOVERY_GRACE_SECONDS: '10', DATABASE_URL: db.url, MLLP_PORT: 'auto', MLLP_ACK: 'received', ...env }, { readyTimeoutMs: 60_000 }).then((g) => (gws.push(g), g));

  beforeEach(async () => {
    db = await createTestDatabase();
  });
  afterEach(async () => {
    for (const g of gws.splice(0)) await g.kill('SIGKILL');
    await db?.drop();
  });

  test('kill -9 during a received-mode MLLP stream and respond-async HTTP intake: every acknowledged message stored once, in order', async () => {
    const victim = await start();
    const patientsPerConnection = Math.ceil(MESSAGES / 2 / 4);
    const mllpAcked = new Set<number>();
    const httpAcked = new Set<number>();
    const killAt = Math.floor(MESSAGES / 4);
    const maybeKill = () => {
      if (mllpAcked.size >= killAt && httpAcked.size >= 20) void victim.kill('SIGKILL');
    };
    await Promise.all([
      // 4 connections, each its own patients, each with a window of 4 messages in flight.
      ...[0, 1, 2, 3].map((c) =>
        mllpStream(victim.mllpPort!, pairs(`MR${c}`, patientsPerConnection), 4, (k, code) => {
          if (code !== 'AA') return;
          mllpAcked.add(c * 1_000_000 + k);
          maybeKill();
        }),
      ),
      pool(MESSAGES / 4, 2, async (i) => {
        if (victim.exit()) return;
        const r = await fetch(`${victim.url}/ingest/hl7v2`, { method: 'POST', headers: { 'content-type': 'x-application/hl7-v2+er7', prefer: 'respond-async' }, body: admission('HA', i) });
        if (r.status === 202) {
          httpAcked.add(i * 2);
          maybeKill();
        }
      }),
    ]);
    await victim.kill('SIGKILL');

    const gw = await start();
    const settled = await eventually(async () => (await messageCount(gw.url, 'received')) === 0, 240_000);
    const stuck = settled ? 0 : await messageCount(gw.url, 'received');
    const stored = await patients(gw.fhir);
    const mllp = { lost: 0, duplicates: 0, outOfOrder: 0 };
    const overtaken: string[] = [];
    for (const c of [0, 1, 2, 3]) {
      const r = check(stored, `MR${c}`, new Set([...mllpAcked].filter((k) => Math.floor(k / 1_000_000) === c).map((k) => k % 1_000_000)), overtaken);
      mllp.lost += r.lost;
      mllp.duplicates += r.duplicates;
      mllp.outOfOrder += r.outOfOrder;
    }
    const http = check(stored, 'HA', httpAcked);
    summary('kill-9 during received-mode MLLP stream', { messages: MESSAGES, acknowledged: mllpAcked.size, ...mllp, stuckReceived: stuck });
    summary('kill-9 during respond-async HTTP intake', { acknowledged: httpAcked.size, ...http });
    // What the log says of an overtaken update and its admission: which of them ran when, how often, with what outcome.
    for (const update of overtaken) {
      const admissionId = update.replace('-U-', '-');
      const rows = await messageRows(db.url, [update, admissionId]);
      process.stdout.write(`CHAOS overtaken ${update}: ${JSON.stringify(rows)}\n`);
    }
    expect(mllpAcked.size).toBeGreaterThan(0);
    expect(httpAcked.size).toBeGreaterThan(0);
    expect({ mllp, http, stuck }).toEqual({ mllp: { lost: 0, duplicates: 0, outOfOrder: 0 }, http: { lost: 0, duplicates: 0, outOfOrder: 0 }, stuck: 0 });
  }, 600_000);

  test('two gateway processes share one backlog: a receiver without workers, the other stores its messages; each message processed once, in order', async () => {
    const receiver = await start({ INGEST_WORKERS: '0' });
    const worker = await start({ INGEST_WORKERS: '4' });
    const n = Math.min(MESSAGES, 1000);
    const acks = await Promise.all([
      mllpStream(receiver.mllpPort!, pairs('TA', n / 4), 4),
      mllpStream(worker.mllpPort!, pairs('TB', n / 4), 4),
    ]);
    const settled = await eventually(async () => (await messageCount(worker.url, 'received')) === 0, 240_000);
    const stored = await patients(worker.fhir);
    const a = check(stored, 'TA', new Set([...acks[0]!].filter(([, c]) => c === 'AA').map(([k]) => k)));
    const b = check(stored, 'TB', new Set([...acks[1]!].filter(([, c]) => c === 'AA').map(([k]) => k)));
    // Each claim is an attempt: a message taken by both processes would show two.
    const page = (await (await fetch(`${worker.url}/ingest/messages?status=accepted&_count=1000`)).json()) as any;
    const twice = page.messages.filter((m: any) => m.attempts !== 1).length;
    summary('two gateway processes, one backlog', { messages: n, acknowledged: acks[0]!.size + acks[1]!.size, settled: String(settled), lost: a.lost + b.lost, duplicates: a.duplicates + b.duplicates, outOfOrder: a.outOfOrder + b.outOfOrder, attemptedTwice: twice });
    expect(settled).toBe(true);
    expect({ a, b, twice }).toEqual({ a: { lost: 0, duplicates: 0, outOfOrder: 0 }, b: { lost: 0, duplicates: 0, outOfOrder: 0 }, twice: 0 });
  }, 600_000);
});
