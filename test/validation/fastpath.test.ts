import fhirpath from 'fhirpath';
import r4model from 'fhirpath/fhir-context/r4';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { definitionResources, examplesDir } from '../../src/fhir/definitions';
import { compileFast } from '../../src/validation/fastpath';
import type { StructureDefinition } from 'fhir/r4';

/**
 * The direct evaluator must give the same answer as fhirpath for every invariant it accepts, on
 * every element of the R4 examples those invariants apply to.
 */
describe('fast invariant evaluation', () => {
  const sds = definitionResources<StructureDefinition>('resources', 'StructureDefinition').filter((s) => s.derivation !== 'constraint');
  const bases = new Set<string>();
  for (const sd of [...sds, ...definitionResources<StructureDefinition>('types', 'StructureDefinition')]) {
    for (const e of sd.snapshot?.element ?? []) if (e.path.endsWith('[x]')) bases.add(e.path.slice(e.path.lastIndexOf('.') + 1, -3));
  }

  it('parses the plain existence grammar and refuses the rest', () => {
    expect(compileFast('code.empty() or system.exists()', bases)).toBeDefined();
    expect(compileFast("reference.startsWith('#').not()", bases)).toBeUndefined();
    expect(compileFast('(a.exists() and b.exists()).not() implies c.hasValue()', bases)).toBeDefined();
    expect(compileFast('a.count() > 1', bases)).toBeUndefined();
  });

  it('agrees with fhirpath on resource-level invariants over the examples', () => {
    const dir = examplesDir();
    const byType = new Map<string, { expression: string; fast: (v: unknown) => boolean }[]>();
    for (const sd of sds) {
      const list = [];
      for (const c of sd.snapshot?.element[0]?.constraint ?? []) {
        const fast = c.expression ? compileFast(c.expression, bases) : undefined;
        if (fast && c.key !== 'ele-1') list.push({ expression: c.expression!, fast });
      }
      byType.set(sd.type, list);
    }
    let compared = 0;
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.json') && !n.startsWith('Bundle-') && n !== 'package.json').slice(0, 400)) {
      const r = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { resourceType: string };
      for (const inv of byType.get(r.resourceType) ?? []) {
        const slow = fhirpath.evaluate(r, inv.expression, {}, r4model) as unknown[];
        const expected = slow.length === 1 && typeof slow[0] === 'boolean' ? slow[0] : true;
        expect([f, inv.expression, inv.fast(r)]).toEqual([f, inv.expression, expected]);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(500);
  });
});
