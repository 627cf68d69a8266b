import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';

export const summary = 'ingest <file|dir> --url <gateway> [--facility MA_CSKCB]: send source files to a running gateway, with a progress bar';

/**
 * Which intake endpoint a file goes to, by its extension: claim XML, HL7 v2, DICOM, or a
 * FHIR Bundle (posted to the FHIR base). One entry per kind of file.
 */
const ROUTES: Record<string, { path: string; contentType: string }> = {
  '.xml': { path: '/ingest/vn-claim', contentType: 'application/xml' },
  '.hl7': { path: '/ingest/hl7v2', contentType: 'x-application/hl7-v2+er7' },
  '.er7': { path: '/ingest/hl7v2', contentType: 'x-application/hl7-v2+er7' },
  '.dcm': { path: '/ingest/dicom', contentType: 'application/dicom' },
  '.json': { path: '/fhir', contentType: 'application/fhir+json' },
};

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

function filesUnder(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((e) => filesUnder(join(path, e.name)));
}

/** The outcome of one file as the gateway reported it. */
function verdict(status: number, headers: Headers, body: string): 'ok' | 'failed' {
  if (status >= 400) return 'failed';
  const ingest = headers.get('x-ingest-status');
  if (ingest && ingest !== 'accepted' && ingest !== 'duplicate') return 'failed';
  if (/\rMSA\|A[ER]\|/.test(body) || /^MSA\|A[ER]\|/m.test(body)) return 'failed';
  return 'ok';
}

function bar(done: number, total: number, failed: number): string {
  const width = 30;
  const filled = Math.round((done / Math.max(total, 1)) * width);
  return `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} sent, ${failed} not accepted`;
}

export async function run(args: string[]): Promise<number> {
  const url = option(args, '--url');
  const facility = option(args, '--facility');
  const target = args.find((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'));
  if (!target || !url) {
    process.stderr.write(`usage: fhir-gateway ${summary}\n`);
    return 2;
  }
  let files: string[];
  try {
    files = filesUnder(target).filter((f) => ROUTES[extname(f).toLowerCase()]);
  } catch {
    process.stderr.write(`cannot read ${target}\n`);
    return 2;
  }
  if (files.length === 0) {
    process.stderr.write(`no files to send under ${target} (known kinds: ${Object.keys(ROUTES).join(' ')})\n`);
    return 2;
  }
  let failed = 0;
  const tty = process.stderr.isTTY;
  for (const [i, file] of files.entries()) {
    const route = ROUTES[extname(file).toLowerCase()]!;
    try {
      const res = await fetch(url.replace(/\/$/, '') + route.path, {
        method: 'POST',
        headers: { 'content-type': route.contentType, ...(facility ? { 'x-facility-code': facility } : {}) },
        body: readFileSync(file),
      });
      const body = await res.text();
      if (verdict(res.status, res.headers, body) === 'failed') {
        failed++;
        process.stderr.write(`${tty ? '\r\x1b[K' : ''}${file}: HTTP ${res.status}${res.headers.get('x-ingest-status') ? ` (${res.headers.get('x-ingest-status')})` : ''}\n`);
      }
    } catch (e) {
      failed++;
      process.stderr.write(`${tty ? '\r\x1b[K' : ''}${file}: ${(e as Error).message}\n`);
    }
    if (tty) process.stderr.write(bar(i + 1, files.length, failed));
  }
  process.stderr.write(`${tty ? '\n' : ''}${files.length} file(s) sent, ${files.length - failed} accepted, ${failed} not accepted\n`);
  return failed ? 1 : 0;
}
