import { readFileSync } from 'node:fs';
import fhirpath from 'fhirpath';
import r4model from 'fhirpath/fhir-context/r4';
import { join } from 'node:path';
import { searchParamsFor, splitUnion, withoutResolveIs } from '../../src/fhir/search-parameters';
import { parseHl7v2 } from '../../src/ingest/hl7v2/parse';
import { mapHl7v2 } from '../../src/ingest/hl7v2/map';
import type { Queryable } from '../../src/store/db';
import type { AnyResource } from '../../src/store/types';
import { indexResource, INDEX_TABLES } from '../../src/store/index-rows';
import { writeAll } from '../../src/store/writer';
import { validateResource, warmUpValidator } from '../../src/validation';
import { benchGateway, CORPORA, median, resetPostgres, round, syntheaFiles } from './common';
import { generateOru } from './mllp';

/**
 * `npm run bench:ceiling`: what the write design allows before any of the gateway's own work,
 * for the ingest and MLLP goals.
 * 1. SQL alone, same database, same Synthea resources, one statement per bundle: the writer's
 *    exact statements (resources, history and search-index rows) and a table shaped like
 *    `resources` without index rows, each against bench:ingest's bare-table INSERT.
 * 2. The Node.js side of one benchmark ORU^R01 with no database: parse, map, validate,
 *    index rows, serialise the write.
 * 3. The SearchParameter expressions of Synthea resources evaluated as the index does (plain
 *    paths walked directly, the rest by fhirpath) against fhirpath for all of them.
 */
type Json = Record<string, unknown>;

const KEYED_TABLE = `CREATE TABLE IF NOT EXISTS bench_keyed (resource_type text NOT NULL, id text NOT NULL, version_id integer NOT NULL,
  last_updated timestamptz NOT NULL, deleted boolean NOT NULL DEFAULT false, content jsonb, PRIMARY KEY (resource_type, id));
  CREATE INDEX IF NOT EXISTS bench_keyed_type_updated ON bench_keyed (resource_type, last_updated);
  CREATE INDEX IF NOT EXISTS bench_keyed_updated ON bench_keyed (last_updated)`;
const KEYED_INSERT = `INSERT INTO bench_keyed (resource_type, id, version_id, last_updated, deleted, content)
  SELECT e->>'resourceType', e->>'id', 1, now(), false, e FROM jsonb_array_elements($1::jsonb) AS e`;
const WRITER_TABLES = ['resources', 'resource_history', ...INDEX_TABLES.map((t) => `sp_${t}`)];

async function sqlCeiling(store: 'embedded' | 'postgres') {
  if (store === 'postgres') await resetPostgres(process.env.DATABASE_URL!);
  const bundles = syntheaFiles().map((f) => (JSON.parse(readFileSync(join(CORPORA, 'synthea', 'bundles', f.file), 'utf8')) as { entry: { resource: AnyResource }[] }).entry.map((e) => e.resource));
  const total = bundles.reduce((n, b) => n + b.length, 0);
  // The writer's statements as it would send them for these creates, captured untimed.
  const statements: [string, unknown[]][] = [];
  const capture: Queryable = {
    query: async <T>(sql: string, params: unknown[] = []) => {
      statements.push([sql, params]);
      return [{ n: (JSON.parse(params[0] as string) as { upserts: unknown[] }).upserts.length }] as T[];
    },
  };
  for (const b of bundles) await writeAll(capture, b.map((r) => ({ method: 'create' as const, resourceType: r.resourceType, id: r.id!, resource: r })));
  const indexRows = statements.reduce((n, [, p]) => n + INDEX_TABLES.reduce((m, t) => m + ((JSON.parse(p[0] as string) as Record<string, unknown[]>)[t]?.length ?? 0), 0), 0);

  const { gw, stop } = await benchGateway(store);
  try {
    const db = gw.db;
    await db.query('CREATE TABLE IF NOT EXISTS bench_plain (n serial, content jsonb)');
    for (const s of KEYED_TABLE.split(';')) await db.query(s);
    const docs = bundles.map((b) => JSON.stringify(b));
    const timed = async (truncate: string[], run: () => Promise<void>) => {
      await db.query(`TRUNCATE ${truncate.join(', ')}`);
      const t = performance.now();
      await run();
      return (performance.now() - t) / 1000;
    };
    const rounds = { plain: [] as number[], keyed: [] as number[], writer: [] as number[] };
    for (let k = 0; k < 3; k++) {
      rounds.plain.push(await timed(['bench_plain'], async () => { for (const d of docs) await db.query('INSERT INTO bench_plain (content) SELECT e FROM jsonb_array_elements($1::jsonb) AS e', [d]); }));
      rounds.keyed.push(await timed(['bench_keyed'], async () => { for (const d of docs) await db.query(KEYED_INSERT, [d]); }));
      rounds.writer.push(await timed(WRITER_TABLES, async () => { for (const [sql, p] of statements) await db.transaction((tx) => tx.query(sql, p)); }));
    }
    const perS = (xs: number[]) => total / median(xs);
    const baseline = perS(rounds.plain);
    return {
      store,
      resources: total,
      index_rows_per_resource: round(indexRows / total, 1),
      baseline_per_s: round(baseline),
      keyed_per_s: round(perS(rounds.keyed)),
      keyed_ratio: round(perS(rounds.keyed) / baseline, 3),
      writer_sql_per_s: round(perS(rounds.writer)),
      writer_sql_ratio: round(perS(rounds.writer) / baseline, 3),
    };
  } finally {
    await stop();
  }
}

function oruNodeSide(count = 3000) {
  warmUpValidator(['Patient', 'Encounter', 'Observation', 'DiagnosticReport', 'ServiceRequest', 'Location']);
  const cfg = { facility: '79001', identifierAuthorities: { 'BV_BENCH^MR': 'MA_BN' } };
  const steps = { parse: 0, map: 0, validate: 0, index: 0, serialise: 0 };
  const run = (messages: Buffer[], tally: boolean) => {
    for (const raw of messages) {
      let t = performance.now();
      const lap = (k: keyof typeof steps) => {
        const now = performance.now();
        if (tally) steps[k] += now - t;
        t = now;
      };
      const m = parseHl7v2(raw).messages[0]!;
      lap('parse');
      const resources = (mapHl7v2(m, cfg).bundle?.entry ?? []).map((e) => e.resource as unknown as Json);
      lap('map');
      for (const r of resources) validateResource(r);
      lap('validate');
      const rows = resources.map((r) => indexResource(r));
      lap('index');
      JSON.stringify({ upserts: resources, rows });
      lap('serialise');
    }
  };
  run(Array.from({ length: 200 }, (_, i) => generateOru(count + i)), false);
  run(Array.from({ length: count }, (_, i) => generateOru(i)), true);
  const us = Object.fromEntries(Object.entries(steps).map(([k, ms]) => [k, round((ms * 1000) / count)]));
  const totalUs = Object.values(us).reduce((a, b) => a + b, 0);
  return { ...us, total_us: totalUs, one_core_ceiling_per_s: round(1e6 / totalUs) };
}

function expressionCost(bundleCount = 10) {
  const resources = syntheaFiles()
    .slice(0, bundleCount)
    .flatMap((f) => (JSON.parse(readFileSync(join(CORPORA, 'synthea', 'bundles', f.file), 'utf8')) as { entry: { resource: Json }[] }).entry.map((e) => e.resource));
  // the same expressions, all through fhirpath, against the index's own evaluators
  const general = new Map<string, ((r: unknown) => unknown)[]>();
  const fhirpathFor = (type: string) => {
    let fns = general.get(type);
    if (!fns) {
      const parts = [...searchParamsFor(type).values()].flatMap((sp) => splitUnion(sp.expression).map(withoutResolveIs));
      general.set(type, (fns = parts.map((x) => fhirpath.compile(x, r4model) as (r: unknown) => unknown)));
    }
    return fns;
  };
  const evaluators = (type: string, which: 'fhirpath' | 'indexed') => (which === 'fhirpath' ? fhirpathFor(type) : [...searchParamsFor(type).values()].map((sp) => sp.evaluate));
  const time = (which: 'fhirpath' | 'indexed') => {
    const t = performance.now();
    for (const r of resources) {
      for (const f of evaluators(r.resourceType as string, which)) {
        try {
          f(r);
        } catch {
          // as in indexing: an expression that does not evaluate on this instance adds nothing
        }
      }
    }
    return ((performance.now() - t) * 1000) / resources.length;
  };
  time('fhirpath'), time('indexed'); // compile and warm both
  const rounds = { fhirpath: [] as number[], indexed: [] as number[] };
  for (let k = 0; k < 3; k++) rounds.fhirpath.push(time('fhirpath')), rounds.indexed.push(time('indexed'));
  return { resources: resources.length, fhirpath_us: round(median(rounds.fhirpath), 1), indexed_us: round(median(rounds.indexed), 1) };
}

async function main() {
  const sql = [await sqlCeiling('embedded')];
  if (process.env.DATABASE_URL) sql.push(await sqlCeiling('postgres'));
  for (const s of sql) {
    console.log(`${s.store}: ${s.resources} resources, ${s.index_rows_per_resource} index rows each; bare INSERT ${s.baseline_per_s}/s; resources-shaped table ${s.keyed_per_s}/s (${s.keyed_ratio}); the writer's statements, SQL only ${s.writer_sql_per_s}/s (${s.writer_sql_ratio})`);
  }
  const oru = oruNodeSide();
  console.log(`ORU^R01, Node.js side without a database, µs per message: ${JSON.stringify(oru)}`);
  const expr = expressionCost();
  console.log(`SearchParameter expressions, ${expr.resources} Synthea resources, µs per resource: fhirpath for all ${expr.fhirpath_us}; as indexed (plain paths walked) ${expr.indexed_us}`);
  const [e, p] = sql;
  const figures = (s: typeof e) => ({ baseline_per_s: s!.baseline_per_s, keyed_ratio: s!.keyed_ratio, writer_sql_per_s: s!.writer_sql_per_s, writer_sql_ratio: s!.writer_sql_ratio });
  console.log(JSON.stringify({ bench: 'ceiling', ...figures(e), ...(p ? { postgres: figures(p) } : {}), oru_node_us: oru.total_us, oru_node_ceiling_per_s: oru.one_core_ceiling_per_s, expressions_us: { fhirpath: expr.fhirpath_us, indexed: expr.indexed_us } }));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
