import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchGateway, CORPORA, median, resetPostgres, round, syntheaFiles } from './common';

/**
 * npm run bench:ingest — the Synthea bundles POSTed as transactions (validation on) against a
 * plain multi-row INSERT of the same resource JSON into a bare table of the same database.
 * Embedded store always; PostgreSQL too when DATABASE_URL is set.
 */
async function run(store: 'embedded' | 'postgres') {
  if (store === 'postgres') await resetPostgres(process.env.DATABASE_URL!);
  const files = syntheaFiles();
  const bodies = files.map((f) => readFileSync(join(CORPORA, 'synthea', 'bundles', f.file), 'utf8'));
  const total = files.reduce((n, f) => n + f.entries, 0);
  const { gw, stop } = await benchGateway(store);
  try {
    // Gateway: every bundle through HTTP, transaction by transaction, as a HIS would send them.
    const t0 = performance.now();
    for (const [i, body] of bodies.entries()) {
      const r = await fetch(`${gw.url}/fhir`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body });
      if (r.status !== 200) throw new Error(`${files[i]!.file}: HTTP ${r.status} ${(await r.text()).slice(0, 300)}`);
      await r.arrayBuffer().catch(() => undefined);
    }
    const gatewaySeconds = (performance.now() - t0) / 1000;

    // Baseline: the same resources' JSON, one multi-row INSERT per bundle, into a bare table.
    await gw.db.query('CREATE TABLE IF NOT EXISTS bench_plain (n serial, content jsonb)');
    const docs = bodies.map((b) => JSON.stringify((JSON.parse(b) as { entry: { resource: unknown }[] }).entry.map((e) => e.resource)));
    const rounds: number[] = [];
    for (let k = 0; k < 3; k++) {
      await gw.db.query('TRUNCATE bench_plain');
      const t1 = performance.now();
      for (const d of docs) await gw.db.query('INSERT INTO bench_plain (content) SELECT e FROM jsonb_array_elements($1::jsonb) AS e', [d]);
      rounds.push((performance.now() - t1) / 1000);
    }
    const resourcesPerS = total / gatewaySeconds;
    const baselinePerS = total / median(rounds);
    return { store, resources: total, seconds: round(gatewaySeconds, 1), resources_per_s: round(resourcesPerS), baseline_per_s: round(baselinePerS), ratio: round(resourcesPerS / baselinePerS, 3) };
  } finally {
    await stop();
  }
}

async function main() {
  const results = [await run('embedded')];
  if (process.env.DATABASE_URL) results.push(await run('postgres'));
  for (const r of results) console.log(`${r.store}: ${r.resources} resources in ${r.seconds} s → ${r.resources_per_s}/s; baseline ${r.baseline_per_s}/s; ratio ${r.ratio}`);
  const [e, p] = results;
  console.log(JSON.stringify({ bench: 'ingest', resources_per_s: e!.resources_per_s, baseline_per_s: e!.baseline_per_s, ratio: e!.ratio, ...(p ? { postgres: { resources_per_s: p.resources_per_s, baseline_per_s: p.baseline_per_s, ratio: p.ratio } } : {}) }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
