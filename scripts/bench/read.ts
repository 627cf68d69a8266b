import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import express from 'express';
import { benchGateway, CORPORA, round, syntheaFiles } from './common';

/**
 * npm run bench:read — autocannon (in its own process), 50 connections, against
 *   GET /fhir/Patient/{id}          (served from the cache, on the fast path; and through Express)
 *   GET /fhir/Patient?identifier=…  (a token search, from the database)
 * Baseline in the same run: a bare Express handler returning the same bytes as the read; and,
 * for reference, a bare node:http handler (what no framework at all costs on this machine).
 */
const run = promisify(execFile);
const DURATION = Number(process.env.BENCH_SECONDS ?? 10);

interface Cannon {
  requests: { average: number; mean: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
}

async function cannon(url: string): Promise<Cannon> {
  const bin = require.resolve('autocannon/autocannon.js');
  const { stdout } = await run(process.execPath, [bin, '-c', '50', '-d', String(DURATION), '-j', url], { maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(stdout) as Cannon;
}

async function main() {
  const { gw, stop } = await benchGateway('embedded');
  try {
    // Some real data: the shared batches and a few patients.
    for (const f of syntheaFiles().slice(0, 7)) {
      const body = readFileSync(join(CORPORA, 'synthea', 'bundles', f.file), 'utf8');
      const r = await fetch(`${gw.url}/fhir`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body });
      if (r.status !== 200) throw new Error(`load of ${f.file} failed: ${r.status} ${(await r.text()).slice(0, 300)}`);
    }
    const search = (await (await fetch(`${gw.url}/fhir/Patient?_count=1`)).json()) as { entry: { resource: { id: string; identifier: { system: string; value: string }[] } }[] };
    const patient = search.entry[0]!.resource;
    const readUrl = `${gw.url}/fhir/Patient/${patient.id}`;
    const ident = patient.identifier[0]!;
    const searchUrl = `${gw.url}/fhir/Patient?identifier=${encodeURIComponent(`${ident.system}|${ident.value}`)}`;
    const bytes = Buffer.from(await (await fetch(readUrl)).arrayBuffer());

    // The baseline: the same bytes from a bare Express handler.
    const bare = express();
    bare.get('/fhir/Patient/:id', (_req, res) => void res.type('application/fhir+json; charset=utf-8').send(bytes));
    const server = createServer(bare);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/fhir/Patient/${patient.id}`;

    const plain = createServer((_req, res) => void res.writeHead(200, { 'content-type': 'application/fhir+json; charset=utf-8' }).end(bytes));
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', () => r()));
    const plainUrl = `http://127.0.0.1:${(plain.address() as AddressInfo).port}/fhir/Patient/${patient.id}`;

    await cannon(readUrl); // warm-up
    const baseline = await cannon(baseUrl);
    const nodeHttp = await cannon(plainUrl);
    const read = await cannon(readUrl);
    // The same read through Express: any `_` parameter is left to it (FAST_PATH=off sends every request there).
    const viaExpress = await cannon(`${readUrl}?_pretty=false`);
    const tok = await cannon(searchUrl);
    server.close();
    plain.close();
    if (read.non2xx || tok.non2xx || viaExpress.non2xx || read.errors || tok.errors) throw new Error('non-2xx answers or errors during the run');
    console.log(`baseline (bare Express, same ${bytes.length} bytes): ${round(baseline.requests.average)} req/s, p99 ${baseline.latency.p99} ms`);
    console.log(`reference (bare node:http, same bytes): ${round(nodeHttp.requests.average)} req/s, p99 ${nodeHttp.latency.p99} ms`);
    console.log(`read Patient/{id} (cached): ${round(read.requests.average)} req/s, p50 ${read.latency.p50} ms, p99 ${read.latency.p99} ms`);
    console.log(`the same read through Express (?_pretty=false): ${round(viaExpress.requests.average)} req/s, p50 ${viaExpress.latency.p50} ms, p99 ${viaExpress.latency.p99} ms`);
    console.log(`token search Patient?identifier: ${round(tok.requests.average)} req/s, p50 ${tok.latency.p50} ms, p99 ${tok.latency.p99} ms`);
    console.log(
      JSON.stringify({
        bench: 'read',
        rps: round(read.requests.average),
        baseline_rps: round(baseline.requests.average),
        ratio: round(read.requests.average / baseline.requests.average, 3),
        p99_ms: read.latency.p99,
        express_path_rps: round(viaExpress.requests.average),
        express_path_p99_ms: viaExpress.latency.p99,
        search_rps: round(tok.requests.average),
        search_p99_ms: tok.latency.p99,
        node_http_rps: round(nodeHttp.requests.average),
        node_http_p99_ms: nodeHttp.latency.p99,
      }),
    );
  } finally {
    await stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
