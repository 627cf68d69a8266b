import { createHash } from 'node:crypto';
import type { Db } from '../store/db';
import type { Features } from './features';

/**
 * Two writers of one new person at the same instant (two feeds, two gateway processes) would
 * each find no Person and each create one. Linking a record therefore takes turns per matching
 * key: in the process by a queue per key, and across processes by transaction-scoped advisory
 * locks on PostgreSQL, held while the record is matched and linked (the linker's own writes run
 * beside that transaction and are seen by the next turn).
 */
export function matchingKeys(f: Features): string[] {
  const keys: string[] = [];
  if (f.cccd) keys.push(`cccd:${f.cccd}`);
  if (f.cmnd) keys.push(`cmnd:${f.cmnd}`);
  if (f.bhxh) keys.push(`bhxh:${f.bhxh}`);
  // Without an identifier: the exact folded name and birth year (what a re-sent record keeps).
  if (f.words.length >= 2 && f.birth) keys.push(`name:${f.words.join(' ')}:${f.birth.y}`);
  return keys;
}

/** Advisory-lock namespace of the MPI (the first int of the two-int form). */
const LOCK_CLASS = 7243012;
/**
 * Lock-holding transactions wait on a pooled connection while the linking they guard needs
 * others: at most this many at once, so the pool (10 by default) always has some left.
 */
const MAX_HOLDERS = 3;

const lockId = (key: string) => createHash('sha256').update(key).digest().readInt32BE(0);

export class Turns {
  private readonly tails = new Map<string, Promise<void>>();
  private holders = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly db: Db) {}

  async take<T>(keys: string[], fn: () => Promise<T>): Promise<T> {
    if (keys.length === 0) return fn();
    // Sorted, in both layers, so that two records sharing two keys cannot wait on each other.
    const sorted = [...new Set(keys)].sort();
    const releases: (() => void)[] = [];
    try {
      for (const k of sorted) releases.push(await this.queue(k));
      if (this.db.kind !== 'postgres') return await fn(); // the embedded store has one process
      await this.slot();
      try {
        return await this.db.transaction(async (tx) => {
          for (const id of [...new Set(sorted.map(lockId))].sort((a, b) => a - b)) await tx.query(`SELECT pg_advisory_xact_lock($1::int, $2::int)`, [LOCK_CLASS, id]);
          return fn();
        });
      } finally {
        this.holders--;
        this.waiting.shift()?.();
      }
    } finally {
      for (const r of releases.reverse()) r();
    }
  }

  private async queue(key: string): Promise<() => void> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = prev.then(() => mine);
    this.tails.set(key, tail);
    await prev;
    return () => {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    };
  }

  private async slot(): Promise<void> {
    while (this.holders >= MAX_HOLDERS) await new Promise<void>((r) => this.waiting.push(r));
    this.holders++;
  }
}
