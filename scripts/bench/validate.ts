import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { definitionBundle, examplesDir } from '../../src/fhir/definitions';
import { validateResource } from '../../src/validation';

/**
 * `npm run bench:validate`: resources/s of validateResource over the R4 examples and every
 * Synthea bundle entry, against @medplum/core's validateResource on the same inputs in the same
 * process. Each side runs several rounds; the medians are compared.
 */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SYNTHEA = join(__dirname, '..', '..', '..', '..', 'shared', 'corpora', 'synthea', 'bundles');
const CONFORMANCE_TYPES = new Set(
  'SearchParameter ValueSet CodeSystem StructureDefinition ConceptMap OperationDefinition CapabilityStatement CompartmentDefinition NamingSystem ImplementationGuide StructureMap GraphDefinition ExampleScenario MessageDefinition TerminologyCapabilities'.split(' '),
);
const DEFINITION_BUNDLES = /^Bundle-(conceptmaps|dataelements|extensions|externals|profiles-others|registry|resources|searchParams|terminologies|types|v2-valuesets|v3-valuesets|valueset-expansions|valuesets)\.json$/;

function inputs(): unknown[] {
  const out: unknown[] = [];
  const dir = examplesDir();
  for (const f of readdirSync(dir)) {
    if (!f.endsWith('.json') || f === 'package.json' || DEFINITION_BUNDLES.test(f)) continue;
    const r = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { resourceType: string };
    if (!CONFORMANCE_TYPES.has(r.resourceType)) out.push(r);
  }
  const synthea = process.env.SYNTHEA_DIR ?? SYNTHEA;
  for (const f of readdirSync(synthea).filter((n) => n.endsWith('.json'))) {
    const b = JSON.parse(readFileSync(join(synthea, f), 'utf8')) as { entry?: { resource: unknown }[] };
    for (const e of b.entry ?? []) out.push(e.resource);
  }
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function rate(all: unknown[], fn: (r: unknown) => void): number {
  const rates: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const t = process.hrtime.bigint();
    for (const r of all) fn(r);
    rates.push(all.length / (Number(process.hrtime.bigint() - t) / 1e9));
  }
  return median(rates);
}

function main(): void {
  const all = inputs();
  let t = process.hrtime.bigint();
  validateResource({ resourceType: 'Patient' });
  const firstCallMs = Number(process.hrtime.bigint() - t) / 1e6;
  t = process.hrtime.bigint();
  for (const r of all) validateResource(r); // warm-up: compiles every type met
  const warmMs = Number(process.hrtime.bigint() - t) / 1e6;
  const ours = rate(all, (r) => validateResource(r));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const medplum = require('@medplum/core') as { validateResource: (r: unknown) => void; indexStructureDefinitionBundle: (b: unknown) => void };
  // Medplum needs the base definitions indexed first; the same R4 bundles this project loads
  medplum.indexStructureDefinitionBundle(definitionBundle('types'));
  medplum.indexStructureDefinitionBundle(definitionBundle('resources'));
  const safe = (r: unknown) => {
    try {
      medplum.validateResource(r);
    } catch {
      // Medplum throws on invalid resources; the throughput is what is measured
    }
  };
  for (const r of all) safe(r);
  const baseline = rate(all, safe);
  process.stdout.write(`inputs: ${all.length} resources; first call ${firstCallMs.toFixed(0)} ms, first full pass ${warmMs.toFixed(0)} ms; ${ROUNDS} rounds each\n`);
  process.stdout.write(`fhir-gateway ${ours.toFixed(0)}/s, @medplum/core 4.5.2 ${baseline.toFixed(0)}/s\n`);
  process.stdout.write(`${JSON.stringify({ bench: 'validate', resources_per_s: Math.round(ours), baseline_per_s: Math.round(baseline), ratio: Number((ours / baseline).toFixed(2)) })}\n`);
}

main();
