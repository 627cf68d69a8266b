/**
 * `npm run bench:vn-claim`: HOSO per second for Vietnamese claim files.
 * Builds a GIAMDINHHS file of N episodes (default 5,000; BENCH_HOSO overrides) in memory from the
 * synthetic corpus tables, then measures in one run:
 *   baseline  parse only (envelope scan, base64, UTF-8, inner XML → records)
 *   pipeline  parse → field checks → map to FHIR
 *   end to end  the file POSTed to /ingest/vn-claim: kept, converted, validated, stored
 * and the memory the parse needs beyond the file itself. The last line's hoso_per_s is end to end.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { convertClaim } from '../../src/ingest/vn-claim';
import { parseClaimFile } from '../../src/ingest/vn-claim/parse';
import { defaultCorporaDir, repoRoot } from '../gen-profiles';
import { benchGateway } from './common';

const N = Number(process.env.BENCH_HOSO ?? 5000);

function buildFile(n: number): Buffer {
  const dir = join(defaultCorporaDir(repoRoot()), 'synthetic');
  const tables = [1, 2, 3, 4, 5].map((i) => readFileSync(join(dir, `inner-XML${i}.xml`), 'utf8'));
  const parts: Buffer[] = [Buffer.from('<?xml version="1.0" encoding="utf-8"?>\n<GIAMDINHHS><THONGTINDONVI><MACSKCB>79999</MACSKCB></THONGTINDONVI>' +
    `<THONGTINHOSO><NGAYLAP>20240615</NGAYLAP><SOLUONGHOSO>${n}</SOLUONGHOSO><DANHSACHHOSO>\n`)];
  for (let h = 0; h < n; h++) {
    // Distinct episodes and patients, so ids and dedupe behave as with real exports.
    const maLK = `SYN79999.20240615.${String(h).padStart(6, '0')}`;
    const files = tables.map((xml, i) => {
      let x = xml.replace(/<MA_LK>[^<]*<\/MA_LK>/g, `<MA_LK>${maLK}</MA_LK>`);
      if (i === 0) x = x.replace(/<MA_BN>[^<]*<\/MA_BN>/, `<MA_BN>BN${String(h % 2000).padStart(6, '0')}</MA_BN>`);
      return `<FILEHOSO><LOAIHOSO>XML${i + 1}</LOAIHOSO><NOIDUNGFILE>${Buffer.from(x, 'utf8').toString('base64')}</NOIDUNGFILE></FILEHOSO>`;
    });
    parts.push(Buffer.from(`<HOSO>${files.join('')}</HOSO>\n`));
  }
  parts.push(Buffer.from('</DANHSACHHOSO></THONGTINHOSO><CHUKYDONVI/></GIAMDINHHS>\n'));
  return Buffer.concat(parts);
}


async function main(): Promise<void> {
  const file = buildFile(N);
  const mb = (b: number) => (b / 1024 / 1024).toFixed(1);
  process.stdout.write(`vn-claim bench: ${N} HOSO, file ${mb(file.length)} MB, node ${process.version}\n`);

  // Warm-up (JIT, profiles/ and definitions loaded once) on a small slice of the work.
  for await (const _ of convertClaim(buildFile(20))) void _;

  global.gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  let peakHeap = 0;
  let t = process.hrtime.bigint();
  let parsed = 0;
  for await (const r of parseClaimFile(file)) {
    if (r.records) parsed++;
    if (parsed % 250 === 0) peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed - heap0);
  }
  const parseSeconds = Number(process.hrtime.bigint() - t) / 1e9;
  const baseline = parsed / parseSeconds;
  process.stdout.write(`parse only:        ${parsed} HOSO in ${parseSeconds.toFixed(2)} s = ${baseline.toFixed(0)} HOSO/s; heap above start ≤ ${mb(peakHeap)} MB (sampled) for a ${mb(file.length)} MB file\n`);

  // The same file as a stream of 64 KB chunks (as from an HTTP upload): memory = one HOSO + a chunk.
  async function* chunks(): AsyncGenerator<Buffer> {
    for (let i = 0; i < file.length; i += 65536) yield file.subarray(i, i + 65536);
  }
  global.gc?.();
  const base = process.memoryUsage();
  let peakStream = 0;
  let streamed = 0;
  for await (const r of parseClaimFile(chunks())) {
    if (r.records) streamed++;
    if (streamed % 250 === 0) {
      const m = process.memoryUsage();
      peakStream = Math.max(peakStream, m.heapUsed - base.heapUsed + m.arrayBuffers - base.arrayBuffers);
    }
  }
  process.stdout.write(`parse, streamed:   ${streamed} HOSO; heap + buffers above start ≤ ${mb(peakStream)} MB (sampled, garbage included)\n`);

  const run = async () => {
    const start = process.hrtime.bigint();
    let converted = 0;
    let rejected = 0;
    let resources = 0;
    for await (const r of convertClaim(file)) {
      if (r.bundle) { converted++; resources += r.bundle.entry?.length ?? 0; } else rejected++;
    }
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const perSecond = (converted + rejected) / seconds;
    process.stdout.write(`parse+check+map: ${converted} bundles (${resources} resources), ${rejected} rejected, in ${seconds.toFixed(2)} s = ${perSecond.toFixed(0)} HOSO/s\n`);
    return perSecond;
  };
  await run();

  // End to end: the file POSTed to a gateway, which keeps it, converts, validates and stores each HOSO.
  const { gw, stop } = await benchGateway('embedded', { ingestBodyLimit: file.length + 1024 * 1024 });
  let rate: number;
  try {
    await fetch(`${gw.url}/ingest/vn-claim`, { method: 'POST', headers: { 'content-type': 'application/xml' }, body: buildFile(20) }); // warm-up
    const start = process.hrtime.bigint();
    const res = await fetch(`${gw.url}/ingest/vn-claim`, { method: 'POST', headers: { 'content-type': 'application/xml' }, body: file });
    const answer = (await res.json()) as { entry?: { response: { status: string } }[] };
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const stored = (answer.entry ?? []).filter((e) => /^20[01]/.test(e.response.status)).length;
    rate = N / seconds;
    process.stdout.write(`end to end (HTTP → keep → parse → check → map → validate → store): ${N} HOSO (${stored} resources written) in ${seconds.toFixed(1)} s = ${rate.toFixed(0)} HOSO/s, status ${res.headers.get('x-ingest-status')}\n`);
  } finally {
    await stop();
  }
  process.stdout.write(`${JSON.stringify({ bench: 'vn-claim', hoso_per_s: Math.round(rate), baseline_per_s: Math.round(baseline), ratio: Number((rate / baseline).toFixed(3)) })}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
