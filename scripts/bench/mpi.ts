import { benchGateway, percentile, round, scratchDatabase } from './common';
import { population, type Record } from './mpi-population';

/**
 * npm run bench:mpi — a noisy synthetic population (BENCH_PEOPLE, default 5,000 people with 2–4
 * records each) written through the REST API with the MPI on, then precision and recall of the
 * automatic links (Person links at level3/4) against the truth, overall and for record pairs
 * where a record has no CCCD; and the Patient write time with the MPI on against a same-run
 * baseline with it off. On DATABASE_URL's server (a database of its own) when set.
 */
const PEOPLE = Number(process.env.BENCH_PEOPLE ?? 5000);
const WORKERS = 4;
const BASELINE = 1000;

async function benchDatabase(): Promise<{ url?: string; drop(): Promise<void> }> {
  const admin = process.env.DATABASE_URL;
  return admin ? scratchDatabase(admin, 'bench_mpi') : { drop: async () => {} };
}

async function load(fhir: string, records: Record[]): Promise<{ ids: string[]; ms: number[] }> {
  const ids: string[] = new Array(records.length);
  const ms: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: WORKERS }, async () => {
      while (next < records.length) {
        const i = next++;
        const t = performance.now();
        const r = await fetch(`${fhir}/Patient`, { method: 'POST', headers: { 'content-type': 'application/fhir+json', 'x-facility-code': records[i]!.facility }, body: JSON.stringify(records[i]!.patient) });
        ms.push(performance.now() - t);
        const body = (await r.json()) as { id: string };
        if (r.status !== 201) throw new Error(`record ${i}: ${r.status} ${JSON.stringify(body).slice(0, 300)}`);
        ids[i] = body.id;
        if (i % 2000 === 0) process.stderr.write(`  ${i}/${records.length}\n`);
      }
    }),
  );
  return { ids, ms };
}

async function persons(fhir: string): Promise<{ link?: { target: { reference: string }; assurance?: string }[] }[]> {
  const out: { link?: { target: { reference: string }; assurance?: string }[] }[] = [];
  for (let offset = 0; ; offset += 1000) {
    const b = (await (await fetch(`${fhir}/Person?_count=1000&_offset=${offset}&_total=none`)).json()) as { entry?: { resource: never }[]; link: { relation: string }[] };
    out.push(...(b.entry ?? []).map((e) => e.resource));
    if (!b.link.some((l) => l.relation === 'next')) return out;
  }
}

async function main() {
  const { records } = population(PEOPLE);
  const db = await benchDatabase();
  const store = db.url ? 'postgres' : 'embedded';
  const { gw, stop } = await benchGateway(store, db.url ? { databaseUrl: db.url } : {});
  const fhir = `${gw.url}/fhir`;
  try {
    console.log(`bench:mpi — ${PEOPLE} people, ${records.length} records, ${store} store, ${WORKERS} concurrent writers`);
    const t0 = performance.now();
    const { ids, ms } = await load(fhir, records);
    const seconds = (performance.now() - t0) / 1000;

    const index = new Map(ids.map((id, i) => [id, i]));
    const predicted = new Set<string>();
    for (const p of await persons(fhir)) {
      const members = (p.link ?? []).filter((l) => l.assurance === 'level3' || l.assurance === 'level4').map((l) => index.get(l.target.reference.slice(8))).filter((x): x is number => x !== undefined);
      for (const a of members) for (const b of members) if (a < b) predicted.add(`${a}:${b}`);
    }
    const byPerson = new Map<number, number[]>();
    records.forEach((r, i) => byPerson.set(r.person, [...(byPerson.get(r.person) ?? []), i]));
    let truePairs = 0;
    let truePairsNoCccd = 0;
    let found = 0;
    let foundNoCccd = 0;
    for (const members of byPerson.values()) {
      for (const a of members) for (const b of members) {
        if (a >= b) continue;
        const noCccd = !records[a]!.hasCccd || !records[b]!.hasCccd;
        truePairs++;
        if (noCccd) truePairsNoCccd++;
        if (predicted.has(`${a}:${b}`)) {
          found++;
          if (noCccd) foundNoCccd++;
        }
      }
    }
    const falsePairs = [...predicted].filter((k) => { const [a, b] = k.split(':').map(Number); return records[a!]!.person !== records[b!]!.person; }).length;
    const precision = predicted.size ? (predicted.size - falsePairs) / predicted.size : 1;

    // Same-run baseline: the same kind of writes on a gateway with the MPI off.
    const base = await benchGateway('embedded', { mpi: false });
    const baseline = await load(`${base.gw.url}/fhir`, population(Math.ceil(BASELINE / 3), 99).records.slice(0, BASELINE));
    await base.stop();

    console.table({
      'pairs (truth)': { value: truePairs },
      'pairs linked automatically': { value: predicted.size },
      'false links': { value: falsePairs },
      precision: { value: round(precision, 4) },
      recall: { value: round(found / truePairs, 4) },
      'recall, pairs with a record without CCCD': { value: round(foundNoCccd / truePairsNoCccd, 4) },
      'recall, pairs both with CCCD': { value: round((found - foundNoCccd) / (truePairs - truePairsNoCccd), 4) },
      'Patient write with MPI p50 ms': { value: round(percentile(ms, 50), 1) },
      'Patient write with MPI p99 ms': { value: round(percentile(ms, 99), 1) },
      [`Patient write, MPI off (embedded, ${BASELINE}) p50 ms`]: { value: round(percentile(baseline.ms, 50), 1) },
      [`Patient write, MPI off (embedded, ${BASELINE}) p99 ms`]: { value: round(percentile(baseline.ms, 99), 1) },
      'load time s': { value: round(seconds) },
    });
  } finally {
    await stop();
    await db.drop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
