import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The shared test corpora, read in place beside the repository. */
export const CORPORA = join(__dirname, '..', '..', '..', 'shared', 'corpora');

export interface SyntheaFile {
  file: string;
  bundleType: string;
  kind: string;
  entries: number;
}

/** Synthea bundles in load order: the hospital and practitioner batches first. */
export function syntheaFiles(): SyntheaFile[] {
  const index = JSON.parse(readFileSync(join(CORPORA, 'synthea', 'index.json'), 'utf8')) as SyntheaFile[];
  return [...index.filter((f) => f.kind.startsWith('info')), ...index.filter((f) => !f.kind.startsWith('info'))];
}

export function syntheaBundle(file: string): string {
  return readFileSync(join(CORPORA, 'synthea', 'bundles', file), 'utf8');
}
