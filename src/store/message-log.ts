import { createHash, randomUUID } from 'node:crypto';
import { access, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { storableJson, storableText } from '../fhir/text';
import type { Db, Queryable } from './db';

/**
 * The intake's message log. A message is written here, raw bytes and all, before the sender
 * gets any answer; its status then moves from `received` to `accepted`, `quarantined` or
 * `rejected` (or it is recorded as a `duplicate` of an earlier one).
 */
export const MESSAGE_STATUSES = ['received', 'accepted', 'quarantined', 'rejected', 'duplicate'] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

/**
 * A process's hold on a message it is running: the message and the attempt it claimed. Every
 * claim adds an attempt, so a later claim by another process (a recovery pass that found this
 * one stale) makes the earlier one void.
 */
export interface Claim {
  id: string;
  attempts: number;
}

export interface MessageMeta {
  id: string;
  feed: string;
  facility: string;
  sourceKey?: string;
  contentType?: string;
  declaredCharset?: string;
  detectedCharset?: string;
  receivedAt: string;
  checksum: string;
  size: number;
  /** Messages with the same key are applied in the order received (sender and patient). */
  orderKey?: string;
  /** The authenticated sender's facility, checked against the content when a worker processes it. */
  senderFacility?: string;
}

export interface MessageRecord extends MessageMeta {
  status: MessageStatus;
  duplicateOf?: string;
  units?: unknown;
  outcome?: unknown;
  processedAt?: string;
  attempts: number;
}

interface Row {
  id: string;
  feed: string;
  facility: string;
  source_key: string | null;
  content_type: string | null;
  declared_charset: string | null;
  detected_charset: string | null;
  received_at: Date | string;
  checksum: string;
  size: number;
  status: MessageStatus;
  duplicate_of: string | null;
  units: unknown;
  outcome: unknown;
  processed_at: Date | string | null;
  attempts: number;
  sender_facility?: string | null;
}

const META = 'id, feed, facility, source_key, content_type, declared_charset, detected_charset, received_at, checksum, size, status, duplicate_of, units, outcome, processed_at, attempts, sender_facility';

function toRecord(r: Row): MessageRecord {
  const opt = <T>(k: string, v: T | null | undefined) => (v === null || v === undefined ? {} : { [k]: v });
  return {
    id: r.id,
    feed: r.feed,
    facility: r.facility,
    ...opt('sourceKey', r.source_key),
    ...opt('contentType', r.content_type),
    ...opt('declaredCharset', r.declared_charset),
    ...opt('detectedCharset', r.detected_charset),
    receivedAt: new Date(r.received_at).toISOString(),
    checksum: r.checksum,
    size: r.size,
    status: r.status,
    ...opt('duplicateOf', r.duplicate_of),
    ...opt('units', r.units),
    ...opt('outcome', r.outcome),
    ...(r.processed_at ? { processedAt: new Date(r.processed_at).toISOString() } : {}),
    attempts: r.attempts,
    ...opt('senderFacility', r.sender_facility),
  };
}

/**
 * What the sender put in a header ends up in these columns: a NUL (refused by PostgreSQL) must not
 * cost the message its place in the log, so such characters are replaced here, at the edge.
 */
const text = (s: string | undefined): string | null => (s === undefined ? null : storableText(s));

/**
 * Facility and source key are indexed, and a B-tree entry must stay under ~2.7 kB: a longer
 * value (a 3 kB MSH-10) is kept as its head and a hash of the whole, the same for the same
 * value, so duplicates are still found and the message is still logged.
 */
const KEY_MAX = 200;
function key(s: string | undefined): string | null {
  const t = text(s);
  if (t === null || t.length <= KEY_MAX) return t;
  return `${t.slice(0, KEY_MAX - 66)}…#${createHash('sha256').update(t).digest('hex')}`;
}

/** No earlier message with the same order key is still unfinished (`m` is the candidate row). */
const FIRST_OF_ITS_KEY = `(m.order_key IS NULL OR NOT EXISTS (SELECT 1 FROM ingest_messages p WHERE p.status = 'received' AND p.order_key = m.order_key AND p.seq < m.seq))`;

export interface ListFilter {
  status?: string;
  facility?: string;
  feed?: string;
  count: number;
  offset: number;
}

export interface RawFiles {
  /** Folder of raw messages kept as files, each named by the sha256 of its bytes. */
  dir: string;
  /** Messages larger than this (bytes) go to a file; smaller ones stay in the row. */
  threshold: number;
}

export class MessageLog {
  /**
   * `rawFiles`: on the embedded store a 100 MB message in a bytea would pass through PGlite's
   * WASM heap (several copies, and that heap never shrinks); large ones are files instead.
   */
  constructor(
    private readonly db: Db,
    private readonly rawFiles?: RawFiles,
  ) {}

  /** Writes the bytes under their hash, durably, once: the same content is the same file. */
  private async writeRawFile(checksum: string, raw: Buffer): Promise<string> {
    const dir = this.rawFiles!.dir;
    const name = /^[0-9a-f]{64}$/.test(checksum) ? checksum : createHash('sha256').update(raw).digest('hex');
    const path = join(dir, name);
    if (await access(path).then(() => true, () => false)) return name;
    const tmp = `${path}.${randomUUID()}.tmp`;
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(raw);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
    return name;
  }

  /**
   * Persists the message as received. Returns once it is durable. A message to be processed is
   * claimed by its receiver from the start (its first attempt), unless `queued`: then it is left
   * unclaimed for a background worker (acknowledged on receipt).
   */
  async append(meta: MessageMeta, raw: Buffer | undefined, status: MessageStatus = 'received', duplicateOf?: string, queued = false): Promise<void> {
    const file = raw && this.rawFiles && raw.length > this.rawFiles.threshold ? await this.writeRawFile(meta.checksum, raw) : undefined;
    const claimed = status === 'received' && !queued;
    await this.db.query(
      `INSERT INTO ingest_messages (id, feed, facility, source_key, content_type, declared_charset, detected_charset, received_at, checksum, size, raw, status, duplicate_of, raw_file, attempts, claimed_at, order_key, sender_facility)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, CASE WHEN $15 = 1 THEN now() END, $16, $17)`,
      [meta.id, meta.feed, key(meta.facility), key(meta.sourceKey), text(meta.contentType), text(meta.declaredCharset), text(meta.detectedCharset), meta.receivedAt, meta.checksum, meta.size, file ? null : raw ?? null, status, duplicateOf ?? null, file ?? null, claimed ? 1 : 0, key(meta.orderKey), key(meta.senderFacility)],
    );
  }

  /**
   * An earlier, processed message with the same checksum or source key (from the same facility
   * when it is known). Two index-backed lookups rather than one OR, which no index serves.
   */
  async findDuplicate(feed: string, facility: string | undefined, checksum: string, sourceKey?: string): Promise<MessageRecord | undefined> {
    const params: unknown[] = [feed, checksum];
    const byFacility = facility === undefined ? '' : ` AND facility = $${params.push(key(facility))}`;
    const bySource = sourceKey === undefined ? '' : `UNION ALL SELECT ${META} FROM ingest_messages WHERE feed = $1 AND source_key = $${params.push(key(sourceKey))} AND status <> 'duplicate'${byFacility}`;
    const rows = await this.db.query<Row>(
      `SELECT * FROM (SELECT ${META} FROM ingest_messages WHERE feed = $1 AND checksum = $2 AND status <> 'duplicate'${byFacility} ${bySource}) m ORDER BY received_at ASC LIMIT 1`,
      params,
    );
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  /**
   * Records the outcome; never refused for what the outcome quotes (see storableJson). The commit
   * need not wait for the disk: if it is lost in a crash the message is still `received`, and a
   * recovery pass runs it again to the same result. Only the holder of the message's current
   * claim (`attempts`) records it; returns false when another process has claimed it since.
   */
  async finish(id: string, attempts: number, status: MessageStatus, fields: { units?: unknown; outcome?: unknown; facility?: string; sourceKey?: string }): Promise<boolean> {
    const rows = await this.db.transaction((tx) => tx.query(
      `UPDATE ingest_messages SET status = $2, units = $3::jsonb, outcome = $4::jsonb, processed_at = now(), claimed_at = NULL,
         facility = COALESCE($5, facility), source_key = COALESCE($6, source_key) WHERE id = $1 AND attempts = $7 RETURNING id`,
      [id, status, fields.units === undefined ? null : storableJson(fields.units), fields.outcome === undefined ? null : storableJson(fields.outcome), key(fields.facility), key(fields.sourceKey), attempts],
    ), { relaxedCommit: true });
    return rows.length > 0;
  }

  /**
   * Inside the transaction that applies a message's unit: true while this process still holds
   * the message's claim. The row stays locked until that transaction ends, so a recovery pass
   * cannot take the message over between this check and the commit.
   */
  async holdsClaim(tx: Queryable, id: string, attempts: number): Promise<boolean> {
    const rows = await tx.query(`SELECT 1 FROM ingest_messages WHERE id = $1 AND attempts = $2 FOR UPDATE`, [id, attempts]);
    return rows.length > 0;
  }

  async get(id: string): Promise<MessageRecord | undefined> {
    const rows = await this.db.query<Row>(`SELECT ${META} FROM ingest_messages WHERE id = $1`, [id]);
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  async raw(id: string): Promise<Buffer | undefined> {
    const rows = await this.db.query<{ raw: Uint8Array | null; raw_file: string | null }>(`SELECT raw, raw_file FROM ingest_messages WHERE id = $1`, [id]);
    const r = rows[0];
    if (r?.raw_file) {
      if (!this.rawFiles) throw new Error(`message ${id} is stored as a file, and no raw folder is configured`);
      return readFile(join(this.rawFiles.dir, r.raw_file));
    }
    return r?.raw ? Buffer.from(r.raw.buffer, r.raw.byteOffset, r.raw.byteLength) : undefined;
  }

  async list(f: ListFilter): Promise<{ total: number; messages: MessageRecord[] }> {
    const conds: string[] = [];
    const params: unknown[] = [];
    const add = (col: string, v: string | undefined) => {
      if (v === undefined) return;
      params.push(col === 'facility' ? key(v) : text(v));
      conds.push(`${col} = $${params.length}`);
    };
    add('status', f.status);
    add('facility', f.facility);
    add('feed', f.feed);
    const where = conds.length ? `WHERE ${conds.join(' AND ')}` : '';
    const [rows, count] = await Promise.all([
      this.db.query<Row>(`SELECT ${META} FROM ingest_messages ${where} ORDER BY received_at DESC, id LIMIT $${params.length + 1} OFFSET $${params.length + 2}`, [...params, f.count, f.offset]),
      this.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ingest_messages ${where}`, params),
    ]);
    return { total: count[0]?.n ?? 0, messages: rows.map(toRecord) };
  }

  /** The database's clock minus `graceMs`: a recovery pass takes only messages claimed before it. */
  async cutoff(graceMs: number): Promise<Date> {
    const rows = await this.db.query<{ t: Date | string }>(`SELECT now() - make_interval(secs => $1) AS t`, [graceMs / 1000]);
    return new Date(rows[0]!.t);
  }

  /**
   * Claims up to `limit` messages left `received` whose last claim is older than `before`
   * (their receiver stopped, or its database write failed): each claim is an attempt. Rows
   * another gateway is claiming at this moment are skipped, not waited for.
   */
  async claimUnfinished(before: Date, limit: number, includeQueued = true): Promise<Claim[]> {
    // With background workers running, messages never claimed are theirs to take, in order.
    const queued = includeQueued ? '' : 'AND m.claimed_at IS NOT NULL';
    return this.db.query<Claim>(
      `UPDATE ingest_messages SET attempts = attempts + 1, claimed_at = now()
       WHERE id IN (SELECT m.id FROM ingest_messages m WHERE m.status = 'received' AND COALESCE(m.claimed_at, m.received_at) < $1 ${queued} AND ${FIRST_OF_ITS_KEY}
                    ORDER BY m.seq LIMIT $2 FOR UPDATE SKIP LOCKED)
       RETURNING id, attempts`,
      [before.toISOString(), limit],
    );
  }

  /**
   * Claims up to `limit` messages acknowledged on receipt and not yet taken, oldest first, each
   * the first unfinished one of its order key (a later A08 waits for its A04). Rows another
   * gateway is claiming are skipped, so several processes share the backlog without a coordinator.
   */
  async claimQueued(limit: number): Promise<Claim[]> {
    return this.db.query<Claim>(
      `UPDATE ingest_messages SET attempts = attempts + 1, claimed_at = now()
       WHERE id IN (SELECT m.id FROM ingest_messages m WHERE m.status = 'received' AND m.claimed_at IS NULL AND ${FIRST_OF_ITS_KEY}
                    ORDER BY m.seq LIMIT $1 FOR UPDATE SKIP LOCKED)
       RETURNING id, attempts`,
      [limit],
    );
  }

  /** Messages received and not yet processed, and the age of the oldest (seconds). */
  async backlog(): Promise<{ count: number; oldestSeconds: number }> {
    const rows = await this.db.query<{ n: number; age: number | null }>(
      `SELECT count(*)::int AS n, EXTRACT(EPOCH FROM now() - min(received_at))::float8 AS age FROM ingest_messages WHERE status = 'received'`,
    );
    return { count: rows[0]?.n ?? 0, oldestSeconds: Math.max(0, Number(rows[0]?.age ?? 0)) };
  }

  /** One more attempt at a message taken up by hand (replay); returns the attempt, which is the claim. */
  async claim(id: string): Promise<number> {
    const rows = await this.db.query<{ attempts: number }>(`UPDATE ingest_messages SET attempts = attempts + 1, claimed_at = now() WHERE id = $1 RETURNING attempts`, [id]);
    return rows[0]?.attempts ?? 0;
  }

  /**
   * Renews the claims of messages being worked on, so a recovery pass does not take them up
   * meanwhile; a claim another process has taken since (a later attempt) is left alone.
   */
  async touch(claims: Claim[]): Promise<void> {
    if (claims.length === 0) return;
    await this.db.query(
      `UPDATE ingest_messages m SET claimed_at = now() FROM unnest($1::text[], $2::int[]) AS c(id, attempts)
       WHERE m.id = c.id AND m.attempts = c.attempts AND m.status = 'received'`,
      [claims.map((c) => c.id), claims.map((c) => c.attempts)],
    );
  }

  /** Why the last attempt failed; the message stays `received` for the next pass. */
  async recordFailure(id: string, attempts: number, outcome: unknown): Promise<void> {
    await this.db.query(`UPDATE ingest_messages SET outcome = $2::jsonb WHERE id = $1 AND attempts = $3 AND status = 'received'`, [id, storableJson(outcome), attempts]);
  }
}
