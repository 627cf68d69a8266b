import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import type { ConceptMap, ConceptMapGroup } from 'fhir/r4';

/**
 * `npm run gen:hl7-conceptmaps`: the HL7 v2-to-FHIR IG's code system maps (its CSVs, in
 * `../shared/reference/hl7-v2-to-fhir/mappings/codesystems/`) → one ConceptMap each in
 * `profiles/ConceptMap-v2-ig-<name>.json`. The output is committed; mappers translate through
 * `src/fhir/conceptmap.ts`, so a corrected row is a data change. A v2 code the IG leaves
 * without a FHIR code is written as `unmatched`, so a lookup says "no mapping" rather than guess.
 */
const REFERENCE = process.env.HL7_IG_DIR ?? join(__dirname, '..', '..', '..', 'shared', 'reference', 'hl7-v2-to-fhir', 'mappings', 'codesystems');
const OUT = join(__dirname, '..', '..', 'profiles');
export const V2_IG_CONCEPTMAP_BASE = 'http://fhir.ehealth.gov.vn/core/ConceptMap/v2-ig-';

function system(name: string): string {
  const n = name.trim();
  const table = /^HL7(\d{4})$/i.exec(n);
  if (table) return `http://terminology.hl7.org/CodeSystem/v2-${table[1]}`;
  if (/^(https?:|urn:)/.test(n)) return n;
  return `urn:hl7v2:${n || 'unknown'}`;
}

export function slug(file: string): string {
  const name = file.replace(/^HL7 Concept Map_ /, '').replace(/ - [^-]+\.csv$/, '');
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

export function conceptMapFromCsv(file: string, text: string): ConceptMap | undefined {
  const rows = parse(text, { relax_column_count: true, skip_empty_lines: true }) as string[][];
  const groups = new Map<string, ConceptMapGroup>();
  for (const r of rows.slice(2)) {
    const code = (r[0] ?? '').trim();
    if (!code) continue;
    const source = system(r[2] ?? '');
    const targetCode = (r[6] ?? '').trim();
    const target = (r[9] ?? '').trim();
    const key = `${source}|${target}`;
    const g = groups.get(key) ?? { source, ...(target ? { target } : {}), element: [] };
    groups.set(key, g);
    const display = (r[1] ?? '').trim();
    g.element!.push({
      code,
      ...(display ? { display } : {}),
      target: [targetCode ? { code: targetCode, ...((r[8] ?? '').trim() ? { display: r[8]!.trim() } : {}), equivalence: 'equivalent' } : { equivalence: 'unmatched', comment: 'the IG gives no FHIR code' }],
    });
  }
  if (!groups.size) return undefined;
  const id = `v2-ig-${slug(file)}`;
  return {
    resourceType: 'ConceptMap',
    id,
    url: `${V2_IG_CONCEPTMAP_BASE}${slug(file)}`,
    name: id.replace(/-/g, '_'),
    title: `HL7 v2-to-FHIR IG: ${file.replace(/^HL7 Concept Map_ /, '').replace(/ - [^-]+\.csv$/, '')}`,
    status: 'active',
    description: 'Generated from the HL7 v2-to-FHIR IG code system map of the same name by scripts/gen-hl7-conceptmaps.ts.',
    group: [...groups.values()],
  };
}

if (require.main === module) {
  let n = 0;
  for (const f of readdirSync(REFERENCE).filter((x) => x.endsWith('.csv')).sort()) {
    const map = conceptMapFromCsv(f, readFileSync(join(REFERENCE, f), 'utf8'));
    if (!map) continue;
    writeFileSync(join(OUT, `ConceptMap-${map.id}.json`), `${JSON.stringify(map, null, 2)}\n`);
    n++;
  }
  console.log(`${n} ConceptMaps written to profiles/`);
}
