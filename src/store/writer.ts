import { FhirError } from '../fhir/outcome';
import type { Queryable } from './db';
import { INDEX_TABLES, indexResource, type IndexRows } from './index-rows';
import type { AnyResource, StoredVersion, WriteMethod, WriteResult } from './types';

/** One intended change; `ifMatch` is the version the client last saw (optimistic locking). */
export interface PendingWrite {
  method: WriteMethod;
  resourceType: string;
  id: string;
  resource?: AnyResource;
  ifMatch?: number;
}

const INDEX_COLUMNS: Record<(typeof INDEX_TABLES)[number], string> = {
  string: 'norm text, exact text',
  token: 'system text, code text, display text',
  date: 'lo timestamptz, hi timestamptz',
  number: 'value numeric',
  quantity: 'value numeric, system text, code text, unit text',
  reference: 'target_type text, target_id text, url text',
  uri: 'value text',
};

const KEYS = `SELECT t, i FROM jsonb_to_recordset($1::jsonb) AS k(t text, i text)`;

/**
 * Writes a set of changes inside the caller's transaction with a fixed number of statements,
 * however many resources there are: current versions are locked and read in one query, replaced
 * versions move to history in one, the resource rows are upserted in one, and each index table is
 * filled in one. A version that moved underneath us (another writer) aborts the whole set with 409.
 */
export async function writeAll(tx: Queryable, writes: PendingWrite[], localBases: string[] = []): Promise<WriteResult[]> {
  if (writes.length === 0) return [];
  const seen = new Set<string>();
  for (const w of writes) {
    const k = `${w.resourceType}/${w.id}`;
    if (seen.has(k)) throw new FhirError(400, `${k} is written more than once in one transaction`, 'duplicate');
    seen.add(k);
  }

  // Server-assigned creates cannot exist yet; everything else needs the current version.
  const lookup = writes.filter((w) => w.method !== 'create');
  const current = new Map<string, { version: number; deleted: boolean }>();
  if (lookup.length > 0) {
    const rows = await tx.query<{ resource_type: string; id: string; version_id: number; deleted: boolean }>(
      `SELECT resource_type, id, version_id, deleted FROM resources WHERE (resource_type, id) IN (${KEYS}) FOR UPDATE`,
      [JSON.stringify(lookup.map((w) => ({ t: w.resourceType, i: w.id })))],
    );
    for (const r of rows) current.set(`${r.resource_type}/${r.id}`, { version: r.version_id, deleted: r.deleted });
  }

  const lastUpdated = new Date().toISOString();
  const results: WriteResult[] = [];
  const upserts: { t: string; i: string; v: number; u: string; d: boolean; c: AnyResource | null }[] = [];
  const replaced: { t: string; i: string }[] = [];
  const index: { table: (typeof INDEX_TABLES)[number]; rows: unknown[][] }[] = INDEX_TABLES.map((table) => ({ table, rows: [] }));

  for (const w of writes) {
    const key = `${w.resourceType}/${w.id}`;
    const cur = current.get(key);
    const existed = cur !== undefined && !cur.deleted;
    if (w.ifMatch !== undefined && (!cur || cur.version !== w.ifMatch)) {
      throw new FhirError(412, `version ${w.ifMatch} of ${key} is not the current version${cur ? ` (${cur.version})` : ''}`, 'conflict');
    }
    if (w.method === 'delete' && !existed) {
      // Deleting what is not there succeeds without a new version.
      results.push({ method: 'delete', existed: false, version: { resourceType: w.resourceType, id: w.id, versionId: cur?.version ?? 0, lastUpdated, deleted: true } });
      continue;
    }
    const versionId = (cur?.version ?? 0) + 1;
    if (cur) replaced.push({ t: w.resourceType, i: w.id });
    let content: AnyResource | null = null;
    if (w.method !== 'delete') {
      content = { ...w.resource!, resourceType: w.resourceType, id: w.id };
      content.meta = { ...(content.meta ?? {}), versionId: String(versionId), lastUpdated };
      const rows: IndexRows = indexResource(content, localBases);
      for (const slot of index) for (const r of rows[slot.table]) slot.rows.push([w.resourceType, w.id, ...r]);
    }
    upserts.push({ t: w.resourceType, i: w.id, v: versionId, u: lastUpdated, d: w.method === 'delete', c: content });
    results.push({
      method: w.method,
      existed,
      version: { resourceType: w.resourceType, id: w.id, versionId, lastUpdated, deleted: w.method === 'delete', ...(content ? { resource: content } : {}) },
    });
  }

  if (replaced.length > 0) {
    const keys = JSON.stringify(replaced);
    await tx.query(
      `INSERT INTO resource_history (resource_type, id, version_id, last_updated, deleted, content)
       SELECT resource_type, id, version_id, last_updated, deleted, content FROM resources WHERE (resource_type, id) IN (${KEYS})`,
      [keys],
    );
    for (const table of INDEX_TABLES) await tx.query(`DELETE FROM sp_${table} WHERE (resource_type, id) IN (${KEYS})`, [keys]);
  }

  if (upserts.length > 0) {
    const written = await tx.query<{ id: string }>(
      `INSERT INTO resources (resource_type, id, version_id, last_updated, deleted, content)
       SELECT t, i, v, u::timestamptz, d, c FROM jsonb_to_recordset($1::jsonb) AS x(t text, i text, v integer, u text, d boolean, c jsonb)
       ON CONFLICT (resource_type, id) DO UPDATE
         SET version_id = EXCLUDED.version_id, last_updated = EXCLUDED.last_updated, deleted = EXCLUDED.deleted, content = EXCLUDED.content
         WHERE resources.version_id = EXCLUDED.version_id - 1
       RETURNING id`,
      [JSON.stringify(upserts)],
    );
    if (written.length !== upserts.length) throw new FhirError(409, 'a resource in this request was changed by another request at the same time; retry', 'conflict');
  }

  for (const { table, rows } of index) {
    if (rows.length === 0) continue;
    const cols = INDEX_COLUMNS[table];
    const names = ['resource_type', 'id', 'param', ...cols.split(', ').map((c) => c.split(' ')[0])];
    await tx.query(
      `INSERT INTO sp_${table} (${names.join(', ')})
       SELECT ${names.map((_, i) => `(e->>${i})${i >= 3 ? castOf(cols, i - 3) : ''}`).join(', ')} FROM jsonb_array_elements($1::jsonb) AS e`,
      [JSON.stringify(rows)],
    );
  }
  return results;
}

function castOf(cols: string, i: number): string {
  const t = cols.split(', ')[i]!.split(' ')[1];
  return t === 'text' ? '' : `::${t}`;
}

export type { StoredVersion };
