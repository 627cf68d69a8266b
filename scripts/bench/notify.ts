import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { benchGateway, percentile, round, scratchDatabase } from './common';

/**
 * npm run bench:notify — in one run, on one gateway:
 *   commit → webhook receipt p50/p99 at 100 and 500 matching Task writes/s (open loop), against
 *   the write's own latency (request → 201) measured in the same run;
 *   write throughput (16 at a time) with no Subscription, then with 100 active ones on Task
 *   (criteria that do not match, so the cost measured is the matching in the write's transaction).
 */
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);

async function main() {
  const store = process.env.DATABASE_URL ? 'postgres' : 'embedded';
  const db = store === 'postgres' ? await scratchDatabase(process.env.DATABASE_URL!, 'bench_notify') : undefined;
  const received = new Map<string, number>();
  const rx = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const t = performance.now();
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { identifier?: { value: string }[] };
      const key = body.identifier?.[0]?.value;
      if (key) received.set(key, t);
      res.end();
    });
  });
  await new Promise<void>((r) => rx.listen(0, '127.0.0.1', () => r()));
  const endpoint = `http://127.0.0.1:${(rx.address() as AddressInfo).port}/hook`;
  const { gw, stop } = await benchGateway(store, { mllpPort: -1, subscriptionPollMs: 200, mpi: false, ...(db ? { databaseUrl: db.url } : {}) });
  const fhir = `${gw.url}/fhir`;
  const post = (path: string, body: unknown) => fetch(`${fhir}${path}`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(body) });
  const task = (key: string, system = 'urn:bench') => ({ resourceType: 'Task', status: 'requested', intent: 'order', identifier: [{ system, value: key }] });

  // Throughput without any Subscription first.
  const throughput = async (label: string) => {
    let n = 0;
    const end = performance.now() + SECONDS * 1000;
    await Promise.all(Array.from({ length: 16 }, async (_, w) => {
      while (performance.now() < end) {
        const r = await post('/Task', task(`${label}-${w}-${n}`, 'urn:bench:load'));
        await r.arrayBuffer();
        if (r.status === 201) n++;
      }
    }));
    return n / SECONDS;
  };
  await throughput('warm');
  const bare = await throughput('bare');
  for (let i = 0; i < 100; i++) {
    const r = await post('/Subscription', { resourceType: 'Subscription', status: 'requested', reason: 'bench', criteria: `Task?identifier=urn:bench:other|s${i}`, channel: { type: 'rest-hook', endpoint, payload: 'application/fhir+json' } });
    if (r.status !== 201) throw new Error(`subscription: ${r.status} ${await r.text()}`);
  }
  const with100 = await throughput('subs');

  const matching = await post('/Subscription', { resourceType: 'Subscription', status: 'requested', reason: 'bench', criteria: 'Task?identifier=urn:bench|', channel: { type: 'rest-hook', endpoint, payload: 'application/fhir+json' } });
  if (matching.status !== 201) throw new Error(`subscription: ${matching.status} ${await matching.text()}`);
  const rates: Record<string, unknown>[] = [];
  for (const rate of [100, 500]) {
    const committed = new Map<string, number>();
    const writeMs: number[] = [];
    const inflight: Promise<void>[] = [];
    const start = performance.now();
    let sent = 0;
    let refused = 0;
    while (performance.now() - start < SECONDS * 1000) {
      const due = Math.floor(((performance.now() - start) / 1000) * rate);
      for (; sent < due; sent++) {
        const key = `r${rate}-${sent}`;
        const t0 = performance.now();
        inflight.push(post('/Task', task(key)).then(async (r) => {
          await r.arrayBuffer();
          const t1 = performance.now();
          if (r.status === 201) committed.set(key, t1), writeMs.push(t1 - t0);
          else refused++;
        }, () => void refused++));
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    await Promise.all(inflight);
    const deadline = performance.now() + 30_000;
    while ([...committed.keys()].some((k) => !received.has(k)) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const notifyMs = [...committed].filter(([k]) => received.has(k)).map(([k, t]) => Math.max(0, received.get(k)! - t));
    rates.push({
      rate,
      achievedWritesPerSecond: round(committed.size / SECONDS),
      writeP50ms: round(percentile(writeMs, 50), 1),
      writeP99ms: round(percentile(writeMs, 99), 1),
      commitToWebhookP50ms: round(percentile(notifyMs, 50), 1),
      commitToWebhookP99ms: round(percentile(notifyMs, 99), 1),
      delivered: `${notifyMs.length}/${committed.size}`,
      // Writes the gateway could not take at this rate (503 when the connection pool is exhausted).
      refused,
    });
  }
  console.log(JSON.stringify({ store, seconds: SECONDS, rates, writesPerSecond: { noSubscriptions: round(bare), with100Subscriptions: round(with100), ratio: round(with100 / bare, 3) } }, null, 2));
  await stop();
  rx.close();
  await db?.drop();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
