import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CORPORA, resetPostgres, round } from './common';

/**
 * Peak memory of the gateway process while it takes in one large message (issue: a 100 MB claim
 * body exhausted memory on the embedded store). The gateway runs as a child process; its RSS
 * (/proc/<pid>/status VmRSS) is sampled every 20 ms from just before the upload until the answer,
 * each message in a fresh process after a warm-up.
 * Goal: RSS growth ≤ 3× the message size on both stores. Baseline in the same run: the same
 * measurement for a 1 MB message. Sizes: MB=100 by default (`MB=25 npm run bench:intake-memory`).
 */
const MB = Number(process.env.MB ?? 100);

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const rss = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;

/** A claim envelope whose one HOSO carries `bytes` of base64 (a scanned attachment): over the per-HOSO limit, so quarantined. */
function claimBody(bytes: number): Buffer {
  const head = '<?xml version="1.0" encoding="utf-8"?><GIAMDINHHS><THONGTINDONVI><MACSKCB>79999</MACSKCB></THONGTINDONVI><THONGTINHOSO><NGAYLAP>20240615</NGAYLAP><SOLUONGHOSO>1</SOLUONGHOSO><DANHSACHHOSO><HOSO><FILEHOSO><LOAIHOSO>XML1</LOAIHOSO><NOIDUNGFILE>';
  const tail = '</NOIDUNGFILE></FILEHOSO></HOSO></DANHSACHHOSO></THONGTINHOSO></GIAMDINHHS>';
  const fill = Math.max(0, bytes - head.length - tail.length);
  return Buffer.concat([Buffer.from(head), Buffer.alloc(fill, 'QUJD'), Buffer.from(tail)]);
}

/** CT_small.dcm with its Pixel Data replaced by `bytes` of zeros (a large image): the header is read, the pixels never. */
function dicomBody(bytes: number): Buffer {
  const ct = readFileSync(join(CORPORA, 'dicom', 'part10', 'pydicom', 'test_files', 'CT_small.dcm'));
  const at = ct.indexOf(Buffer.from([0xe0, 0x7f, 0x10, 0x00, 0x4f, 0x57, 0, 0]));
  const len = Buffer.alloc(4);
  const pixels = bytes - at - 12;
  len.writeUInt32LE(pixels);
  return Buffer.concat([ct.subarray(0, at + 8), len, Buffer.alloc(pixels)]);
}

interface Sample { route: string; mb: number; status: number; seconds: number; rssBeforeMb: number; peakGrowthMb: number; ratio: number }

async function measure(url: string, pid: number, route: string, contentType: string, body: Buffer): Promise<Sample> {
  global.gc?.();
  const before = rss(pid);
  let peak = before;
  const timer = setInterval(() => (peak = Math.max(peak, rss(pid))), 20);
  const t0 = process.hrtime.bigint();
  const r = await fetch(`${url}${route}`, { method: 'POST', headers: { 'content-type': contentType }, body });
  await r.arrayBuffer();
  clearInterval(timer);
  peak = Math.max(peak, rss(pid));
  const mb = body.length / 2 ** 20;
  const growth = (peak - before) / 2 ** 20;
  return { route, mb: round(mb, 1), status: r.status, seconds: round(Number(process.hrtime.bigint() - t0) / 1e9, 2), rssBeforeMb: round(before / 2 ** 20), peakGrowthMb: round(growth), ratio: round(growth / mb, 2) };
}

interface Case { route: string; contentType: string; body: () => Buffer }

/** One message into a fresh gateway process, after a warm-up, so what the message costs is not hidden by memory an earlier one left. */
async function run(store: 'embedded' | 'postgres', c: Case): Promise<Sample> {
  if (store === 'postgres') await resetPostgres(process.env.DATABASE_URL!);
  const dir = mkdtempSync(join(tmpdir(), 'fhir-gateway-memory-'));
  const port = await freePort();
  const child = spawn(process.execPath, [join(__dirname, '..', '..', 'src', 'index.js')], {
    env: { ...process.env, PORT: String(port), MLLP_PORT: 'off', LOG_LEVEL: 'warn', DATA_DIR: dir, INGEST_BODY_LIMIT: `${MB + 10}mb`, REDIS_URL: '', ...(store === 'embedded' ? { DATABASE_URL: '' } : {}) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    for (let i = 0; i < 600 && !(await fetch(`${url}/readyz`).then((r) => r.ok, () => false)); i++) await new Promise((r) => setTimeout(r, 100));
    // warm-up: the first requests of each route load code and definitions
    await measure(url, child.pid!, '/ingest/vn-claim', 'application/xml', claimBody(64 * 1024));
    await measure(url, child.pid!, '/ingest/dicom', 'application/dicom', dicomBody(256 * 1024));
    await new Promise((r) => setTimeout(r, 1000));
    return await measure(url, child.pid!, c.route, c.contentType, c.body());
  } finally {
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
    rmSync(dir, { recursive: true, force: true });
  }
}

const CASES: Case[] = [
  { route: '/ingest/vn-claim', contentType: 'application/xml', body: () => claimBody(2 ** 20) },
  { route: '/ingest/vn-claim', contentType: 'application/xml', body: () => claimBody(MB * 2 ** 20) },
  { route: '/ingest/dicom', contentType: 'application/dicom', body: () => dicomBody(MB * 2 ** 20) },
];

async function main(): Promise<void> {
  const stores: ('embedded' | 'postgres')[] = process.env.DATABASE_URL ? ['embedded', 'postgres'] : ['embedded'];
  const results: Record<string, Sample[]> = {};
  for (const store of stores) {
    results[store] = [];
    for (const c of CASES) results[store]!.push(await run(store, c));
    for (const s of results[store]!) {
      console.log(`${store.padEnd(9)} ${s.route.padEnd(17)} ${String(s.mb).padStart(6)} MB → ${s.status} in ${s.seconds}s; RSS before ${s.rssBeforeMb} MB, peak growth ${s.peakGrowthMb} MB = ${s.ratio}× the message (goal ≤ 3×)`);
    }
  }
  console.log(JSON.stringify({ bench: 'intake-memory', mb: MB, results }));
}

main().catch((e: Error) => {
  console.error(e);
  process.exit(1);
});
