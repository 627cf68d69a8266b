import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The shared corpora, read in place (never copied into the repository). */
export const CORPORA = resolve(__dirname, '../../../shared/corpora');
export const HL7V2 = join(CORPORA, 'hl7v2');
export const CONVERTER = join(CORPORA, 'fhir-converter');
export const DICOM = join(CORPORA, 'dicom');

export function walk(dir: string, keep: (path: string) => boolean): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p, keep));
    else if (keep(p)) out.push(p);
  }
  return out;
}
