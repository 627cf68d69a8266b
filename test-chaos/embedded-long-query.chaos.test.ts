import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startChildGateway, type ChildGateway } from '../test/helpers/process';
import { admission, identifierCounts, mllpStream, sleep, summary, CHAOS_ENV } from './helpers/load';

/**
 * The embedded store under the costliest search the limits allow (99 `name=` criteria, every
 * one matching, over 1,000 Patients), run back to back while `/healthz` is polled and an MLLP
 * sender streams admissions. With PGlite in its worker the gateway keeps answering; the same
 * run in the gateway's own thread (`EMBEDDED_WORKER=off`) is printed beside it for comparison
 * with `CHAOS_COMPARE=1` (minutes: every health check waits for a whole search).
 * ACKs after the store (`MLLP_ACK=stored`, from CHAOS_ENV), so an acknowledged admission must already be stored.
 */
const PATIENTS = 1_000;
const MESSAGES = 20;
const HEAVY = `Patient?${Array.from({ length: 99 }, () => 'name=Nguy').join('&')}&_count=10`;

describe.each(process.env.CHAOS_COMPARE ? ['on', 'off'] : ['on'])('long searches on the embedded store (EMBEDDED_WORKER=%s)', (worker) => {
  let gw: ChildGateway | undefined;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'chaos-embedded-'));
    // MPI off: the scenario is about the search, not about linking 1,000 namesakes.
    gw = await startChildGateway({ ...CHAOS_ENV, DATABASE_URL: '', DATA_DIR: dir, MLLP_PORT: 'auto', EMBEDDED_WORKER: worker, MPI: 'off' }, { readyTimeoutMs: 170_000 });
    for (let b = 0; b < PATIENTS / 100; b++) {
      const entry = Array.from({ length: 100 }, (_, k) => ({
        resource: { resourceType: 'Patient', identifier: [{ system: 'urn:chaos', value: `LQ-${b * 100 + k}` }], name: [{ family: 'Nguyễn', given: [`Văn ${b * 100 + k}`] }] },
        request: { method: 'POST', url: 'Patient' },
      }));
      const r = await fetch(`${gw.fhir}`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify({ resourceType: 'Bundle', type: 'batch', entry }) });
      expect(r.status).toBe(200);
    }
  }, 400_000);
  afterAll(async () => {
    await gw?.kill('SIGKILL'); // a graceful stop would wait for a search in progress
    rmSync(dir, { recursive: true, force: true });
  });

  test('health answered and MLLP acknowledged throughout; 0 lost, 0 exits', async () => {
    const g = gw!;
    const searchMs: number[] = [];
    let searching = true;
    const searches = (async () => {
      for (let k = 0; k < 3; k++) {
        const t = performance.now();
        const r = await fetch(`${g.fhir}/${HEAVY}`);
        expect(r.status).toBe(200);
        await r.arrayBuffer();
        searchMs.push(performance.now() - t);
      }
      searching = false;
    })();
    await sleep(100);
    const health: number[] = [];
    const polling = (async () => {
      while (searching) {
        const t = performance.now();
        const ok = await fetch(`${g.url}/healthz`).then((r) => r.ok, () => false);
        if (ok && searching) health.push(performance.now() - t);
        await sleep(50);
      }
    })();
    const acks = await mllpStream(g.mllpPort!, Array.from({ length: MESSAGES }, (_, i) => admission(`LQ${worker}`, i)), 1);
    await Promise.all([searches, polling]);

    const counts = await identifierCounts(g.fhir, 'Patient');
    const acked = [...acks].filter(([, code]) => code === 'AA').map(([i]) => `LQ${worker}-${i}`);
    const lost = acked.filter((id) => counts.get(id) !== 1).length;
    health.sort((a, b) => a - b);
    const p50 = Math.round(health[Math.floor(health.length / 2)] ?? -1);
    const max = Math.round(health.at(-1) ?? -1);
    summary(`embedded long searches, EMBEDDED_WORKER=${worker}`, {
      searchMs: searchMs.map(Math.round).join('/'),
      healthAnswers: health.length,
      healthP50ms: p50,
      healthMaxMs: max,
      mllpAA: acked.length,
      lost,
      exits: g.exit() === undefined ? 0 : 1,
    });
    expect(lost).toBe(0);
    expect(acked).toHaveLength(MESSAGES);
    expect(g.exit()).toBeUndefined();
    if (worker === 'on') {
      // Polled every 50 ms all along; in-thread, each answer waits for the search in progress.
      expect(health.length).toBeGreaterThanOrEqual(5);
      expect(p50).toBeLessThan(200);
      expect(max).toBeLessThan(Math.min(...searchMs));
    }
  }, 400_000);
});
