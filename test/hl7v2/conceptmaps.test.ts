import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { conceptMapFromCsv, slug } from '../../scripts/gen-hl7-conceptmaps';
import { translateIg } from '../../src/ingest/hl7v2/tables';

const IG = resolve(__dirname, '../../../shared/reference/hl7-v2-to-fhir/mappings/codesystems');
const PROFILES = resolve(__dirname, '../../profiles');

test('profiles/ConceptMap-v2-ig-* are exactly what gen:hl7-conceptmaps makes from the IG CSVs', () => {
  const csvs = readdirSync(IG).filter((f) => f.endsWith('.csv')).sort();
  const made = csvs.map((f) => conceptMapFromCsv(f, readFileSync(join(IG, f), 'utf8'))).filter((m) => !!m);
  const committed = readdirSync(PROFILES).filter((f) => f.startsWith('ConceptMap-v2-ig-')).sort();
  expect(committed).toEqual(made.map((m) => `ConceptMap-${m.id}.json`).sort());
  for (const m of made) expect(readFileSync(join(PROFILES, `ConceptMap-${m.id}.json`), 'utf8')).toBe(`${JSON.stringify(m, null, 2)}\n`);
  expect(slug('HL7 Concept Map_ AllergySeverity[AllergyIntolerance.criticality] - Sheet1.csv')).toBe('allergyseverity-allergyintolerance-criticality');
});

test('mappers read the IG maps: a code the IG leaves unmapped gives nothing, not a guess', () => {
  expect(translateIg('administrativesex', 'F')).toMatchObject({ system: 'http://hl7.org/fhir/administrative-gender', code: 'female' });
  expect(translateIg('allergentype-allergyintolerancecategory', 'AA')?.code).toBe('biologic');
  expect(translateIg('allergyseverity-allergyintolerance-criticality', 'MO')).toBeUndefined();
  expect(translateIg('no-such-sheet', 'X')).toBeUndefined();
});
