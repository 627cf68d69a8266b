import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fhirpath from 'fhirpath';
import r4model from 'fhirpath/fhir-context/r4';
import { examplesDir } from '../../src/fhir/definitions';
import { searchParamsFor, splitUnion, withoutResolveIs } from '../../src/fhir/search-parameters';
import { compilePath, type PathModel } from '../../src/fhir/simple-path';
import { CORPORA } from '../helpers/corpora';

/** The plain-path evaluator against fhirpath, over every search parameter the corpora exercise. */
const model = r4model as unknown as PathModel;

function corpus(): { resourceType: string }[] {
  const out: { resourceType: string }[] = [];
  const dir = examplesDir();
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.json'))) {
    const r = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { resourceType?: string; entry?: { resource?: { resourceType: string } }[] };
    if (typeof r.resourceType === 'string') out.push(r as { resourceType: string });
    if (r.resourceType === 'Bundle') for (const e of r.entry ?? []) if (e.resource) out.push(e.resource);
  }
  const synthea = join(CORPORA, 'synthea', 'bundles');
  for (const f of readdirSync(synthea).sort().slice(0, 10)) {
    for (const e of (JSON.parse(readFileSync(join(synthea, f), 'utf8')) as { entry: { resource: { resourceType: string } }[] }).entry) out.push(e.resource);
  }
  return out;
}

test('agrees with fhirpath wherever fhirpath gives an answer, and covers most expressions', () => {
  const compiled = new Map<string, ((r: unknown) => unknown[]) | undefined>();
  let evaluated = 0;
  const differences: string[] = [];
  for (const r of corpus()) {
    for (const sp of searchParamsFor(r.resourceType).values()) {
      for (const part of splitUnion(sp.expression).map(withoutResolveIs)) {
        if (!compiled.has(part)) compiled.set(part, compilePath(part, model));
        const fast = compiled.get(part);
        if (!fast) continue;
        let want: unknown[];
        try {
          want = fhirpath.evaluate(r, part, undefined, r4model) as unknown[];
        } catch {
          continue; // e.g. `as` over several values: fhirpath refuses, the plain path takes them all
        }
        evaluated++;
        if (JSON.stringify(fast(r)) !== JSON.stringify(want)) differences.push(`${r.resourceType} ${part}`);
      }
    }
  }
  expect(differences.slice(0, 10)).toEqual([]);
  expect(evaluated).toBeGreaterThan(100_000);
  const fastShare = [...compiled.values()].filter(Boolean).length / compiled.size;
  expect(fastShare).toBeGreaterThan(0.9);
});

test('takes what it can evaluate exactly and leaves the rest to fhirpath', () => {
  expect(compilePath('Observation.code', model)).toBeDefined();
  expect(compilePath('(Observation.value as Quantity)', model)).toBeDefined();
  expect(compilePath('Condition.onset.as(Age)', model)).toBeDefined();
  expect(compilePath('(Observation.value as CodeableConcept).text', model)).toBeDefined();
  expect(compilePath("Patient.telecom.where(system='phone')", model)).toBeUndefined();
  expect(compilePath('Patient.deceased.exists() and Patient.deceased != false', model)).toBeUndefined();
  expect(compilePath('(ConceptMap.source as uri)', model)).toBeUndefined(); // `as uri` admits canonical too
  expect(compilePath('Observation.value.code', model)).toBeUndefined(); // a choice mid-path needs a cast

  const bp = {
    resourceType: 'Observation',
    component: [{ valueQuantity: { value: 142 } }, { valueString: 'x' }, { valueQuantity: { value: 91 } }],
  };
  expect(compilePath('(Observation.component.value as Quantity)', model)!(bp)).toEqual([{ value: 142 }, { value: 91 }]);
  expect(compilePath('Observation.component.value.as(Quantity)', model)!({ ...bp, resourceType: 'Condition' })).toEqual([]);
});
