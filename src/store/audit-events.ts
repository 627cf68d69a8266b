import type { Queryable } from './db';

/**
 * The audit trail's own table: append-only rows, one per audited request, written in batches
 * (one INSERT per batch) and searched with a handful of indexed columns. Kept apart from the
 * resource store on purpose: an audit record is never validated, versioned or index-rowed,
 * so recording one costs a fraction of a resource write. The AuditEvent JSON is built on read.
 */
export interface AuditRow {
  id: string;
  recorded: string;
  /** restful-interaction code (read, search-type, create, …), or `import` for intake. */
  interaction: string;
  action: 'C' | 'R' | 'U' | 'D' | 'E';
  status: number;
  clientId: string;
  facility: string;
  remoteAddress?: string;
  /** `Patient/x` references. */
  patients: string[];
  target?: string;
  query?: string;
}

export interface AuditFilter {
  /** Each is [lo, hi) in epoch ms; a row must fall in all. `ne` ranges are `not`. */
  recorded: { lo?: number; hi?: number; not?: boolean }[];
  clientIds?: string[];
  facilities?: string[];
  /** A row must name at least one of these patients. */
  patients?: string[];
  /** A row must name one of these as patient or target. */
  entities?: string[];
  actions?: string[];
  interactions?: string[];
  /** REST interactions only (no intake). */
  notImport?: boolean;
  /** HTTP status classes: [lo, hi). */
  statuses?: [number, number][];
  ids?: string[];
}

const COLUMNS = 'id, recorded, interaction, action, status, client_id, facility, remote_address, patients, target, query';

/** One statement for the whole batch, every value bound (the batch travels as one JSON parameter). */
export async function insertAuditRows(db: Queryable, rows: AuditRow[]): Promise<void> {
  if (rows.length === 0) return;
  const payload = rows.map((r) => ({
    id: r.id,
    recorded: r.recorded,
    interaction: r.interaction,
    action: r.action,
    status: r.status,
    client_id: r.clientId,
    facility: r.facility,
    remote_address: r.remoteAddress ?? null,
    patients: r.patients,
    target: r.target ?? null,
    query: r.query ?? null,
  }));
  await db.query(
    `INSERT INTO audit_events (${COLUMNS})
     SELECT ${COLUMNS} FROM jsonb_to_recordset($1::jsonb) AS x(id text, recorded timestamptz, interaction text, action text, status integer,
       client_id text, facility text, remote_address text, patients text[], target text, query text)
     ON CONFLICT (id) DO NOTHING`,
    [JSON.stringify(payload)],
  );
}

function where(f: AuditFilter): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const bind = (v: unknown) => `$${params.push(v)}`;
  const parts: string[] = [];
  for (const r of f.recorded) {
    const c: string[] = [];
    if (r.lo !== undefined) c.push(`recorded >= ${bind(new Date(r.lo).toISOString())}::timestamptz`);
    if (r.hi !== undefined) c.push(`recorded < ${bind(new Date(r.hi).toISOString())}::timestamptz`);
    if (c.length) parts.push(r.not ? `NOT (${c.join(' AND ')})` : c.join(' AND '));
  }
  if (f.ids) parts.push(`id = ANY(${bind(f.ids)}::text[])`);
  if (f.clientIds) parts.push(`client_id = ANY(${bind(f.clientIds)}::text[])`);
  if (f.facilities) parts.push(`facility = ANY(${bind(f.facilities)}::text[])`);
  if (f.patients) parts.push(`patients && ${bind(f.patients)}::text[]`);
  if (f.entities) {
    const p = bind(f.entities);
    parts.push(`(patients && ${p}::text[] OR target = ANY(${p}::text[]))`);
  }
  if (f.actions) parts.push(`action = ANY(${bind(f.actions)}::text[])`);
  if (f.interactions) parts.push(`interaction = ANY(${bind(f.interactions)}::text[])`);
  if (f.notImport) parts.push(`interaction <> 'import'`);
  if (f.statuses) parts.push(`(${f.statuses.map(([lo, hi]) => `(status >= ${bind(lo)}::int AND status < ${bind(hi)}::int)`).join(' OR ')})`);
  return { sql: parts.length ? `WHERE ${parts.join(' AND ')}` : '', params };
}

interface DbRow {
  id: string;
  recorded: Date | string;
  interaction: string;
  action: AuditRow['action'];
  status: number;
  client_id: string;
  facility: string;
  remote_address: string | null;
  patients: string[] | string;
  target: string | null;
  query: string | null;
}

function fromDb(r: DbRow): AuditRow {
  return {
    id: r.id,
    recorded: new Date(r.recorded).toISOString(),
    interaction: r.interaction,
    action: r.action,
    status: r.status,
    clientId: r.client_id,
    facility: r.facility,
    ...(r.remote_address !== null ? { remoteAddress: r.remote_address } : {}),
    patients: Array.isArray(r.patients) ? r.patients : [],
    ...(r.target !== null ? { target: r.target } : {}),
    ...(r.query !== null ? { query: r.query } : {}),
  };
}

export async function searchAuditRows(db: Queryable, f: AuditFilter, page: { count: number; offset: number; newestFirst: boolean }): Promise<{ rows: AuditRow[]; hasMore: boolean }> {
  const w = where(f);
  const order = page.newestFirst ? 'DESC' : 'ASC';
  const rows = await db.query<DbRow>(
    `SELECT ${COLUMNS} FROM audit_events ${w.sql} ORDER BY recorded ${order}, id ${order} LIMIT $${w.params.length + 1}::int OFFSET $${w.params.length + 2}::int`,
    [...w.params, page.count + 1, page.offset],
  );
  return { rows: rows.slice(0, page.count).map(fromDb), hasMore: rows.length > page.count };
}

export async function countAuditRows(db: Queryable, f: AuditFilter): Promise<number> {
  const w = where(f);
  const [row] = await db.query<{ n: number | string }>(`SELECT count(*) AS n FROM audit_events ${w.sql}`, w.params);
  return Number(row?.n ?? 0);
}

export async function readAuditRow(db: Queryable, id: string): Promise<AuditRow | undefined> {
  const [row] = await db.query<DbRow>(`SELECT ${COLUMNS} FROM audit_events WHERE id = $1`, [id]);
  return row ? fromDb(row) : undefined;
}
