import { MllpClient } from '../src/listeners/mllp-client';
import { startChildGateway, type ChildGateway } from '../test/helpers/process';
import { PostgresServer } from './helpers/postgres';
import { admission, eventually, identifierCounts, messageCount, msa, sleep, summary, CHAOS_ENV } from './helpers/load';

/**
 * A private PostgreSQL server stopped (fast, immediate) and paused (SIGSTOP on the postmaster
 * and its backends) under REST and MLLP write load. Afterwards: the gateway process never
 * exited, nothing acknowledged is missing, no message is left `received`; during the outage
 * every REST answer is a 503 (never a 500) given within a bounded time.
 */
const OUTAGE_MS = 8_000;
/** A request unanswered this long during the outage counts as hanging. */
const HANG_MS = 7_000;
const RECOVERY_MS = 30_000;

describe('PostgreSQL stopped and paused under write load', () => {
  let pg: PostgresServer;
  let gw: ChildGateway;
  const start = () => startChildGateway({ ...CHAOS_ENV, DATABASE_URL: pg.url, MLLP_PORT: 'auto' }, { readyTimeoutMs: 60_000 });

  beforeAll(async () => {
    pg = await PostgresServer.create();
    gw = await start();
  });
  afterAll(async () => {
    await gw?.kill('SIGKILL');
    pg?.destroy();
  });

  test.each(['fast', 'immediate', 'pause'] as const)('%s', async (mode) => {
    const tag = `PG${mode[0]!.toUpperCase()}`;
    let phase: 'before' | 'outage' | 'after' = 'before';
    let done = false;
    const restAcked: number[] = [];
    const mllpAcked: number[] = [];
    const outage = { rest503: 0, rest500: 0, restOther: 0, restHung: 0, restRefused: 0, ready503: 0, readyOther: 0, readyHung: 0, mllpAA: 0, mllpNak: 0, mllpHung: 0 };
    let n = 0; // REST identifiers
    let m = 0; // HL7 identifiers

    const restWorker = async () => {
      while (!done) {
        const i = n++;
        const at = phase;
        const status = await fetch(`${gw.fhir}/Patient`, {
          method: 'POST',
          headers: { 'content-type': 'application/fhir+json' },
          body: JSON.stringify({ resourceType: 'Patient', identifier: [{ system: 'urn:chaos', value: `${tag}-${i}` }] }),
          signal: AbortSignal.timeout(HANG_MS),
        }).then((r) => r.status, (e: Error) => (e.name === 'TimeoutError' ? 'hung' : 'error'));
        if (status === 201) restAcked.push(i);
        if (at === 'outage') {
          if (status === 503) outage.rest503++;
          else if (status === 500) outage.rest500++;
          else if (status === 'hung') outage.restHung++;
          else if (status === 'error') outage.restRefused++; // the process is gone: counted as an exit
          else if (status !== 201) outage.restOther++;
        }
        if (status === 'error') await sleep(200); // the gateway is down: wait for the restart below
      }
    };
    const mllpWorker = async () => {
      let c: MllpClient | undefined;
      while (!done) {
        if (!c || c.closed) {
          c = await MllpClient.connect(gw.mllpPort!).catch(() => undefined);
          if (!c) {
            await sleep(200);
            continue;
          }
        }
        const idx = m++;
        const at = phase;
        const ack = await Promise.race([c.send(admission(tag, idx)).then(msa, () => 'closed'), sleep(HANG_MS).then(() => 'hung')]);
        if (ack === 'AA') mllpAcked.push(idx);
        if (ack === 'hung' || ack === 'closed') {
          void c.close(); // ACKs pair with sends by order: start afresh
          c = undefined;
        }
        if (at === 'outage') {
          if (ack === 'AA') outage.mllpAA++;
          else if (ack === 'hung') outage.mllpHung++;
          else if (ack !== 'closed') outage.mllpNak++;
        }
      }
      await c?.close();
    };
    const readyProbe = async () => {
      while (!done) {
        if (phase === 'outage') {
          const s = await fetch(`${gw.url}/readyz`, { signal: AbortSignal.timeout(5000) }).then((r) => r.status, (e: Error) => (e.name === 'TimeoutError' ? 'hung' : 'error'));
          if (s === 503) outage.ready503++;
          else if (s === 'hung') outage.readyHung++;
          else if (s !== 'error') outage.readyOther++;
        }
        await sleep(1000);
      }
    };

    const exitsBefore = gw.exit() ? 1 : 0;
    expect(exitsBefore).toBe(0);
    // Enough writers that some transaction is always open between two statements when the server goes.
    const load = Promise.all([...Array.from({ length: 6 }, restWorker), mllpWorker(), mllpWorker(), readyProbe()]);
    await sleep(3000);
    phase = 'outage';
    if (mode === 'pause') pg.pause();
    else pg.stop(mode);
    await sleep(OUTAGE_MS);
    if (mode === 'pause') pg.resume();
    else await pg.start();
    phase = 'after';
    await sleep(HANG_MS + 2000); // let hung requests finish, and some load land after the outage
    done = true;
    await load;

    const died = gw.exit();
    const why = died ? gw.stderrTail().trim().split('\n').find((l) => /^\s*\w*Error: /.test(l))?.trim() ?? died : '';
    if (died) gw = await start(); // to count what the dead process had acknowledged
    const settled = await eventually(async () => (await messageCount(gw.url, 'received')) === 0, RECOVERY_MS);
    const stuck = settled ? 0 : await messageCount(gw.url, 'received');
    const [patients, encounters] = await Promise.all(['Patient', 'Encounter'].map((t) => identifierCounts(gw.fhir, t)));
    const lost =
      restAcked.filter((i) => !patients.get(`${tag}-${i}`)).length +
      mllpAcked.filter((i) => !patients.get(`${tag}-${i}`) || !encounters.get(`V-${tag}-${i}`)).length;

    summary(`postgres ${mode === 'pause' ? 'paused' : `stopped (${mode})`} ${OUTAGE_MS / 1000}s`, {
      exits: died ? 1 : 0,
      acknowledged: restAcked.length + mllpAcked.length,
      lost,
      stuckReceived: stuck,
      ...outage,
    });
    if (died) process.stdout.write(`  the gateway died: ${why}\n`);
    expect({ exits: died ? 1 : 0, lost, stuck, rest500: outage.rest500, restOther: outage.restOther, restHung: outage.restHung, readyHung: outage.readyHung, readyOther: outage.readyOther, mllpHung: outage.mllpHung })
      .toEqual({ exits: 0, lost: 0, stuck: 0, rest500: 0, restOther: 0, restHung: 0, readyHung: 0, readyOther: 0, mllpHung: 0 });
  });
});
