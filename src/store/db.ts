import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { AsyncLocalStorage } from 'node:async_hooks';
import { Worker } from 'node:worker_threads';
import { Client, Pool, types, type ClientConfig, type PoolClient, type QueryConfig } from 'pg';
import { FhirError } from '../fhir/outcome';
import { embeddedWorker, TRANSFER_MIN_BYTES, type WorkerReply, type WorkerRequest } from './embedded-worker';

/**
 * One SQL dialect (PostgreSQL) behind two engines: a server through `pg`, or PGlite
 * (PostgreSQL compiled to WASM) in-process for the embedded default. Only this file knows which.
 */
export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
}

export interface Db extends Queryable {
  readonly kind: 'postgres' | 'embedded';
  /**
   * Runs `fn` in one database transaction: all of it commits or none of it does.
   * `relaxedCommit` lets the commit return before its WAL reaches disk; only for writes that
   * can be redone from something already durable (the intake's raw message log).
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>, opts?: { relaxedCommit?: boolean }): Promise<T>;
  /** Resolves when the database answers `SELECT 1` within `timeoutMs`, else rejects with 503 transient. */
  ping(timeoutMs: number): Promise<void>;
  /** Planner statistics and dead-row cleanup where no autovacuum does it; true if it ran. */
  maintain(): Promise<boolean>;
  close(): Promise<void>;
}

// bigint and numeric come back as strings from pg by default; counts are small, so parse them.
types.setTypeParser(20, (v) => Number(v));

/** Node socket errors that mean the server is not there or went away. */
const GONE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * True for an error that says nothing about the request, only that the server cannot be
 * reached now: connection exceptions (08xxx), the server shutting down or starting (57P01-03),
 * too many connections (53300), a dead socket, and pg's own connect and read timeouts.
 */
export function isUnavailable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  const code = typeof e.code === 'string' ? e.code : '';
  if (/^08|^57P0[123]$|^53300$/.test(code) || GONE.has(code)) return true;
  return typeof e.message === 'string' && /^Connection terminated|timeout exceeded when trying to connect|Query read timeout|encountered a connection error and is not queryable/.test(e.message);
}

/**
 * The one place a database failure becomes an answer: unreachable → 503 `transient` (the edge
 * adds Retry-After), over the statement timeout or cancelled → 503 `timeout`. Anything else is
 * passed on as it is.
 */
export function storeError(err: unknown): unknown {
  if (err instanceof FhirError) return err;
  if (isUnavailable(err)) return new FhirError(503, 'the database cannot be reached at the moment; retry later', 'transient');
  if ((err as { code?: unknown } | null)?.code === '57014') return new FhirError(503, 'the database query was cancelled: it ran past the statement timeout or its client left', 'timeout');
  return err;
}

/**
 * The request on whose behalf statements run, as far as the database cares: when its client
 * goes away, its running statements are cancelled instead of running to the statement timeout.
 */
const cancelScope = new AsyncLocalStorage<() => AbortSignal>();

/**
 * Runs `fn` so that the PostgreSQL statements it starts are cancelled once `signal()` aborts.
 * The signal is asked for only when a statement starts: most cached answers start none, and
 * an AbortSignal made for every request was 3 % of a cached lookup's CPU.
 */
export function cancelledWith<T>(signal: () => AbortSignal, fn: () => T): T {
  return cancelScope.run(signal, fn);
}

/** pg has no cancel of its own: a second connection asks the server to cancel the first one's statement. */
async function cancelBackend(config: ClientConfig, pid: number): Promise<void> {
  const c = new Client(config);
  c.on('error', () => undefined);
  try {
    await c.connect();
    await c.query('SELECT pg_cancel_backend($1)', [pid]);
  } catch {
    // the server is gone or the statement ended: nothing left to cancel
  } finally {
    await c.end().catch(() => undefined);
  }
}

interface Lent {
  client: PoolClient;
  /** Set once the client is known to be unusable; it then goes back to be discarded. */
  broken?: Error;
}

class PgDb implements Db {
  readonly kind = 'postgres' as const;
  constructor(
    private readonly pool: Pool,
    private readonly config: ClientConfig,
  ) {}

  async query<T>(sql: string, params: unknown[] = [], readTimeoutMs?: number): Promise<T[]> {
    // pg reads `query_timeout` from a query's config too, though its types do not say so.
    const config = { text: sql, values: params, ...(readTimeoutMs ? { query_timeout: readTimeoutMs } : {}) } as QueryConfig;
    if (cancelScope.getStore()) return this.lend(async (l) => (await this.run(l, config)).rows as T[]);
    try {
      return (await this.pool.query(config)).rows as T[];
    } catch (err) {
      throw storeError(err);
    }
  }

  transaction<T>(fn: (tx: Queryable) => Promise<T>, opts?: { relaxedCommit?: boolean }): Promise<T> {
    return this.lend(async (l) => {
      try {
        await this.run(l, { text: opts?.relaxedCommit ? 'BEGIN; SET LOCAL synchronous_commit TO OFF' : 'BEGIN' });
        const result = await fn({ query: async <R>(s: string, p: unknown[] = []) => (await this.run(l, { text: s, values: p })).rows as R[] });
        await this.run(l, { text: 'COMMIT' });
        return result;
      } catch (err) {
        if (!l.broken) await l.client.query('ROLLBACK').catch((e: Error) => void (l.broken ??= e));
        throw err;
      }
    });
  }

  private async run(l: Lent, config: QueryConfig): Promise<{ rows: unknown[] }> {
    try {
      return await l.client.query(config);
    } catch (err) {
      if (isUnavailable(err)) l.broken ??= err as Error;
      throw storeError(err);
    }
  }

  /**
   * Lends a pool client to `use`. The pool listens for errors only on idle clients: a
   * checked-out one whose server goes away (while a transaction waits on validation, say) emits
   * 'error', and an 'error' nobody listens to ends the process. A broken client goes back with
   * its error, so the pool discards it instead of lending it out again; it keeps the listener,
   * since a dying socket may still report.
   */
  private async lend<T>(use: (l: Lent) => Promise<T>): Promise<T> {
    let l: Lent;
    try {
      l = { client: await this.pool.connect() };
    } catch (err) {
      throw storeError(err);
    }
    const onError = (e: Error) => void (l.broken ??= e);
    l.client.on('error', onError);
    const signal = cancelScope.getStore()?.();
    const pid = (l.client as unknown as { processID: number }).processID;
    const cancel = () => void cancelBackend(this.config, pid);
    signal?.addEventListener('abort', cancel, { once: true });
    try {
      if (signal?.aborted) throw new FhirError(503, 'the request was abandoned by its client', 'timeout');
      return await use(l);
    } catch (err) {
      if (isUnavailable(err)) l.broken ??= err as Error;
      throw storeError(err);
    } finally {
      signal?.removeEventListener('abort', cancel);
      if (l.broken) l.client.release(l.broken);
      else {
        l.client.off('error', onError);
        l.client.release();
      }
    }
  }

  async ping(timeoutMs: number): Promise<void> {
    // The read timeout makes the pool discard a connection to a server that stopped answering.
    await withDeadline(this.query('SELECT 1', undefined, timeoutMs), timeoutMs);
  }

  async maintain(): Promise<boolean> {
    return false; // the server's autovacuum does it
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

interface PGliteLike {
  query<T>(sql: string, params?: unknown[]): Promise<{ rows: T[] }>;
  transaction<T>(fn: (tx: { query<R>(sql: string, params?: unknown[]): Promise<{ rows: R[] }> }) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  waitReady: Promise<void>;
}

/** The error every call gets once the embedded store's thread is gone: 503 `transient`, as for a lost server. */
function workerGone(why: string): unknown {
  return storeError(Object.assign(new Error(`Connection terminated: the embedded database stopped (${why})`), { code: '08006' }));
}

/**
 * PGlite in a worker thread, seen through the same few calls as PGlite itself. One worker, one
 * PGlite, one connection: statements run there one at a time, in the order sent, while the
 * gateway's own thread goes on answering. A worker that dies takes its calls with it (503); a
 * store on disk is reopened by a fresh worker at the next call, a store in memory is lost, so
 * it stays down and `/readyz` says so.
 */
class WorkerPGlite implements PGliteLike {
  private worker!: Worker;
  private readonly pending = new Map<number, { resolve(rows: unknown[]): void; reject(err: unknown): void }>();
  private nextId = 1;
  private nextTx = 1;
  /** Bumped at each new worker: a transaction begun in a dead one cannot go on in the next. */
  private generation = 0;
  private starting = false;
  private down?: unknown;
  private closed = false;
  waitReady!: Promise<void>;

  constructor(private readonly dataDir: string) {
    this.start();
  }

  private start(): void {
    const worker = new Worker(`(${embeddedWorker.toString()})()`, {
      eval: true,
      workerData: { pglite: require.resolve('@electric-sql/pglite'), dataDir: this.dataDir, transferMin: TRANSFER_MIN_BYTES },
    });
    this.worker = worker;
    this.generation++;
    this.starting = true;
    let ready!: () => void;
    let failed!: (e: unknown) => void;
    this.waitReady = new Promise<void>((res, rej) => ((ready = res), (failed = rej)));
    this.waitReady.catch(() => undefined);
    worker.on('message', (m: WorkerReply) => {
      if ('ready' in m) {
        this.starting = false;
        this.refCount();
        return ready();
      }
      if ('initError' in m) {
        this.down = workerGone(`it could not open: ${String(m.initError.message)}`);
        failed(fromWorker(m.initError));
        void worker.terminate();
        return;
      }
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      this.refCount();
      if ('error' in m) p.reject(storeError(fromWorker(m.error)));
      else p.resolve(m.rows);
    });
    // An uncaught error ends the worker; 'exit' follows and settles everything.
    worker.on('error', (e) => void (this.lastError = e));
    worker.on('exit', (code) => {
      if (this.worker !== worker) return;
      const why = this.closed ? 'the store was closed' : `${this.lastError?.message ?? 'its thread ended'}, exit code ${code}`;
      const err = this.down ?? workerGone(why);
      if (this.starting) {
        this.down ??= err;
        failed(err);
      }
      // Memory cannot come back; a folder can, for whoever calls next.
      if (!this.closed && !this.down && this.dataDir.startsWith('memory://')) this.down = err;
      this.lastError = undefined;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
      this.dead = true;
    });
  }

  private lastError?: Error;
  private dead = false;

  /** The worker keeps the process alive only while someone waits for it, like a socket with a query out. */
  private refCount(): void {
    if (this.starting || this.pending.size > 0) this.worker.ref();
    else this.worker.unref();
  }

  private async call(m: Omit<WorkerRequest, 'id'>, generation?: number): Promise<unknown[]> {
    return this.send(m, true, generation)!;
  }

  private send(m: Omit<WorkerRequest, 'id'>, answered: boolean, generation?: number): Promise<unknown[]> | undefined {
    if (this.closed) throw workerGone('the store was closed');
    if (this.down) throw this.down;
    if (generation !== undefined && generation !== this.generation) throw workerGone('it was restarted during the transaction');
    if (this.dead) {
      this.dead = false;
      this.start();
      if (generation !== undefined) throw workerGone('it was restarted during the transaction');
    }
    const id = this.nextId++;
    const answer = answered ? new Promise<unknown[]>((resolve, reject) => this.pending.set(id, { resolve, reject })) : undefined;
    this.refCount();
    this.worker.postMessage({ ...m, id });
    return answer;
  }

  async query<T>(sql: string, params?: unknown[]): Promise<{ rows: T[] }> {
    return { rows: (await this.call({ op: 'query', sql, params })) as T[] };
  }

  async transaction<T>(fn: (tx: { query<R>(sql: string, params?: unknown[]): Promise<{ rows: R[] }> }) => Promise<T>): Promise<T> {
    const tx = this.nextTx++;
    this.send({ op: 'begin', tx }, false);
    const generation = this.generation;
    let result: T;
    try {
      result = await fn({ query: async <R>(sql: string, params?: unknown[]) => ({ rows: (await this.call({ op: 'query', sql, params, tx }, generation)) as R[] }) });
    } catch (err) {
      await this.call({ op: 'rollback', tx }, generation).catch(() => undefined);
      throw err;
    }
    await this.call({ op: 'commit', tx }, generation);
    return result;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    try {
      if (!this.dead && !this.down) await this.call({ op: 'close' });
    } finally {
      this.closed = true;
      await this.worker.terminate();
    }
  }
}

/** A PostgreSQL error as the worker sent it: message, SQLSTATE and details on an Error of this thread. */
function fromWorker(e: Record<string, unknown>): Error {
  return Object.assign(new Error(String(e.message)), e);
}

/** How often the embedded store refreshes planner statistics and reclaims dead rows, if it was written to. */
const MAINTENANCE_MS = 10 * 60_000;

class EmbeddedDb implements Db {
  readonly kind = 'embedded' as const;
  private written = false;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly pg: PGliteLike) {
    this.timer = setInterval(() => void this.maintain().catch(() => undefined), MAINTENANCE_MS).unref();
  }

  async query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    if (!/^\s*SELECT\b/i.test(sql)) this.written = true;
    return (await this.pg.query<T>(sql, params)).rows;
  }

  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    this.written = true;
    return this.pg.transaction((t) => fn({ query: async <R>(s: string, p: unknown[] = []) => (await t.query<R>(s, p)).rows }));
  }

  /**
   * PGlite runs PostgreSQL single-user, so autovacuum never runs: without this, the planner
   * never gets statistics and updated rows are never reclaimed. About a second per 30k
   * resources, during which other queries wait.
   */
  async ping(timeoutMs: number): Promise<void> {
    await withDeadline(this.pg.query('SELECT 1'), timeoutMs);
  }

  async maintain(): Promise<boolean> {
    if (!this.written) return false;
    this.written = false;
    await this.pg.query('VACUUM (ANALYZE)');
    return true;
  }

  close(): Promise<void> {
    clearInterval(this.timer);
    return this.pg.close();
  }
}

/** Rejects with 503 transient when `p` has not settled within `ms`. */
async function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new FhirError(503, `the database did not answer within ${ms} ms`, 'transient')), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
    p.catch(() => undefined); // answered too late: nobody is waiting for it any more
  }
}

export interface DbOptions {
  databaseUrl?: string;
  dataDir: string;
  poolSize?: number;
  /** PostgreSQL: the server cancels a statement running longer (0: no limit). */
  statementTimeoutMs?: number;
  /** PostgreSQL: longest wait for a connection, new or from the pool. */
  connectTimeoutMs?: number;
  /** Embedded store: PGlite in a worker thread (default), or in the gateway's own thread with `false`. */
  embeddedWorker?: boolean;
}

/** Time the client waits beyond the statement timeout before it gives up on a server that says nothing at all (paused, cut off). */
const READ_GRACE_MS = 2_000;

export async function openDb(opts: DbOptions): Promise<Db> {
  if (opts.databaseUrl) {
    const statementTimeout = opts.statementTimeoutMs ?? 30_000;
    const config: ClientConfig = {
      connectionString: opts.databaseUrl,
      connectionTimeoutMillis: opts.connectTimeoutMs ?? 5_000,
      keepAlive: true,
      ...(statementTimeout > 0 ? { statement_timeout: statementTimeout, query_timeout: statementTimeout + READ_GRACE_MS } : {}),
    };
    const pool = new Pool({ ...config, max: opts.poolSize ?? 10 });
    // An idle client losing its server must not crash the process; the next query reports it.
    pool.on('error', () => undefined);
    // Nor a client between the pool's listeners and ours: pg parses a whole socket read at once,
    // so a server's goodbye that arrives with the reply completing a checkout is emitted before
    // the borrower could listen. Every client keeps this one for life; the pool still discards
    // a client that broke (it checks `_queryable` on release).
    pool.on('connect', (client) => void client.on('error', () => undefined));
    return new PgDb(pool, config);
  }
  if (!opts.dataDir.startsWith('memory://')) mkdirSync(opts.dataDir, { recursive: true });
  const pg = opts.embeddedWorker === false ? (new PGlite(opts.dataDir) as unknown as PGliteLike) : new WorkerPGlite(opts.dataDir);
  await pg.waitReady;
  return new EmbeddedDb(pg);
}
