import type { Queryable } from './db';
import { parseSearch, type SearchQuery } from './search/query';
import { Params, whereClause } from './search/sql';
import type { IndexRows } from './index-rows';
import { matchInMemory } from '../subscriptions/match';

/**
 * The subscription outbox (#16). A change and the notifications it causes commit together, so
 * a crash can lose neither; delivery state lives per subscription, leased by one process at a
 * time (claimed with SKIP LOCKED), so several gateways deliver each notification once and in
 * order.
 */

/**
 * A version just written, as the writer knows it, with the index rows it computed for it; for a
 * delete, the rows of the version it deletes (a subscriber is told when a resource it watched goes).
 */
export interface Written {
  type: string;
  id: string;
  version: number;
  /** Computed only when a Subscription watches the type (a delete's rows are not otherwise needed). */
  rows: () => IndexRows;
}

/** A notification to queue: subscription, resource type, id, version. */
type Note = { s: string; t: string; i: string; v: number };

/** Subscription statuses whose notifications are kept: `error` still queues what the receiver missed. */
const QUEUED_STATUSES = ['active', 'error'];

const parsed = new Map<string, SearchQuery | null>();

/** A criteria string as a search (cached: a handful of distinct strings, parsed on every write otherwise). */
export function criteriaQuery(criteria: string): SearchQuery | null {
  let q = parsed.get(criteria);
  if (q !== undefined) return q;
  try {
    const at = criteria.indexOf('?');
    const type = at < 0 ? criteria : criteria.slice(0, at);
    q = parseSearch(type, at < 0 ? [] : [...new URLSearchParams(criteria.slice(at + 1))], true);
  } catch {
    q = null;
  }
  if (parsed.size > 10_000) parsed.clear();
  parsed.set(criteria, q);
  return q;
}

/**
 * Inside the writer's transaction: the notifications the written versions cause. Most criteria
 * are decided from the index rows (subscriptions/match.ts); the rest are searched among the
 * stored resources, so a hundred subscriptions do not make every write plan a hundred queries.
 * Deletes are matched before the write (their resources are still searchable then), upserts
 * after it; `enqueueNotifications` queues both.
 */
export async function matchNotifications(tx: Queryable, written: Written[]): Promise<Note[]> {
  const types = [...new Set(written.filter((w) => w.type !== 'Subscription').map((w) => w.type))];
  if (types.length === 0) return [];
  const subs = await tx.query<{ id: string; criteria: string }>(
    `SELECT id, content->>'criteria' AS criteria FROM resources
     WHERE resource_type = 'Subscription' AND deleted = false AND content->>'status' = ANY($1::text[])
       AND split_part(content->>'criteria', '?', 1) = ANY($2::text[])`,
    [QUEUED_STATUSES, types],
  );
  if (subs.length === 0) return [];
  const p = new Params();
  const selects: string[] = [];
  const matched: Note[] = [];
  const typeOf = new Map<string, string>();
  for (const s of subs) {
    const q = criteriaQuery(s.criteria);
    if (!q?.type) continue;
    typeOf.set(s.id, q.type);
    const searched: string[] = [];
    for (const w of written) {
      if (w.type !== q.type) continue;
      const m = matchInMemory(q, w.id, w.rows());
      if (m === undefined) searched.push(w.id);
      else if (m) matched.push({ s: s.id, t: w.type, i: w.id, v: w.version });
    }
    if (searched.length) selects.push(`SELECT ${p.add(s.id)}::text AS s, r.id FROM resources r WHERE ${whereClause(q, p)} AND r.resource_type = ${p.add(q.type)} AND r.id = ANY(${p.add(searched)}::text[])`);
  }
  if (selects.length > 0) {
    const version = new Map(written.map((w) => [`${w.type}/${w.id}`, w]));
    const found = await tx.query<{ s: string; id: string }>(selects.join(' UNION ALL '), p.values);
    for (const f of found) {
      const type = typeOf.get(f.s)!;
      matched.push({ s: f.s, t: type, i: f.id, v: version.get(`${type}/${f.id}`)!.version });
    }
  }
  return matched;
}

/**
 * Queues notifications. Each subscription's delivery row is locked until the transaction ends
 * (in id order, so two writers cannot deadlock): writers matching one subscription take their
 * outbox sequence numbers one after another and commit in that order, so a receiver gets the
 * changes in commit order, not just each resource's in order. The lock is held only from here,
 * the writer's last step, to its commit.
 */
export async function enqueueNotifications(tx: Queryable, notes: Note[]): Promise<void> {
  if (notes.length === 0) return;
  const subs = [...new Set(notes.map((n) => n.s))].sort();
  await tx.query(`INSERT INTO subscription_delivery (subscription_id) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING`, [subs]);
  await tx.query(`SELECT subscription_id FROM subscription_delivery WHERE subscription_id = ANY($1::text[]) ORDER BY subscription_id FOR UPDATE`, [subs]);
  await tx.query(
    `INSERT INTO subscription_outbox (subscription_id, resource_type, id, version_id)
     SELECT s, t, i, v FROM jsonb_to_recordset($1::jsonb) AS x(s text, t text, i text, v integer) ORDER BY s, t, i`,
    [JSON.stringify(notes)],
  );
}

export interface Claimed {
  subscriptionId: string;
  failures: number;
  failingSince?: string;
}

export interface Notification {
  seq: string;
  resourceType: string;
  id: string;
  versionId: number;
}

/** The outbox's reads and writes for the delivery workers. */
export class Outbox {
  constructor(private readonly db: { query: Queryable['query']; transaction: <T>(fn: (tx: Queryable) => Promise<T>) => Promise<T> }) {}

  /** Leases up to `limit` subscriptions that have due notifications and no live lease elsewhere. */
  async claim(limit: number, leaseSeconds: number): Promise<Claimed[]> {
    const rows = await this.db.transaction((tx) =>
      tx.query<{ subscription_id: string; failures: number; failing_since: Date | string | null }>(
        `UPDATE subscription_delivery d SET leased_until = now() + make_interval(secs => $2)
         WHERE d.subscription_id IN (
           SELECT c.subscription_id FROM subscription_delivery c
           WHERE c.next_attempt <= now() AND (c.leased_until IS NULL OR c.leased_until < now())
             AND EXISTS (SELECT 1 FROM subscription_outbox o WHERE o.subscription_id = c.subscription_id)
           ORDER BY c.next_attempt LIMIT $1 FOR UPDATE SKIP LOCKED)
         RETURNING d.subscription_id, d.failures, d.failing_since`,
        [limit, leaseSeconds],
      ),
    );
    return rows.map((r) => ({ subscriptionId: r.subscription_id, failures: r.failures, ...(r.failing_since ? { failingSince: new Date(r.failing_since).toISOString() } : {}) }));
  }

  /** The oldest waiting notifications of one subscription, in commit order. */
  async next(subscriptionId: string, limit: number): Promise<Notification[]> {
    const rows = await this.db.query<{ seq: string; resource_type: string; id: string; version_id: number }>(
      // Ordered by the bigint, not the text it is returned as ("10" < "9").
      `SELECT o.seq::text AS seq, o.resource_type, o.id, o.version_id FROM subscription_outbox o WHERE o.subscription_id = $1 ORDER BY o.seq LIMIT $2`,
      [subscriptionId, limit],
    );
    return rows.map((r) => ({ seq: r.seq, resourceType: r.resource_type, id: r.id, versionId: r.version_id }));
  }

  /** Notifications handed over (or not to be sent): gone from the queue. */
  async done(subscriptionId: string, seqs: string[]): Promise<void> {
    if (seqs.length) await this.db.query(`DELETE FROM subscription_outbox WHERE subscription_id = $1 AND seq = ANY($2::bigint[])`, [subscriptionId, seqs]);
  }

  /** The lease ends after a clean round: failures forgotten, due again at once if more is waiting. */
  async release(subscriptionId: string): Promise<void> {
    await this.db.query(`UPDATE subscription_delivery SET failures = 0, failing_since = NULL, last_error = NULL, next_attempt = now(), leased_until = NULL WHERE subscription_id = $1`, [subscriptionId]);
  }

  /** A failed attempt: retried after `retrySeconds`; returns the failure count and since when it fails. */
  async failed(subscriptionId: string, retrySeconds: number, reason: string): Promise<{ failures: number; failingSince: string }> {
    const [r] = await this.db.query<{ failures: number; failing_since: Date | string }>(
      `UPDATE subscription_delivery SET failures = failures + 1, failing_since = coalesce(failing_since, now()), last_error = $3,
         next_attempt = now() + make_interval(secs => $2), leased_until = NULL
       WHERE subscription_id = $1 RETURNING failures, failing_since`,
      [subscriptionId, retrySeconds, reason.slice(0, 500)],
    );
    return { failures: r?.failures ?? 1, failingSince: new Date(r?.failing_since ?? Date.now()).toISOString() };
  }

  /** A subscription switched off or deleted: its queue goes. */
  async drop(subscriptionId: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query(`DELETE FROM subscription_outbox WHERE subscription_id = $1`, [subscriptionId]);
      await tx.query(`DELETE FROM subscription_delivery WHERE subscription_id = $1`, [subscriptionId]);
    });
  }

  /** Waiting notifications per subscription (for the metrics and tests). */
  async waiting(): Promise<Map<string, number>> {
    const rows = await this.db.query<{ s: string; n: number }>(`SELECT subscription_id AS s, count(*)::int AS n FROM subscription_outbox GROUP BY subscription_id`);
    return new Map(rows.map((r) => [r.s, r.n]));
  }
}
