import { createReadStream, existsSync, statSync } from 'node:fs';
import type { Bundle } from 'fhir/r4';
import { toOperationOutcome } from '../../fhir/outcome';
import type { Issue } from '../../fhir/outcome';
import { convertDicom } from '../../ingest/dicom';
import { convertHl7v2Batch, type Explanation } from '../../ingest/hl7v2';
import { sniff, type SourceKind } from '../../ingest/sniff';
import { convertClaim } from '../../ingest/vn-claim';
import type { CommandSpec, ParsedArgs } from '../args';
import { readHead } from '../head';


/** What a source format turns a file into: one result per source record (e.g. per HOSO). */
interface Converted { sourceKey: string; bundle?: Bundle; issues: Issue[]; explanation?: Explanation }
type Converter = (input: AsyncIterable<Uint8Array>, opts: { facility?: string; file: string; explain?: boolean }) => AsyncIterable<Converted>;

/** Formats whose converter takes the whole file at once (streaming is vn-claim's own). */
async function readAll(input: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of input) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}

/** Source formats by `--format` name: adding a format is one entry here. */
const FORMATS: Record<string, Converter> = {
  'vn-claim': (input, { facility }) => convertClaim(input, facility ? { facility } : {}),
  hl7v2: async function* (input, { facility, explain }) {
    for (const m of convertHl7v2Batch(await readAll(input), facility ? { facility } : {}, { explain })) {
      yield { sourceKey: m.messageControlId, bundle: m.bundle, issues: m.issues, ...(m.explanation ? { explanation: m.explanation } : {}) };
    }
  },
  dicom: async function* (input, { facility, file }) {
    yield convertDicom(await readAll(input), file.endsWith('.json') ? 'application/dicom+json' : 'application/dicom', { facility: facility ?? '' });
  },
};

/** The kinds of file (see sniff) each format reads. */
const READS: Record<string, SourceKind[]> = { 'vn-claim': ['vn-claim'], hl7v2: ['hl7v2'], dicom: ['dicom', 'dicom-json'] };
const FORMAT_OF: Partial<Record<SourceKind, string>> = { 'vn-claim': 'vn-claim', hl7v2: 'hl7v2', dicom: 'dicom', 'dicom-json': 'dicom' };

export const spec: CommandSpec = {
  summary: 'print the FHIR Bundle(s) a source file becomes, without storing; exit 1 if nothing (or not everything) converted',
  positional: '<file>',
  options: {
    format: { type: 'string', value: 'format', choices: Object.keys(FORMATS), help: 'the source format, by default the one the file looks like' },
    facility: { type: 'string', value: 'MA_CSKCB', help: 'facility code the resources are recorded under' },
    pretty: { type: 'boolean', help: 'indent the JSON' },
    explain: { type: 'boolean', help: 'HL7 v2: for each message, every non-empty field and the FHIR element it went to, or why it was dropped (to stderr)' },
  },
  notes: ['Bundles go to stdout, one JSON document per line (unless --pretty); what went wrong goes to stderr, per record.'],
};

export async function run({ positional: file, values }: ParsedArgs): Promise<number> {
  const facility = values.facility as string | undefined;
  const pretty = values.pretty === true;
  if (!existsSync(file) || !statSync(file).isFile()) {
    process.stderr.write(`no such file: ${file}\n`);
    return 2;
  }
  const looks = sniff(readHead(file));
  let format = values.format as string | undefined;
  if (!format) {
    format = FORMAT_OF[looks.kind];
    if (!format) {
      process.stderr.write(`${file} looks like ${looks.description}: not a format convert reads (${Object.keys(FORMATS).join(', ')})\n`);
      return 1;
    }
  } else if (FORMAT_OF[looks.kind] && !READS[format]!.includes(looks.kind)) {
    // Only a file that clearly is another format is refused up front; anything unclear is left to the converter.
    process.stderr.write(`${file} looks like ${looks.description}, not ${format}: use --format ${FORMAT_OF[looks.kind]}\n`);
    return 1;
  }
  const convert = FORMATS[format]!;
  let converted = 0;
  let rejected = 0;
  const explain = values.explain === true;
  for await (const r of convert(createReadStream(file), { file, explain, ...(facility ? { facility } : {}) })) {
    if (r.explanation) {
      const e = r.explanation;
      const share = e.nonEmpty ? ((100 * e.mapped) / e.nonEmpty).toFixed(1) : '100.0';
      process.stderr.write(`${JSON.stringify({ sourceKey: r.sourceKey, mapped: `${e.mapped}/${e.nonEmpty} non-empty fields (${share} %)`, fields: e.fields }, null, pretty ? 2 : undefined)}\n`);
    }
    if (r.bundle) {
      process.stdout.write(`${JSON.stringify(r.bundle, null, pretty ? 2 : undefined)}\n`);
      converted++;
    } else rejected++;
    if (r.issues.length) process.stderr.write(`${JSON.stringify({ sourceKey: r.sourceKey, outcome: toOperationOutcome(r.issues) }, null, pretty ? 2 : undefined)}\n`);
  }
  if (converted === 0) {
    process.stderr.write(`nothing converted: ${file} looks like ${looks.description}${rejected ? ` (${rejected} record(s) refused, see above)` : ''}\n`);
    return 1;
  }
  return rejected ? 1 : 0;
}
