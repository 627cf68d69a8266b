import { createTestDatabase } from '../test/helpers/gateway';
import { startChildGateway, type ChildGateway } from '../test/helpers/process';
import { admission, eventually, identifierCounts, messageCount, mllpStream, patientWithObservation, pool, summary, CHAOS_ENV } from './helpers/load';

/**
 * kill -9 of the gateway while an MLLP stream, HTTP intake and REST transactions are all in
 * flight: after a restart, every item that was acknowledged is there exactly once, and nothing
 * is half-written (a message's or a bundle's resources are all there or none).
 */
const TOTAL = 300;
const KILL_AFTER = 20; // acknowledgements on each of the three roads

describe('kill -9 of the gateway mid-stream (PostgreSQL)', () => {
  let db: { url: string; drop(): Promise<void> };
  let gw: ChildGateway | undefined;
  const start = () => startChildGateway({ ...CHAOS_ENV, DATABASE_URL: db.url, MLLP_PORT: 'auto' }, { readyTimeoutMs: 60_000 });

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await gw?.kill('SIGKILL');
    await db?.drop();
  });

  test('every acknowledged item is there exactly once after the restart', async () => {
    const victim = (gw = await start());
    const mllpAcked: number[] = [];
    const httpAcked: number[] = [];
    const restAcked: number[] = [];
    const acked = () => {
      if (Math.min(mllpAcked.length, httpAcked.length, restAcked.length) >= KILL_AFTER) void victim.kill('SIGKILL');
    };
    await Promise.all([
      mllpStream(victim.mllpPort!, Array.from({ length: TOTAL }, (_, i) => admission('MK', i)), 4, (i, code) => {
        if (code !== 'AA') return;
        mllpAcked.push(i);
        acked();
      }),
      pool(TOTAL, 4, async (i) => {
        if (victim.exit()) return;
        const r = await fetch(`${victim.url}/ingest/hl7v2`, { method: 'POST', headers: { 'content-type': 'x-application/hl7-v2+er7' }, body: admission('HK', i) });
        if (r.status === 200 && /MSA\|AA/.test(await r.text())) {
          httpAcked.push(i);
          acked();
        }
      }),
      pool(TOTAL, 4, async (i) => {
        if (victim.exit()) return;
        const r = await fetch(victim.fhir, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(patientWithObservation('RK', i)) });
        if (r.status === 200) {
          restAcked.push(i);
          acked();
        }
      }),
    ]);
    await victim.kill('SIGKILL');

    gw = await start();
    const settled = await eventually(async () => (await messageCount(gw!.url, 'received')) === 0, 30_000);
    const stuck = settled ? 0 : await messageCount(gw.url, 'received');
    const [patients, encounters, observations] = await Promise.all(['Patient', 'Encounter', 'Observation'].map((t) => identifierCounts(gw!.fhir, t)));
    const has = (m: Map<string, number>, k: string) => (m.get(k) ?? 0) > 0;
    const failures: Record<string, unknown> = {};
    const check = (scenario: string, acked: number[], key: (i: number) => [string, string], a: Map<string, number>, b: Map<string, number>, withStuck: boolean) => {
      let lost = 0, half = 0, dup = 0;
      for (const i of acked) if (!has(a, key(i)[0]) || !has(b, key(i)[1])) lost++;
      for (let i = 0; i < TOTAL; i++) {
        if (has(a, key(i)[0]) !== has(b, key(i)[1])) half++;
        if ((a.get(key(i)[0]) ?? 0) > 1 || (b.get(key(i)[1]) ?? 0) > 1) dup++;
      }
      summary(scenario, { acknowledged: acked.length, lost, halfWritten: half, duplicates: dup, ...(withStuck ? { stuckReceived: stuck } : {}) });
      if (lost || half || dup) failures[scenario] = { lost, half, dup };
    };
    check('kill-9 during MLLP stream', mllpAcked, (i) => [`MK-${i}`, `V-MK-${i}`], patients, encounters, true);
    check('kill-9 during HTTP intake', httpAcked, (i) => [`HK-${i}`, `V-HK-${i}`], patients, encounters, true);
    check('kill-9 during REST transactions', restAcked, (i) => [`RK-${i}`, `O-RK-${i}`], patients, observations, false);
    expect(mllpAcked.length && httpAcked.length && restAcked.length).toBeGreaterThan(0);
    expect({ failures, stuck }).toEqual({ failures: {}, stuck: 0 });
  });
});
