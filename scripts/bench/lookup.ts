import { execFile, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { createClient } from 'redis';
import { loadConfig, type LookupConfig } from '../../src/config';
import { lookupKey } from '../../src/lookup/cache';
import { VssClient } from '../../src/lookup/vss-client';
import { parseLookupQuery } from '../../src/lookup/map';
import { FAKE_PASSWORD, FAKE_USER, FakeVss, person, type FakePerson } from '../../test/helpers/fake-vss';
import { benchGateway, percentile, round } from './common';

/**
 * npm run bench:lookup — the insurance card lookup (needs REDIS_URL):
 *   1. cached lookups (autocannon in its own process, 50 connections) against baselines in the
 *      same run: a bare node:http handler answering with one Redis GET of the same entry, and of
 *      a value as large as the answer; and the same lookups through Express (FAST_PATH=off);
 *   2. 200 distinct uncached lookups, 50 at a time, against the fake portal (its own process)
 *      answering in 50 ms: throughput against the bulkhead's bound (VSS_MAX_CONCURRENT / 50 ms),
 *      and how much of the run the bulkhead's slots were busy at the portal; baseline in the same
 *      run, the same portal calls through the gateway's portal client alone;
 *   3. p99 with the portal down (connection refused) and the answer cached (stale);
 *   4. p99 with the portal hanging and nothing cached (503 within VSS_TIMEOUT_MS).
 */
const run = promisify(execFile);
const DURATION = Number(process.env.BENCH_SECONDS ?? 10);
const TIMEOUT_MS = 3000;
/** The fake portal's answer time in the uncached run. */
const PORTAL_MS = 50;

interface Cannon {
  requests: { average: number; total: number };
  /** CPU milliseconds this process (the servers under test) spent per request: what the machine's load does not change. */
  cpuMsPerRequest: number;
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
}

async function cannon(url: string, seconds = DURATION): Promise<Cannon> {
  const bin = require.resolve('autocannon/autocannon.js');
  const cpu = process.cpuUsage();
  const { stdout } = await run(process.execPath, [bin, '-c', '50', '-d', String(seconds), '-j', url], { maxBuffer: 64 * 1024 * 1024 });
  const used = process.cpuUsage(cpu);
  const c = JSON.parse(stdout) as Cannon;
  return { ...c, cpuMsPerRequest: (used.user + used.system) / 1000 / Math.max(1, c.requests.total) };
}

/** Every URL, `concurrency` at a time, from a client process of its own; latencies in ms, statuses and the wall time. */
async function load(urls: string[], concurrency: number): Promise<{ ms: number[]; statuses: Map<number, number>; wallMs: number; cpuMs: number }> {
  const client = fork(join(__dirname, 'load-client.js'));
  const cpu = process.cpuUsage();
  const r = await new Promise<{ ms: number[]; statuses: Record<string, number>; wallMs: number }>((resolve) => {
    client.once('message', resolve);
    client.send({ urls, concurrency, warm: new URL('/healthz', urls[0]).href });
  });
  const used = process.cpuUsage(cpu);
  return { ms: r.ms, statuses: new Map(Object.entries(r.statuses).map(([k, v]) => [Number(k), v])), wallMs: r.wallMs, cpuMs: (used.user + used.system) / 1000 };
}

const path = (p: FakePerson) => `/fhir/Coverage/$lookup?identifier=${p.cccd}&name=${encodeURIComponent(p.hoTen)}&birthdate=1985-03-15`;

async function main() {
  const redisUrl = process.env.REDIS_URL;
  if (!redisUrl) throw new Error('bench:lookup compares with Redis GETs: set REDIS_URL');
  const fake = await new FakeVss().start();
  const cacheKey = randomBytes(32);
  const lookup = (over: Partial<LookupConfig>): LookupConfig => ({
    ...loadConfig({}).lookup,
    vssBaseUrl: fake.url,
    vssUsername: FAKE_USER,
    vssPassword: FAKE_PASSWORD,
    officerName: 'Trần Văn Bình',
    officerCccd: '079085000123',
    timeoutMs: TIMEOUT_MS,
    cacheKey,
    ...over,
  });
  const { gw, stop } = await benchGateway('embedded', { redisUrl, lookup: lookup({}) });
  const redis = createClient({ url: redisUrl });
  await redis.connect();
  const base = Math.floor(Math.random() * 80_000_000); // the Redis server outlives runs: fresh people each run
  try {
    // 1. Cached lookups against one Redis GET of the same (sealed) entry behind bare node:http.
    const cached = person(base);
    fake.persons.push(cached);
    const first = await fetch(gw.url + path(cached));
    if (first.status !== 200) throw new Error(`warm-up lookup answered ${first.status}`);
    const key = `fhir:lookup:${lookupKey(parseLookupQuery(cached.cccd, cached.hoTen, '1985-03-15'), cacheKey)}`;
    if (!(await redis.get(key))) throw new Error('the lookup did not reach Redis');
    // The same GET with a value as large as the answer: what sending the answer's bytes costs by itself.
    const answerKey = `bench:lookup:answer:${base}`;
    await redis.set(answerKey, await first.text(), { EX: 600 });
    const bareServer = async (k: string) => {
      const server = createServer((_req, res) => {
        redis.get(k).then((v) => res.writeHead(200, { 'content-type': 'application/json' }).end(v));
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
    };
    const bare = await bareServer(key);
    const bareSized = await bareServer(answerKey);
    // The same gateway with FAST_PATH=off (Express answers), on the same Redis entry.
    const viaExpress = await benchGateway('embedded', { redisUrl, lookup: lookup({}), fastPath: false });
    await cannon(gw.url + path(cached), 2); // warm-up
    await cannon(viaExpress.gw.url + path(cached), 2);
    const baseline = await cannon(bare.url);
    const hits = await cannon(gw.url + path(cached));
    const sized = await cannon(bareSized.url);
    const express = await cannon(viaExpress.gw.url + path(cached));
    bare.server.close();
    bareSized.server.close();
    await viaExpress.stop();
    if (hits.non2xx || hits.errors || express.non2xx) throw new Error('non-2xx answers or errors during the cached run');
    console.log(`baseline (bare node:http + one Redis GET of the entry, ${(await redis.get(key))!.length} B): ${round(baseline.requests.average)} req/s, p99 ${baseline.latency.p99} ms, CPU ${round(baseline.cpuMsPerRequest, 3)} ms/request`);
    console.log(`baseline with a value the answer's size (${(await redis.get(answerKey))!.length} B): ${round(sized.requests.average)} req/s, p99 ${sized.latency.p99} ms, CPU ${round(sized.cpuMsPerRequest, 3)} ms/request`);
    console.log(`cached lookups: ${round(hits.requests.average)} req/s, p50 ${hits.latency.p50} ms, p99 ${hits.latency.p99} ms, CPU ${round(hits.cpuMsPerRequest, 3)} ms/request`);
    console.log(`cached lookups through Express (FAST_PATH=off): ${round(express.requests.average)} req/s, p99 ${express.latency.p99} ms, CPU ${round(express.cpuMsPerRequest, 3)} ms/request`);

    // 2. 200 distinct uncached lookups, 50 at a time, against a portal in its own process answering in 50 ms.
    const cold = Array.from({ length: 200 }, (_, i) => person(base + 1 + i));
    const portal = fork(join(__dirname, 'fake-portal.js'), [String(base + 1), String(cold.length), String(PORTAL_MS)]);
    const portalUrl = await new Promise<string>((resolve) => portal.once('message', (m: { url: string }) => resolve(m.url)));
    const portalStats = () =>
      new Promise<{ calls: number; maxInFlight: number; busyMs: number }>((resolve) => {
        portal.once('message', resolve);
        portal.send('stats');
      });
    const uncachedGw = await benchGateway('embedded', { redisUrl, lookup: lookup({ vssBaseUrl: portalUrl }) });
    const maxConcurrent = loadConfig({}).lookup.maxConcurrent;
    const u = await load(cold.map((p) => uncachedGw.gw.url + path(p)), 50);
    const stats = await portalStats();
    // The gateway's process alone (its embedded store's thread included).
    const uCpuMs = u.cpuMs / cold.length;
    const uRate = (u.ms.length / u.wallMs) * 1000;
    const bound = maxConcurrent / (PORTAL_MS / 1000);
    // The bulkhead is the bound when its slots are busy at the portal nearly all the time.
    const occupancy = stats.busyMs / (u.wallMs * maxConcurrent);
    const portalMs = stats.busyMs / Math.max(1, stats.calls);
    // On a starved machine portal calls time out and the breaker opens: counted, not hidden.
    const uFailed = cold.length - (u.statuses.get(200) ?? 0);
    console.log(`uncached lookups (portal ${PORTAL_MS} ms, bulkhead ${maxConcurrent}): ${round(uRate)} lookups/s (bulkhead bound ${bound}/s; at the portal's measured ${round(portalMs, 1)} ms a call, ${round(maxConcurrent / portalMs * 1000)}/s), bulkhead slots busy at the portal ${round(occupancy * 100)} % of the run, p50 ${round(percentile(u.ms, 50))} ms, p99 ${round(percentile(u.ms, 99))} ms, most portal calls in flight ${stats.maxInFlight}, not 200: ${uFailed}, CPU ${round(uCpuMs, 2)} ms/lookup (the gateway's process)`);
    // The cards are kept after the answers; written before the next runs so they do not share the thread with them.
    const tKeep = performance.now();
    await uncachedGw.gw.lookup.flush();
    const keepMs = performance.now() - tKeep;
    console.log(`keeping the 200 cards (Patient, Coverage, branch; MPI linking) after the last answer: ${round(keepMs)} ms`);
    // After the kept cards are written, so they do not share the thread with it. Baseline in the same run: the gateway's portal client alone (axios, bulkhead, breaker), the same cards again, 50 asked at a time.
    const direct = new VssClient({ ...lookup({}), baseUrl: portalUrl, maxConcurrent });
    const dBefore = await portalStats();
    let nextCard = 0;
    const tDirect = performance.now();
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        while (nextCard < cold.length) {
          const p = cold[nextCard++]!;
          await direct.lookup(parseLookupQuery(p.cccd, p.hoTen, '1985-03-15'));
        }
      }),
    );
    const directMs = performance.now() - tDirect;
    direct.close();
    const dAfter = await portalStats();
    const directRate = (cold.length / directMs) * 1000;
    const directOccupancy = (dAfter.busyMs - dBefore.busyMs) / (directMs * maxConcurrent);
    console.log(`baseline: the same 200 cards through the gateway's portal client alone (no HTTP, cache or mapping): ${round(directRate)} lookups/s, slots busy at the portal ${round(directOccupancy * 100)} %`);
    portal.disconnect();
    await uncachedGw.stop();

    // 3. Portal down (connection refused), answers cached but no longer fresh: stale answers.
    const stale = await benchGateway('embedded', { redisUrl, lookup: lookup({ freshSeconds: 0 }) });
    await fake.stop();
    await cannon(stale.gw.url + path(cached), 2); // the breaker opens in the first requests
    const down = await cannon(stale.gw.url + path(cached));
    // A Redis read slower than its 500 ms bound is a miss, and with the portal down a 503: counted, not hidden.
    console.log(`portal down, cache warm (stale answers): ${round(down.requests.average)} req/s, p50 ${down.latency.p50} ms, p99 ${down.latency.p99} ms, non-2xx ${down.non2xx}, CPU ${round(down.cpuMsPerRequest, 3)} ms/request`);

    // Alone in the process but for the first gateway (idle): the budgets' timers must not wait on another gateway's periodic work.
    await stale.stop();

    // 4. Portal hanging, nothing cached: 503 within the budget (the breaker opens after a few).
    const hanging = await new FakeVss().start();
    hanging.fault = 'slow';
    hanging.slowMs = 60_000;
    const coldGw = await benchGateway('embedded', { lookup: lookup({ vssBaseUrl: hanging.url }) });
    const strangers = Array.from({ length: 100 }, (_, i) => person(base + 1000 + i));
    // A cold cache, not a cold process: the request path's code is warmed first with malformed
    // identifiers (400s, no portal call), else the first 20 requests' budgets start one after
    // another as each is compiled and run for the first time.
    const warmUp = await load(Array.from({ length: 200 }, () => `${coldGw.gw.url}/fhir/Coverage/$lookup?identifier=123&name=A&birthdate=1985`), 20);
    if (warmUp.statuses.get(400) !== 200) throw new Error(`cold warm-up: ${JSON.stringify([...warmUp.statuses])}`);
    // How late this process's event loop ran meanwhile: what the 503s waited for beyond the budget.
    const lag = monitorEventLoopDelay({ resolution: 5 });
    lag.enable();
    const c = await load(strangers.map((p) => coldGw.gw.url + path(p)), 20);
    lag.disable();
    if (c.statuses.get(503) !== 100) throw new Error(`cold run: ${JSON.stringify([...c.statuses])}`);
    console.log(`portal hanging, cache cold (503): p50 ${round(percentile(c.ms, 50))} ms, p99 ${round(percentile(c.ms, 99))} ms, max ${round(Math.max(...c.ms))} ms (VSS_TIMEOUT_MS ${TIMEOUT_MS}); the gateway's event loop late by up to ${round(lag.max / 1e6)} ms (p99 ${round(lag.percentile(99) / 1e6)} ms)`);
    await coldGw.stop();
    await hanging.stop();

    console.log(
      JSON.stringify({
        bench: 'lookup',
        cached_rps: round(hits.requests.average),
        cached_p99_ms: hits.latency.p99,
        redis_get_rps: round(baseline.requests.average),
        redis_get_p99_ms: baseline.latency.p99,
        ratio: round(hits.requests.average / baseline.requests.average, 3),
        answer_sized_get_rps: round(sized.requests.average),
        ratio_answer_sized: round(hits.requests.average / sized.requests.average, 3),
        express_rps: round(express.requests.average),
        express_cpu_ms: round(express.cpuMsPerRequest, 3),
        cached_cpu_ms: round(hits.cpuMsPerRequest, 3),
        redis_get_cpu_ms: round(baseline.cpuMsPerRequest, 3),
        cpu_ratio: round(baseline.cpuMsPerRequest / hits.cpuMsPerRequest, 3),
        uncached_not_200: uFailed,
        uncached_cpu_ms: round(uCpuMs, 2),
        uncached_rps: round(uRate),
        bulkhead_bound_rps: bound,
        bulkhead_occupancy: round(occupancy, 3),
        portal_client_rps: round(directRate),
        uncached_ratio: round(uRate / directRate, 3),
        portal_ms: round(portalMs, 1),
        uncached_p99_ms: round(percentile(u.ms, 99)),
        keep_after_ms: round(keepMs),
        down_warm_p99_ms: down.latency.p99,
        down_warm_non2xx: down.non2xx,
        down_warm_cpu_ms: round(down.cpuMsPerRequest, 3),
        down_cold_p99_ms: round(percentile(c.ms, 99)),
        down_cold_max_ms: round(Math.max(...c.ms)),
        down_cold_loop_lag_max_ms: round(lag.max / 1e6),
      }),
    );
  } finally {
    redis.destroy();
    await stop();
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
