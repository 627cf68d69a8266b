import type { Db, Queryable } from './db';
import { migrate } from './migrations';
import { DEFAULT_SEARCH_LIMITS, parseSearch, type Include, type RawParams, type SearchLimits, type SearchQuery } from './search/query';
import { orderBy, Params, whereClause } from './search/sql';
import type { AnyResource, StoredVersion } from './types';
import { writeAll, type PendingWrite } from './writer';
import type { WriteResult } from './types';

interface VersionRow {
  resource_type: string;
  id: string;
  version_id: number;
  last_updated: Date | string;
  deleted: boolean;
  content: AnyResource | null;
}

const toVersion = (r: VersionRow): StoredVersion => ({
  resourceType: r.resource_type,
  id: r.id,
  versionId: r.version_id,
  lastUpdated: new Date(r.last_updated).toISOString(),
  deleted: r.deleted,
  ...(r.content ? { resource: r.content } : {}),
});

const COLS = 'resource_type, id, version_id, last_updated, deleted, content';

export interface SearchResult {
  matches: AnyResource[];
  included: AnyResource[];
  total?: number;
  hasMore: boolean;
  query: SearchQuery;
}

export interface HistoryOptions {
  type?: string;
  id?: string;
  since?: string;
  count: number;
  offset: number;
}

/** First key of the advisory locks on conditional writes (the second is the condition's hash). */
const CONDITION_LOCK_CLASS = 7243002;

/** The same condition however its parameters are ordered: `Patient?birthdate=x&name=y`. */
export function conditionKey(type: string, criteria: RawParams): string {
  const pairs = criteria.map(([k, v]) => `${k}=${v}`).sort();
  return `${type}?${pairs.join('&')}`;
}

/** The FHIR repository over SQL. The only place that knows the schema, with writer.ts and search/. */
export class Repository {
  constructor(
    readonly db: Db,
    private readonly localBases: string[] = [],
    private readonly limits: SearchLimits = DEFAULT_SEARCH_LIMITS,
  ) {}

  static async open(db: Db, localBases: string[] = [], limits?: SearchLimits): Promise<Repository> {
    await migrate(db);
    return new Repository(db, localBases, limits);
  }

  /** A search string, parsed and checked against the definitions and this store's limits. */
  parse(type: string | undefined, params: RawParams, strict = false): SearchQuery {
    return parseSearch(type, params, strict, this.limits);
  }

  async read(type: string, id: string, q: Queryable = this.db): Promise<StoredVersion | undefined> {
    const rows = await q.query<VersionRow>(`SELECT ${COLS} FROM resources WHERE resource_type = $1 AND id = $2`, [type, id]);
    return rows[0] ? toVersion(rows[0]) : undefined;
  }

  async vread(type: string, id: string, versionId: number): Promise<StoredVersion | undefined> {
    const rows = await this.db.query<VersionRow>(
      `SELECT ${COLS} FROM resources WHERE resource_type = $1 AND id = $2 AND version_id = $3
       UNION ALL SELECT ${COLS} FROM resource_history WHERE resource_type = $1 AND id = $2 AND version_id = $3`,
      [type, id, versionId],
    );
    return rows[0] ? toVersion(rows[0]) : undefined;
  }

  /** Newest first, across current and replaced versions. */
  async history(o: HistoryOptions): Promise<{ versions: StoredVersion[]; total: number }> {
    const p = new Params();
    const conds: string[] = [];
    if (o.type) conds.push(`resource_type = ${p.add(o.type)}`);
    if (o.id) conds.push(`id = ${p.add(o.id)}`);
    if (o.since) conds.push(`last_updated >= ${p.add(o.since)}::timestamptz`);
    const where = conds.length ? `WHERE ${conds.join(' AND ')}` : '';
    const all = `SELECT ${COLS} FROM resources ${where} UNION ALL SELECT ${COLS} FROM resource_history ${where}`;
    const whereParams = [...p.values];
    const [rows, count] = await Promise.all([
      this.db.query<VersionRow>(`${all} ORDER BY last_updated DESC, resource_type, id, version_id DESC LIMIT ${p.add(o.count)} OFFSET ${p.add(o.offset)}`, p.values),
      this.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM (${all}) h`, whereParams),
    ]);
    return { versions: rows.map(toVersion), total: count[0]?.n ?? 0 };
  }

  /** Runs writes in the caller's transaction (a bundle) or in one of its own. */
  write(writes: PendingWrite[], tx?: Queryable): Promise<WriteResult[]> {
    return tx ? writeAll(tx, writes, this.localBases) : this.db.transaction((t) => writeAll(t, writes, this.localBases));
  }

  /**
   * Serialises conditional writes on their conditions, for the rest of the caller's transaction:
   * two requests creating "the Patient with identifier X" take the same lock, so the second one
   * searches only after the first has committed and finds its resource. Keys are taken in one
   * order so that two bundles locking the same conditions cannot deadlock.
   */
  async lockConditions(conditions: { type: string; criteria: RawParams }[], tx: Queryable): Promise<void> {
    if (conditions.length === 0) return;
    const keys = [...new Set(conditions.map((c) => conditionKey(c.type, c.criteria)))];
    await tx.query(`SELECT count(pg_advisory_xact_lock(${CONDITION_LOCK_CLASS}, hashtext(k))) FROM (SELECT k FROM unnest($1::text[]) k ORDER BY k) s`, [keys]);
  }

  /** Ids of current resources of `type` matching a search string's criteria (conditional operations). */
  async matchIds(type: string, params: RawParams, q: Queryable = this.db, limit = 2): Promise<string[]> {
    const query = this.parse(type, params, true);
    const p = new Params();
    const rows = await q.query<{ id: string }>(`SELECT r.id FROM resources r WHERE ${whereClause(query, p)} LIMIT ${limit}`, p.values);
    return rows.map((r) => r.id);
  }

  async search(query: SearchQuery, q: Queryable = this.db): Promise<SearchResult> {
    const p = new Params();
    const where = whereClause(query, p);
    const wantMatches = query.summary !== 'count' && query.count > 0;
    const countParams = [...p.values];
    const order = orderBy(query.sort, p);
    const page = wantMatches
      ? q.query<{ content: AnyResource }>(
          `SELECT r.content FROM resources r WHERE ${where} ORDER BY ${order} LIMIT ${p.add(query.count + 1)} OFFSET ${p.add(query.offset)}`,
          p.values,
        )
      : Promise.resolve([]);
    const rows = await page;
    const hasMore = rows.length > query.count;
    let total: number | undefined;
    if (query.total !== 'none' || query.summary === 'count') {
      // A first page that is not full already tells the total; count only when it cannot.
      if (wantMatches && query.offset === 0 && !hasMore) total = rows.length;
      else total = (await q.query<{ n: number }>(`SELECT count(*)::int AS n FROM resources r WHERE ${where}`, countParams))[0]?.n ?? 0;
    }
    const matches = rows.slice(0, query.count).map((r) => r.content);
    const included = wantMatches ? await this.includes(query, matches, q) : [];
    return { matches, included, ...(total !== undefined ? { total } : {}), hasMore, query };
  }

  private async includes(query: SearchQuery, matches: AnyResource[], q: Queryable): Promise<AnyResource[]> {
    if (matches.length === 0 || (query.include.length === 0 && query.revinclude.length === 0)) return [];
    const seen = new Set(matches.map((m) => `${m.resourceType}/${m.id}`));
    const out: AnyResource[] = [];
    let frontier = matches;
    // :iterate follows includes of includes; bounded so a reference cycle cannot run away.
    for (let round = 0; round < 4 && frontier.length > 0; round++) {
      const next: AnyResource[] = [];
      for (const inc of query.include) {
        if (round > 0 && !inc.iterate) continue;
        for (const r of await this.forward(inc, frontier, q)) if (!seen.has(`${r.resourceType}/${r.id}`)) next.push(r), seen.add(`${r.resourceType}/${r.id}`);
      }
      for (const inc of query.revinclude) {
        if (round > 0 && !inc.iterate) continue;
        for (const r of await this.reverse(inc, frontier, q)) if (!seen.has(`${r.resourceType}/${r.id}`)) next.push(r), seen.add(`${r.resourceType}/${r.id}`);
      }
      out.push(...next);
      frontier = next;
    }
    return out;
  }

  private async forward(inc: Include, from: AnyResource[], q: Queryable): Promise<AnyResource[]> {
    const ids = from.filter((r) => r.resourceType === inc.sourceType).map((r) => r.id!);
    if (ids.length === 0) return [];
    const p = new Params();
    const conds = [`x.resource_type = ${p.add(inc.sourceType)}`, `x.id = ANY(${p.add(ids)}::text[])`];
    if (inc.param) conds.push(`x.param = ${p.add(inc.param.code)}`);
    if (inc.targetType) conds.push(`x.target_type = ${p.add(inc.targetType)}`);
    const rows = await q.query<{ content: AnyResource }>(
      `SELECT DISTINCT ON (r.resource_type, r.id) r.content FROM sp_reference x
       JOIN resources r ON r.resource_type = x.target_type AND r.id = x.target_id AND r.deleted = false
       WHERE ${conds.join(' AND ')}`,
      p.values,
    );
    return rows.map((r) => r.content);
  }

  private async reverse(inc: Include, to: AnyResource[], q: Queryable): Promise<AnyResource[]> {
    if (to.length === 0) return [];
    const p = new Params();
    const conds = [
      `x.resource_type = ${p.add(inc.sourceType)}`,
      // Redundant with the pair test below, but it lets the planner see how few targets there are.
      `x.target_id = ANY(${p.add(to.map((r) => r.id))}::text[])`,
      `(x.target_type, x.target_id) IN (SELECT t, i FROM jsonb_to_recordset(${p.add(JSON.stringify(to.map((r) => ({ t: r.resourceType, i: r.id }))))}::jsonb) AS k(t text, i text))`,
    ];
    if (inc.param) conds.push(`x.param = ${p.add(inc.param.code)}`);
    const rows = await q.query<{ content: AnyResource }>(
      `SELECT DISTINCT ON (r.id) r.content FROM sp_reference x
       JOIN resources r ON r.resource_type = x.resource_type AND r.id = x.id AND r.deleted = false
       WHERE ${conds.join(' AND ')}`,
      p.values,
    );
    return rows.map((r) => r.content);
  }

  /** For readiness probes: a database that does not answer within `timeoutMs` is not ready. */
  ping(timeoutMs = 2_000): Promise<void> {
    return this.db.ping(timeoutMs);
  }
}

export type { PendingWrite, WriteResult };
