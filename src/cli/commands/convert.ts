import { createReadStream, existsSync } from 'node:fs';
import type { Bundle } from 'fhir/r4';
import { toOperationOutcome } from '../../fhir/outcome';
import type { Issue } from '../../fhir/outcome';
import { convertDicom } from '../../ingest/dicom';
import { convertHl7v2Batch } from '../../ingest/hl7v2';
import { convertClaim } from '../../ingest/vn-claim';

export const summary = 'convert <file> --format <vn-claim|hl7v2|dicom> [--facility MA_CSKCB] [--pretty]: print the FHIR Bundle(s) a source file becomes, without storing';

/** What a source format turns a file into: one result per source record (e.g. per HOSO). */
interface Converted { sourceKey: string; bundle?: Bundle; issues: Issue[] }
type Converter = (input: AsyncIterable<Uint8Array>, opts: { facility?: string; file: string }) => AsyncIterable<Converted>;

/** Formats whose converter takes the whole file at once (streaming is vn-claim's own). */
async function readAll(input: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of input) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}

/** Source formats by `--format` name: adding a format is one entry here. */
const FORMATS: Record<string, Converter> = {
  'vn-claim': (input, { facility }) => convertClaim(input, facility ? { facility } : {}),
  hl7v2: async function* (input, { facility }) {
    for (const m of convertHl7v2Batch(await readAll(input), facility ? { facility } : {})) yield { sourceKey: m.messageControlId, bundle: m.bundle, issues: m.issues };
  },
  dicom: async function* (input, { facility, file }) {
    yield convertDicom(await readAll(input), file.endsWith('.json') ? 'application/dicom+json' : 'application/dicom', { facility: facility ?? '' });
  },
};

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

export async function run(args: string[]): Promise<number> {
  const format = option(args, '--format');
  const facility = option(args, '--facility');
  const pretty = args.includes('--pretty');
  const valued = new Set([format, facility].filter(Boolean));
  const file = args.find((a, i) => !a.startsWith('--') && !(valued.has(a) && args[i - 1]?.startsWith('--')));
  if (!file || !format || !FORMATS[format]) {
    process.stderr.write(`usage: fhir-gateway ${summary}\nformats: ${Object.keys(FORMATS).join(', ')}\n`);
    return 2;
  }
  if (!existsSync(file)) {
    process.stderr.write(`no such file: ${file}\n`);
    return 2;
  }
  const convert = FORMATS[format]!;
  let rejected = 0;
  // Bundles go to stdout (one JSON document per line unless --pretty); what went wrong to stderr, per record.
  for await (const r of convert(createReadStream(file), { file, ...(facility ? { facility } : {}) })) {
    if (r.bundle) process.stdout.write(`${JSON.stringify(r.bundle, null, pretty ? 2 : undefined)}\n`);
    else rejected++;
    if (r.issues.length) process.stderr.write(`${JSON.stringify({ sourceKey: r.sourceKey, outcome: toOperationOutcome(r.issues) }, null, pretty ? 2 : undefined)}\n`);
  }
  return rejected ? 1 : 0;
}
