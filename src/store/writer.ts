import { FhirError } from '../fhir/outcome';
import { bumpCompartments, compartmentsOf } from './compartment-version';
import type { Queryable } from './db';
import { INDEX_TABLES, indexResource, type IndexRows } from './index-rows';
import { enqueueNotifications, matchNotifications, type Written } from './outbox';
import type { AnyResource, StoredVersion, WriteMethod, WriteResult } from './types';

/** One intended change; `ifMatch` is the version the client last saw (optimistic locking). */
export interface PendingWrite {
  method: WriteMethod;
  resourceType: string;
  id: string;
  resource?: AnyResource;
  ifMatch?: number;
}

const INDEX_COLUMNS: Record<(typeof INDEX_TABLES)[number], [name: string, type: string][]> = {
  string: [['norm', 'text'], ['exact', 'text']],
  token: [['system', 'text'], ['code', 'text'], ['display', 'text']],
  date: [['lo', 'timestamptz'], ['hi', 'timestamptz']],
  number: [['value', 'numeric']],
  quantity: [['value', 'numeric'], ['system', 'text'], ['code', 'text'], ['unit', 'text']],
  reference: [['target_type', 'text'], ['target_id', 'text'], ['url', 'text']],
  uri: [['value', 'text']],
};

/**
 * The whole write as one statement. Data-modifying CTEs share one snapshot, so the history copy
 * reads the rows before the upsert changes them, and the index DELETE sees only the old rows,
 * not the ones the sibling INSERT adds. One round trip however many resources and index rows.
 */
const WRITE_SQL = (() => {
  const keyJoin = (alias: string) => `${alias}.resource_type = k.t AND ${alias}.id = k.i`;
  // The `= ANY` arrays are for the planner, which cannot see how many keys a JSON document
  // holds and guesses 100: with the real count in view, an update finds its old rows through
  // the (resource_type, id) indexes instead of scanning whole tables (a test keeps it so).
  const replacedOnly = (alias: string) => `${alias}.resource_type = ANY($2::text[]) AND ${alias}.id = ANY($3::text[])`;
  const deletes = INDEX_TABLES.map((t) => `del_${t} AS (DELETE FROM sp_${t} s USING replaced k WHERE ${replacedOnly('s')} AND ${keyJoin('s')})`);
  const inserts = INDEX_TABLES.map((t) => {
    const cols = INDEX_COLUMNS[t];
    const names = ['resource_type', 'id', 'param', ...cols.map(([n]) => n)];
    const values = names.map((_, i) => (i < 3 ? `e->>${i}` : `(e->>${i})::${cols[i - 3]![1]}`));
    return `ins_${t} AS (INSERT INTO sp_${t} (${names.join(', ')}) SELECT ${values.join(', ')} FROM doc, jsonb_array_elements(doc.j->'${t}') e)`;
  });
  return `WITH doc AS MATERIALIZED (SELECT $1::jsonb AS j),
    replaced AS MATERIALIZED (SELECT k.t, k.i FROM doc, jsonb_to_recordset(doc.j->'replaced') AS k(t text, i text)),
    hist AS (INSERT INTO resource_history (resource_type, id, version_id, last_updated, deleted, content)
             SELECT r.resource_type, r.id, r.version_id, r.last_updated, r.deleted, r.content FROM resources r JOIN replaced k ON ${keyJoin('r')}
             WHERE ${replacedOnly('r')}),
    ${deletes.join(',\n    ')},
    up AS (INSERT INTO resources (resource_type, id, version_id, last_updated, deleted, content)
           SELECT x.t, x.i, x.v, x.u::timestamptz, x.d, x.c FROM doc, jsonb_to_recordset(doc.j->'upserts') AS x(t text, i text, v integer, u text, d boolean, c jsonb)
           ON CONFLICT (resource_type, id) DO UPDATE
             SET version_id = EXCLUDED.version_id, last_updated = EXCLUDED.last_updated, deleted = EXCLUDED.deleted, content = EXCLUDED.content
             WHERE resources.version_id = EXCLUDED.version_id - 1
           RETURNING 1),
    ${inserts.join(',\n    ')}
  SELECT count(*)::int AS n FROM up`;
})();

const KEYS = `SELECT t, i FROM jsonb_to_recordset($1::jsonb) AS k(t text, i text)`;

/** Structural equality, ignoring key order (jsonb does not keep it) and the server's own meta. */
function sameContent(a: unknown, b: unknown, top = true): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) return a.length === (b as unknown[]).length && a.every((x, i) => sameContent(x, (b as unknown[])[i], false));
  const skip = (k: string) => top && k === 'meta';
  const ka = Object.keys(a).filter((k) => !skip(k));
  const kb = Object.keys(b).filter((k) => !skip(k));
  if (ka.length !== kb.length) return false;
  if (top) {
    const strip = (m: unknown) => {
      const { versionId: _v, lastUpdated: _u, ...rest } = (m ?? {}) as Record<string, unknown>;
      return rest;
    };
    if (!sameContent(strip((a as AnyResource).meta), strip((b as AnyResource).meta), false)) return false;
  }
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && sameContent((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], false));
}

/**
 * Writes a set of changes inside the caller's transaction in two statements, however many
 * resources there are: current versions are locked and read in one, and everything else —
 * history, index rows, the resources themselves — is written in one. An update that changes
 * nothing keeps its version (a feed re-sending the same Organization is not a new version).
 * A version that moved underneath us (another writer) aborts the whole set with 409.
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
  const current = new Map<string, { version: number; deleted: boolean; lastUpdated: string; content: AnyResource | null }>();
  if (lookup.length > 0) {
    const rows = await tx.query<{ resource_type: string; id: string; version_id: number; deleted: boolean; last_updated: Date | string; content: AnyResource | null }>(
      `SELECT resource_type, id, version_id, deleted, last_updated, content FROM resources WHERE resource_type = ANY($2::text[]) AND id = ANY($3::text[]) AND (resource_type, id) IN (${KEYS}) FOR UPDATE`,
      [JSON.stringify(lookup.map((w) => ({ t: w.resourceType, i: w.id }))), [...new Set(lookup.map((w) => w.resourceType))], lookup.map((w) => w.id)],
    );
    for (const r of rows) current.set(`${r.resource_type}/${r.id}`, { version: r.version_id, deleted: r.deleted, lastUpdated: new Date(r.last_updated).toISOString(), content: r.content });
  }

  const lastUpdated = new Date().toISOString();
  const results: WriteResult[] = [];
  const upserts: { t: string; i: string; v: number; u: string; d: boolean; c: AnyResource | null }[] = [];
  const written: Written[] = [];
  const deleted: Written[] = [];
  const replaced: { t: string; i: string }[] = [];
  const index: Record<string, unknown[][]> = Object.fromEntries(INDEX_TABLES.map((t) => [t, []]));
  const touched = new Map<WriteResult, string[]>();

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
    let content: AnyResource | null = null;
    if (w.method !== 'delete') {
      content = { ...w.resource!, resourceType: w.resourceType, id: w.id };
      if (existed && cur.content && sameContent(content, cur.content)) {
        results.push({ method: 'update', existed: true, version: { resourceType: w.resourceType, id: w.id, versionId: cur.version, lastUpdated: cur.lastUpdated, deleted: false, resource: cur.content } });
        continue;
      }
    }
    const versionId = (cur?.version ?? 0) + 1;
    if (cur) replaced.push({ t: w.resourceType, i: w.id });
    const gone = !content ? cur?.content : undefined;
    let goneRows: IndexRows | undefined;
    if (gone) deleted.push({ type: w.resourceType, id: w.id, version: versionId, rows: () => (goneRows ??= indexResource(gone, localBases)) });
    let refs: unknown[][] = [];
    if (content) {
      content.meta = { ...(content.meta ?? {}), versionId: String(versionId), lastUpdated };
      const rows: IndexRows = indexResource(content, localBases);
      for (const t of INDEX_TABLES) for (const r of rows[t]) index[t]!.push([w.resourceType, w.id, ...r]);
      refs = rows.reference.map((r) => [w.resourceType, w.id, ...r]);
      written.push({ type: w.resourceType, id: w.id, version: versionId, rows: () => rows });
    }
    upserts.push({ t: w.resourceType, i: w.id, v: versionId, u: lastUpdated, d: w.method === 'delete', c: content });
    const result: WriteResult = {
      method: w.method,
      existed,
      version: { resourceType: w.resourceType, id: w.id, versionId, lastUpdated, deleted: w.method === 'delete', ...(content ? { resource: content } : {}) },
    };
    results.push(result);
    touched.set(result, compartmentsOf(w.resourceType, w.id, refs));
  }

  if (upserts.length > 0) {
    // Before the write replaces the old index rows, which name the compartments being left.
    const versions = await bumpCompartments(tx, [...new Set([...touched.values()].flat())], replaced);
    // What a delete removes is matched while it is still there to be searched.
    const deleteNotes = await matchNotifications(tx, deleted);
    // Each result carries every compartment of its transaction: a cache marker per compartment suffices.
    const all = [...versions];
    if (all.length > 0) for (const r of touched.keys()) r.compartments = all;
    const [row] = await tx.query<{ n: number }>(WRITE_SQL, [JSON.stringify({ replaced, upserts, ...index }), [...new Set(replaced.map((k) => k.t))], replaced.map((k) => k.i)]);
    if (row?.n !== upserts.length) throw new FhirError(409, 'a resource in this request was changed by another request at the same time; retry', 'conflict');
    // Subscription notifications commit with the change they announce (the outbox).
    await enqueueNotifications(tx, [...deleteNotes, ...(await matchNotifications(tx, written))]);
  }
  return results;
}

export type { StoredVersion };
