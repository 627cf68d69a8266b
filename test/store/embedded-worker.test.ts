import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { FhirError } from '../../src/fhir/outcome';
import { first, parseHl7v2 } from '../../src/ingest/hl7v2/parse';
import { MllpClient } from '../../src/listeners/mllp-client';
import { openDb, type Db } from '../../src/store/db';
import { startTestGateway, type TestGateway } from '../helpers/gateway';
import { HL7V2 } from '../hl7v2/corpus';

/**
 * The embedded store runs PGlite in a worker thread: a long statement stalls that thread, not
 * the gateway's. One gateway for the file (opening PGlite is the slow part), the crash last.
 */
jest.setTimeout(180_000);

/** The worker thread behind an embedded Db, to kill it as a crash would. */
const workerOf = (db: Db) => (db as unknown as { pg: { worker: Worker } }).pg.worker;

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway('embedded');
});
afterAll(async () => {
  await gw?.stop();
});

test('a 1.5 s statement leaves /healthz answering and MLLP accepting; the message sent meanwhile is acknowledged AA', async () => {
  // The first message of a real sender's file, with a control id of its own.
  const adt = readFileSync(join(HL7V2, 'mirth-connect/samples/TestADT.hl7'), 'latin1').split(/\r\n(?=MSH\|)/)[0]!.replace(/\r\n/g, '\r');
  const msg = Buffer.from(adt.replace(/^(MSH(?:\|[^|\r]*){8})\|[^|\r]*/, '$1|WORKER-1'), 'latin1');
  await (await fetch(`${gw.url}/healthz`)).arrayBuffer(); // connection and first-request costs out of the figures
  const started = performance.now();
  let finished = 0;
  const slow = gw.db.query('SELECT pg_sleep(1.5)').then(() => (finished = performance.now()));
  await new Promise((r) => setTimeout(r, 100)); // the worker is now inside pg_sleep

  const client = await MllpClient.connect(gw.mllpPort!);
  const ack = client.send(msg);
  const latencies: number[] = [];
  while (!finished) {
    const t = performance.now();
    const r = await fetch(`${gw.url}/healthz`);
    expect(r.status).toBe(200);
    await r.arrayBuffer();
    if (!finished) latencies.push(performance.now() - t);
    await new Promise((r) => setTimeout(r, 50));
  }
  await slow;
  expect(finished - started).toBeGreaterThanOrEqual(1400);
  // Answered all along: in the gateway's own thread, the first would have waited for the whole sleep.
  expect(latencies.length).toBeGreaterThanOrEqual(5);
  latencies.sort((a, b) => a - b);
  expect(latencies[Math.floor(latencies.length / 2)]).toBeLessThan(200);
  expect(latencies.at(-1)).toBeLessThan(750); // a loaded CI machine's outlier, still half the sleep

  // The store has one connection, so the message is written (and acknowledged) once the sleep ends.
  const msa = parseHl7v2(await ack).messages[0]!.segments[1]!;
  expect([first(msa.fields[1]), first(msa.fields[2])]).toEqual(['AA', 'WORKER-1']);
  await client.close();
});

test('PostgreSQL errors cross the thread with their SQLSTATE and details, inside a transaction too', async () => {
  const db = gw.db;
  await db.query('CREATE TABLE worker_probe (k text PRIMARY KEY, n int NOT NULL)');
  await db.query(`INSERT INTO worker_probe VALUES ('a', 1)`);
  await expect(db.query(`INSERT INTO worker_probe VALUES ($1, 2)`, ['a'])).rejects.toMatchObject({
    code: '23505',
    constraint: 'worker_probe_pkey',
    table: 'worker_probe',
    detail: 'Key (k)=(a) already exists.',
  });
  await expect(db.query('SELEC 1')).rejects.toMatchObject({ code: '42601', position: '1' });
  // A failing statement undoes the whole transaction; its error reaches the caller as it was.
  await expect(
    db.transaction(async (tx) => {
      await tx.query(`INSERT INTO worker_probe VALUES ('b', 1)`);
      await tx.query(`INSERT INTO worker_probe VALUES ('c', NULL)`);
    }),
  ).rejects.toMatchObject({ code: '23502', column: 'n' });
  expect(await db.query(`SELECT k FROM worker_probe ORDER BY k`)).toEqual([{ k: 'a' }]);
  // Bound parameters (patient data) stay out of the error.
  const err = await db.query(`INSERT INTO worker_probe VALUES ($1, 3)`, ['a']).catch((e: unknown) => e);
  expect(JSON.stringify(err)).not.toContain('"params"');
});

test('transactions run one at a time, in order, and a plain query waits for the open one', async () => {
  const db = gw.db;
  await db.query(`INSERT INTO worker_probe VALUES ('counter', 0)`);
  // Read-modify-write with no lock of its own: right only if nothing interleaves.
  await Promise.all(
    Array.from({ length: 20 }, () =>
      db.transaction(async (tx) => {
        const [row] = await tx.query<{ n: number }>(`SELECT n FROM worker_probe WHERE k = 'counter'`);
        await new Promise((r) => setImmediate(r));
        await tx.query(`UPDATE worker_probe SET n = $1 WHERE k = 'counter'`, [row!.n + 1]);
      }),
    ),
  );
  expect(await db.query(`SELECT n FROM worker_probe WHERE k = 'counter'`)).toEqual([{ n: 20 }]);

  let seen: unknown;
  await db.transaction(async (tx) => {
    await tx.query(`UPDATE worker_probe SET n = 99 WHERE k = 'counter'`);
    const outside = db.query(`SELECT n FROM worker_probe WHERE k = 'counter'`).then((r) => (seen = r));
    await new Promise((r) => setTimeout(r, 50));
    expect(seen).toBeUndefined(); // still waiting for the transaction
    void outside;
  });
  await new Promise((r) => setTimeout(r, 50));
  expect(seen).toEqual([{ n: 99 }]);
});

test('a large binary result arrives whole (handed over, not copied)', async () => {
  const [row] = await gw.db.query<{ b: Uint8Array }>(`SELECT decode(repeat('ab', 1048576), 'hex') AS b`);
  expect(row!.b.byteLength).toBe(1048576);
  expect(row!.b.every((x) => x === 0xab)).toBe(true);
});

test('a store on disk survives its worker dying: the calls in flight get 503 transient, the next call reopens it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'embedded-worker-'));
  const db = await openDb({ dataDir: dir });
  try {
    await db.query('CREATE TABLE kept (n int)');
    await db.query('INSERT INTO kept VALUES (1)');
    const inFlight = db.query('SELECT pg_sleep(5)');
    await new Promise((r) => setTimeout(r, 200));
    await workerOf(db).terminate();
    const err = await inFlight.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FhirError);
    expect(err).toMatchObject({ status: 503 });
    expect((err as FhirError).issues[0]!.code).toBe('transient');
    expect(await db.query('SELECT n FROM kept')).toEqual([{ n: 1 }]);
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a store in memory whose worker died stays down: 503 on the API, /readyz unavailable, /healthz and the gateway still up', async () => {
  await workerOf(gw.db).terminate();
  const read = await fetch(`${gw.fhir}/Patient?_count=1`);
  expect(read.status).toBe(503);
  const outcome = (await read.json()) as { issue: { code: string }[] };
  expect(outcome.issue[0]!.code).toBe('transient');
  expect((await fetch(`${gw.url}/readyz`)).status).toBe(503);
  expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
});
