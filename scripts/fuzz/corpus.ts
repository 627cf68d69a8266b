import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CORPORA } from '../bench/common';
import type { Structure } from './mutate';

/** The valid inputs each format's mutants start from, read in place from the shared corpora. */
function files(dir: string, keep: (name: string, size: number) => boolean): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (keep(e.name, statSync(p).size)) out.push(p);
    }
  };
  walk(join(CORPORA, dir));
  return out;
}

const read = (paths: string[]) => paths.map((p) => readFileSync(p));

function syntheaResources(): any[][] {
  const index = JSON.parse(readFileSync(join(CORPORA, 'synthea', 'index.json'), 'utf8')) as { file: string; kind: string }[];
  return index
    .filter((f) => !f.kind.startsWith('info'))
    .slice(0, 4)
    .map((f) => (JSON.parse(readFileSync(join(CORPORA, 'synthea', 'bundles', f.file), 'utf8')) as { entry: any[] }).entry);
}

export function infoBundles(): string[] {
  const index = JSON.parse(readFileSync(join(CORPORA, 'synthea', 'index.json'), 'utf8')) as { file: string; kind: string }[];
  return index.filter((f) => f.kind.startsWith('info')).map((f) => readFileSync(join(CORPORA, 'synthea', 'bundles', f.file), 'utf8'));
}

export function seeds(format: string): Buffer[] {
  switch (format) {
    case 'hl7v2-mllp':
    case 'hl7v2-http':
      return read([...files('hl7v2', (n, s) => n.endsWith('.hl7') && s < 50_000), ...files('fhir-converter/input/Hl7v2', (n, s) => n.endsWith('.hl7') && s < 50_000)]);
    case 'vn-claim':
      return read(files('vn', (n) => n.endsWith('.xml')));
    case 'dicom':
      return read(files('dicom/part10', (n, s) => !/\.(md|txt|dump|json)$/.test(n) && s < 200_000));
    case 'dicom-json':
      return read(files('dicom/dicom-json', (n, s) => n.endsWith('.json') && s < 100_000));
    case 'patient':
      return syntheaResources().map((entries) => Buffer.from(JSON.stringify(entries.find((e) => e.resource.resourceType === 'Patient').resource)));
    case 'bundle':
      // small transactions cut from Synthea records: a Patient and what follows it
      return syntheaResources().flatMap((entries) => [4, 12].map((n) => Buffer.from(JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: entries.slice(0, n) }))));
    default:
      throw new Error(`unknown format ${format}`);
  }
}

export const STRUCTURE: Record<string, Structure> = { 'hl7v2-mllp': 'hl7', 'hl7v2-http': 'hl7', 'vn-claim': 'xml', dicom: 'binary', 'dicom-json': 'json', patient: 'json', bundle: 'json' };
export const FORMATS = Object.keys(STRUCTURE);
