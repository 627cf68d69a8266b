import { Agent, request } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { benchGateway, CORPORA, percentile, round, syntheaFiles } from './common';

/**
 * npm run bench:summary — the Synthea corpus loaded, then for each of its patients, one request
 * at a time: `$summary` uncached (a new Host header makes a new base URL, so a new cache key)
 * and cached (the same request again), `$everything` (the whole compartment in one page,
 * `_count=1000`) and a plain `Patient` read (served from the cache) in the same run. Every
 * request accepts gzip, as browsers and HTTP client libraries do; a compressed answer is
 * decompressed within the timed request, so the client's work counts too.
 */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

/** Response sizes per path kind (decoded, and on the wire), to tell the cost of moving a document from the cost of finding it. */
const sizes: Record<string, number[]> = {};
const wire: Record<string, number[]> = {};

function get(port: number, path: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const req = request({ port, host: '127.0.0.1', path, agent, headers: { host, accept: 'application/fhir+json', 'accept-encoding': 'gzip' } }, (res) => {
      const kind = path.replace(/\/Patient\/[^/?]+/, '/Patient/{id}');
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        const decoded = res.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body;
        (sizes[kind] ??= []).push(decoded.length);
        (wire[kind] ??= []).push(body.length);
        if (res.statusCode === 200) resolve(performance.now() - t);
        else reject(new Error(`${path}: ${res.statusCode}`));
      });
    });
    req.on('error', reject);
    req.end();
  });
}

async function main() {
  // Each uncached request comes under a Host of its own, trusted (ALLOWED_HOSTS) so that it
  // makes a base URL, and so a cache key, of its own.
  const hosts = Array.from({ length: syntheaFiles().length * ROUNDS }, (_, i) => `bench-${i}.local`);
  const { gw, stop } = await benchGateway('embedded', { allowedHosts: hosts, ...(process.env.REDIS_URL ? { redisUrl: process.env.REDIS_URL } : {}) });
  try {
    const patients: string[] = [];
    for (const f of syntheaFiles()) {
      const r = await fetch(`${gw.url}/fhir`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: readFileSync(join(CORPORA, 'synthea', 'bundles', f.file), 'utf8') });
      const body = (await r.json()) as { entry: { response: { location?: string } }[] };
      if (r.status !== 200) throw new Error(`load of ${f.file} failed: ${r.status}`);
      const p = body.entry.find((e) => e.response.location?.startsWith('Patient/'));
      if (p) patients.push(p.response.location!.split('/')[1]!);
    }
    const times: Record<string, number[]> = { 'summary uncached': [], 'summary cached': [], everything: [], 'Patient read (cached)': [] };
    let n = 0;
    for (let round = 0; round < ROUNDS; round++) {
      for (const id of patients) {
        const host = `bench-${n++}.local`;
        times['summary uncached']!.push(await get(gw.port, `/fhir/Patient/${id}/$summary`, host));
        times['summary cached']!.push(await get(gw.port, `/fhir/Patient/${id}/$summary`, host));
        times.everything!.push(await get(gw.port, `/fhir/Patient/${id}/$everything?_count=1000`, host));
        await get(gw.port, `/fhir/Patient/${id}`, host);
        times['Patient read (cached)']!.push(await get(gw.port, `/fhir/Patient/${id}`, host));
      }
    }
    const row = (xs: number[]) => ({ 'p50 ms': round(percentile(xs, 50), 1), 'p99 ms': round(percentile(xs, 99), 1), n: xs.length });
    console.log(`bench:summary — ${patients.length} Synthea patients, ${ROUNDS} rounds, embedded store, ${gw.cache.kind} cache`);
    console.table(Object.fromEntries(Object.entries(times).map(([k, v]) => [k, row(v)])));
    const p50 = (k: string) => percentile(times[k]!, 50);
    console.log(`response size p50 (bytes, decoded / on the wire): ${Object.entries(sizes).map(([k, v]) => `${k} ${Math.round(percentile(v, 50))} / ${Math.round(percentile(wire[k]!, 50))}`).join('; ')}`);
    console.log(`uncached $summary / $everything (p50): ${round(p50('summary uncached') / p50('everything'), 2)} (goal ≤ 1.5)`);
    console.log(`cached $summary / cached Patient read (p50): ${round(p50('summary cached') / p50('Patient read (cached)'), 2)} (goal ≤ 2)`);
  } finally {
    await stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
