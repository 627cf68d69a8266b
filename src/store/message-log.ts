import type { Db } from './db';

/**
 * The intake's message log. A message is written here, raw bytes and all, before the sender
 * gets any answer; its status then moves from `received` to `accepted`, `quarantined` or
 * `rejected` (or it is recorded as a `duplicate` of an earlier one).
 */
export const MESSAGE_STATUSES = ['received', 'accepted', 'quarantined', 'rejected', 'duplicate'] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

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
}

const META = 'id, feed, facility, source_key, content_type, declared_charset, detected_charset, received_at, checksum, size, status, duplicate_of, units, outcome, processed_at, attempts';

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
  };
}

export interface ListFilter {
  status?: string;
  facility?: string;
  feed?: string;
  count: number;
  offset: number;
}

export class MessageLog {
  constructor(private readonly db: Db) {}

  /** Persists the message as received. Returns once it is durable. */
  async append(meta: MessageMeta, raw: Buffer | undefined, status: MessageStatus = 'received', duplicateOf?: string): Promise<void> {
    await this.db.query(
      `INSERT INTO ingest_messages (id, feed, facility, source_key, content_type, declared_charset, detected_charset, received_at, checksum, size, raw, status, duplicate_of)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
      [meta.id, meta.feed, meta.facility, meta.sourceKey ?? null, meta.contentType ?? null, meta.declaredCharset ?? null, meta.detectedCharset ?? null, meta.receivedAt, meta.checksum, meta.size, raw ?? null, status, duplicateOf ?? null],
    );
  }

  /**
   * An earlier, processed message with the same checksum or source key (from the same facility
   * when it is known). Two index-backed lookups rather than one OR, which no index serves.
   */
  async findDuplicate(feed: string, facility: string | undefined, checksum: string, sourceKey?: string): Promise<MessageRecord | undefined> {
    const params: unknown[] = [feed, checksum];
    const byFacility = facility === undefined ? '' : ` AND facility = $${params.push(facility)}`;
    const bySource = sourceKey === undefined ? '' : `UNION ALL SELECT ${META} FROM ingest_messages WHERE feed = $1 AND source_key = $${params.push(sourceKey)} AND status <> 'duplicate'${byFacility}`;
    const rows = await this.db.query<Row>(
      `SELECT * FROM (SELECT ${META} FROM ingest_messages WHERE feed = $1 AND checksum = $2 AND status <> 'duplicate'${byFacility} ${bySource}) m ORDER BY received_at ASC LIMIT 1`,
      params,
    );
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  /**
   * Records the outcome. The commit need not wait for the disk: if it is lost in a crash the
   * message is still `received`, and start-up recovery runs it again to the same result.
   */
  async finish(id: string, status: MessageStatus, fields: { units?: unknown; outcome?: unknown; facility?: string; sourceKey?: string }): Promise<void> {
    await this.db.transaction((tx) => tx.query(
      `UPDATE ingest_messages SET status = $2, units = $3::jsonb, outcome = $4::jsonb, processed_at = now(), attempts = attempts + 1,
         facility = COALESCE($5, facility), source_key = COALESCE($6, source_key) WHERE id = $1`,
      [id, status, fields.units === undefined ? null : JSON.stringify(fields.units), fields.outcome === undefined ? null : JSON.stringify(fields.outcome), fields.facility ?? null, fields.sourceKey ?? null],
    ), { relaxedCommit: true });
  }

  async get(id: string): Promise<MessageRecord | undefined> {
    const rows = await this.db.query<Row>(`SELECT ${META} FROM ingest_messages WHERE id = $1`, [id]);
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  async raw(id: string): Promise<Buffer | undefined> {
    const rows = await this.db.query<{ raw: Uint8Array | null }>(`SELECT raw FROM ingest_messages WHERE id = $1`, [id]);
    const r = rows[0]?.raw;
    return r ? Buffer.from(r) : undefined;
  }

  async list(f: ListFilter): Promise<{ total: number; messages: MessageRecord[] }> {
    const conds: string[] = [];
    const params: unknown[] = [];
    const add = (col: string, v: string | undefined) => {
      if (v === undefined) return;
      params.push(v);
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

  /** Messages persisted but never finished (the process stopped in between): to be run again. */
  async unfinished(limit = 100): Promise<string[]> {
    const rows = await this.db.query<{ id: string }>(`SELECT id FROM ingest_messages WHERE status = 'received' ORDER BY received_at LIMIT $1`, [limit]);
    return rows.map((r) => r.id);
  }
}
