/**
 * The embedded store's thread: it owns the PGlite instance, so a long statement (PGlite runs
 * synchronously inside WebAssembly) stalls this thread instead of the gateway's event loop.
 *
 * `embeddedWorker` is started as the source of a `worker_threads` Worker (`eval`), so the same
 * function runs from the compiled build and from the test runner's TypeScript alike: its body
 * may use only its own locals, globals and `require` (PGlite's path comes in `workerData`).
 *
 * Protocol (one message port, so order is kept): `{ id, op, sql?, params?, tx? }` in, one
 * `{ id, rows }` or `{ id, error }` out per message except `begin`. `begin` opens a PGlite
 * transaction, which holds PGlite's own lock: plain queries wait behind it as they did
 * in-thread, and the statements tagged with its `tx` run in order inside it until `commit` or
 * `rollback`. `begin` has no answer of its own (every round trip between threads costs a
 * wake-up, and most transactions are a handful of statements): if it fails, its statements,
 * `commit` and `rollback` get its error.
 */
export interface WorkerRequest {
  id: number;
  op: 'query' | 'begin' | 'commit' | 'rollback' | 'close';
  sql?: string;
  params?: unknown[];
  tx?: number;
}

export type WorkerReply = { id: number; rows: unknown[] } | { id: number; error: Record<string, unknown> } | { ready: true } | { initError: Record<string, unknown> };

/** Results with binary values at least this large hand their buffers over instead of copying them. */
export const TRANSFER_MIN_BYTES = 64 * 1024;

export function embeddedWorker(): void {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { parentPort, workerData } = require('node:worker_threads') as typeof import('node:worker_threads');
  const { PGlite } = require(workerData.pglite as string) as typeof import('@electric-sql/pglite');
  const port = parentPort!;
  const transferMin = workerData.transferMin as number;

  // Only the fields a caller may read: SQLSTATE and its details, never the bound parameters (patient data).
  const plain = (e: unknown): Record<string, unknown> => {
    const err = e as Record<string, unknown> | null;
    if (!err || typeof err !== 'object') return { message: String(e) };
    const out: Record<string, unknown> = { message: String(err.message), name: String(err.name ?? 'Error') };
    for (const k of ['code', 'severity', 'detail', 'hint', 'position', 'where', 'schema', 'table', 'column', 'dataType', 'constraint', 'routine']) {
      if (err[k] !== undefined && err[k] !== null) out[k] = typeof err[k] === 'object' ? String(err[k]) : err[k];
    }
    return out;
  };
  const ok = (id: number, rows: unknown[]): void => {
    const transfer = new Set<ArrayBuffer>();
    for (const row of rows as Record<string, unknown>[]) {
      for (const k in row) {
        const v = row[k];
        if (v instanceof Uint8Array && v.byteLength >= transferMin && v.byteOffset === 0 && v.byteLength === v.buffer.byteLength && v.buffer instanceof ArrayBuffer) transfer.add(v.buffer);
      }
    }
    try {
      port.postMessage({ id, rows }, [...transfer]);
    } catch {
      port.postMessage({ id, rows }); // a buffer that cannot be handed over (WebAssembly memory): copied
    }
  };
  const fail = (id: number, e: unknown): void => port.postMessage({ id, error: plain(e) });

  const ready = (async () => {
    const pg = new PGlite(workerData.dataDir as string);
    await pg.waitReady;
    return pg;
  })();
  ready.then(
    () => port.postMessage({ ready: true }),
    (e: unknown) => port.postMessage({ initError: plain(e) }),
  );

  interface Open {
    queue: WorkerRequest[];
    wake?: (m: WorkerRequest) => void;
  }
  const open = new Map<number, Open>();
  /** Transactions that could not begin, until their `commit` or `rollback` comes. */
  const refused = new Map<number, unknown>();
  const ROLLBACK = Symbol('rollback');

  const begin = async (m: WorkerRequest): Promise<void> => {
    const t: Open = { queue: [] };
    open.set(m.tx!, t); // before any await: its statements may be the very next messages
    const next = (): Promise<WorkerRequest> => (t.queue.length ? Promise.resolve(t.queue.shift()!) : new Promise((r) => (t.wake = r)));
    let end: WorkerRequest | undefined;
    let begun = false;
    try {
      const pg = await ready;
      await pg.transaction(async (tx) => {
        begun = true;
        for (;;) {
          const s = await next();
          if (s.op === 'query') {
            await tx.query(s.sql!, s.params).then(
              (r) => ok(s.id, r.rows),
              (e: unknown) => fail(s.id, e),
            );
            continue;
          }
          end = s;
          if (s.op === 'rollback') throw ROLLBACK;
          return;
        }
      });
      port.postMessage({ id: end!.id, rows: [] });
    } catch (e) {
      if (end) {
        if (e === ROLLBACK) port.postMessage({ id: end.id, rows: [] });
        else fail(end.id, e); // COMMIT refused (a failed statement was let pass)
      } else if (!begun) refused.set(m.tx!, e);
    } finally {
      open.delete(m.tx!);
      for (const s of t.queue) settleRefused(s);
    }
  };

  const settleRefused = (s: WorkerRequest): void => {
    const why = refused.get(s.tx!);
    if (s.op !== 'query') refused.delete(s.tx!);
    fail(s.id, why ?? new Error('the transaction had already ended'));
  };

  port.on('message', (m: WorkerRequest) => {
    if (m.tx !== undefined && m.op !== 'begin') {
      const t = open.get(m.tx);
      if (!t) return settleRefused(m);
      const wake = t.wake;
      t.wake = undefined;
      return wake ? wake(m) : void t.queue.push(m);
    }
    if (m.op === 'begin') return void begin(m);
    void ready
      .then((pg) => (m.op === 'close' ? pg.close().then(() => []) : pg.query(m.sql!, m.params).then((r) => r.rows)))
      .then(
        (rows) => ok(m.id, rows),
        (e: unknown) => fail(m.id, e),
      );
  });
}
