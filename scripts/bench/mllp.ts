import { receiveHl7v2, type AckPolicy } from '../../src/ingest/feeds';
import { MessageLog } from '../../src/store/message-log';
import { benchGateway, percentile, resetPostgres } from './common';
import { parseHl7v2 } from '../../src/ingest/hl7v2/parse';
import { startMllpListener, type MllpHandler } from '../../src/listeners/mllp';
import { MllpClient } from '../../src/listeners/mllp-client';

/**
 * `npm run bench:mllp`: 10,000 generated ORU^R01 over 4 persistent MLLP connections against
 * the real listener, each ACK sent after the handler returns; baseline in the same run is
 * parse-only throughput. Two modes per store: `received` (ACK once the raw message is in the
 * log; the drain rate counts from the first send to the last message stored and searchable)
 * and `stored` (ACK after the store).
 */
const TOTAL = Number(process.env.BENCH_MESSAGES ?? 10_000);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 4);
/**
 * Messages in flight per connection. Most senders wait for each ACK (1); raising it measures
 * pipelining, and the latency then includes the time a message queues behind the others.
 */
const WINDOW = Number(process.env.BENCH_WINDOW ?? 1);

const TESTS: [string, string, string, string][] = [
  ['2345-7', 'Glucose', 'mmol/L', '3.9-6.1'],
  ['718-7', 'Hemoglobin', 'g/L', '120-160'],
  ['2160-0', 'Creatinine', 'umol/L', '62-106'],
  ['1742-6', 'ALT', 'U/L', '0-40'],
  ['2951-2', 'Sodium', 'mmol/L', '135-145'],
  ['2823-3', 'Potassium', 'mmol/L', '3.5-5.1'],
];

export function generateOru(i: number): Buffer {
  const obx = TESTS.map(([code, name, unit, range], k) =>
    `OBX|${k + 1}|NM|${code}^${name}^LN||${(3 + ((i * 7 + k * 13) % 50) / 10).toFixed(1)}|${unit}|${range}|N|||F|||20261123093000`,
  );
  return Buffer.from([
    `MSH|^~\\&|LIS|BV_BENCH|GW|SYT|20261123100000||ORU^R01^ORU_R01|B${i}|P|2.5.1||||||UNICODE UTF-8`,
    `PID|1||BN${100000 + (i % 5000)}^^^BV_BENCH^MR||Nguyễn^Văn ${i % 97}||19800115|M`,
    `PV1|1|O|KHAM^P1||||||||||||||||VS${i}`,
    `ORC|RE|ORD${i}|ACC${i}||CM`,
    `OBR|1|ORD${i}|ACC${i}|24331-1^Lipid panel^LN|||20261123090000|||||||||||||||20261123095900|||F`,
    ...obx,
  ].join('\r') + '\r', 'utf8');
}


export async function benchMllp(handler: MllpHandler, messages: Buffer[]) {
  const t0 = process.hrtime.bigint();
  for (const m of messages) parseHl7v2(m);
  const baselinePerS = messages.length / (Number(process.hrtime.bigint() - t0) / 1e9);

  const silent = { info() {}, warn() {}, error() {} };
  const listener = await startMllpListener({ port: 0, handler, logger: silent });
  const clients = await Promise.all(Array.from({ length: CONNECTIONS }, () => MllpClient.connect(listener.port)));
  const latencies: number[] = [];
  let rejected = 0;
  let next = 0;
  const start = process.hrtime.bigint();
  await Promise.all(clients.map(async (client) => {
    const lane = async () => {
      while (next < messages.length) {
        const m = messages[next++]!;
        const sent = process.hrtime.bigint();
        const ack = await client.send(m);
        latencies.push(Number(process.hrtime.bigint() - sent) / 1e6);
        if (!ack.includes('MSA|AA')) rejected++;
      }
    };
    await Promise.all(Array.from({ length: WINDOW }, lane));
  }));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  await Promise.all(clients.map((c) => c.close()));
  await listener.close();
  latencies.sort((a, b) => a - b);
  return { msgsPerS: messages.length / seconds, baselinePerS, p50: percentile(latencies, 50), p99: percentile(latencies, 99), rejected, seconds };
}

async function main(): Promise<void> {
  const cfg = { facility: '79001', identifierAuthorities: { 'BV_BENCH^MR': 'MA_BN' } };
  const messages = Array.from({ length: TOTAL }, (_, i) => generateOru(i));
  const round = (n: number, d = 1) => Number(n.toFixed(d));
  type Result = Awaited<ReturnType<typeof benchMllp>> & { drainPerS?: number };
  const results: { store: string; mode: AckPolicy['mode']; r: Result }[] = [];
  const stores = (process.env.BENCH_STORES ?? (process.env.DATABASE_URL ? 'embedded,postgres' : 'embedded')).split(',') as ('embedded' | 'postgres')[];
  for (const store of stores) {
    for (const mode of ['received', 'stored'] as const) {
      if (store === 'postgres') await resetPostgres(process.env.DATABASE_URL!);
      // The real road: persist the raw message, then (received) ACK and store in the background,
      // or (stored) convert, validate, store, then ACK.
      const { gw, stop } = await benchGateway(store, { mllpPort: -1, hl7: cfg, ingestBacklogMax: 0 });
      try {
        const log = new MessageLog(gw.db);
        const handler: MllpHandler = async (raw) => (await receiveHl7v2(gw.intake, raw, cfg, 'mllp', { mode })).ack;
        const drained = async () => {
          while ((await log.backlog()).count > 0) await new Promise((r) => setTimeout(r, 20));
        };
        // Warm up the JIT and the code tables with other message ids, so the run is steady state.
        await benchMllp(handler, Array.from({ length: 300 }, (_, i) => generateOru(TOTAL + i)));
        await drained();
        const t0 = process.hrtime.bigint();
        const r: Result = await benchMllp(handler, messages);
        if (mode === 'received') {
          await drained();
          // Stored and searchable: the last message's visit is found by its number (PV1-19).
          const last = await gw.resources.search('Encounter', [['identifier', `VS${TOTAL - 1}`]]);
          if (!JSON.stringify(last).includes(`VS${TOTAL - 1}`)) throw new Error('the last message is not searchable after the drain');
          r.drainPerS = TOTAL / (Number(process.hrtime.bigint() - t0) / 1e9);
        }
        results.push({ store, mode, r });
      } finally {
        await stop();
      }
    }
  }
  for (const { store, mode, r } of results) {
    process.stdout.write(`${store} ${mode}: ${TOTAL} ORU^R01 over ${CONNECTIONS} connections (${WINDOW} in flight each): acknowledged ${round(r.msgsPerS, 0)} msg/s; ACK p50 ${round(r.p50, 2)} ms, p99 ${round(r.p99, 2)} ms; non-AA: ${r.rejected}${r.drainPerS ? `; drain (first send to last stored and searchable) ${round(r.drainPerS, 0)} msg/s` : ''}; parse-only baseline ${round(r.baselinePerS, 0)} msg/s\n`);
  }
  const figures = (r: Result) => ({ msgs_per_s: round(r.msgsPerS, 0), baseline_per_s: round(r.baselinePerS, 0), ratio: round(r.msgsPerS / r.baselinePerS, 3), p50_ms: round(r.p50, 2), p99_ms: round(r.p99, 2), ...(r.drainPerS ? { drain_per_s: round(r.drainPerS, 0) } : {}) });
  process.stdout.write(JSON.stringify({ bench: 'mllp', ...Object.fromEntries(results.map(({ store, mode, r }) => [`${store}_${mode}`, figures(r)])) }) + '\n');
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
