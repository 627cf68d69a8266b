import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fhirpath from 'fhirpath';
import r4model from 'fhirpath/fhir-context/r4';
import { readResource } from '../src/cli/commands/validate';
import type { Issue } from '../src/fhir/outcome';
import { parseFhirXml } from '../src/fhir/xml';
import { readXml, type XmlElement } from '../src/fhir/xml/tokens';
import { validateResource, withConformanceResources, type ValidationPolicy } from '../src/validation';

/**
 * `npm run conformance`: every test of the HL7 validator suite's self-contained R4 index, run
 * through validateResource and compared with the Java validator's expected outcome (verdict
 * valid/invalid and error count), then the FHIRPath R4 suite against fhirpath as the validator
 * configures it. A test with a profile step agrees only when both steps agree.
 */
const CASES = process.env.FHIR_TEST_CASES ?? join(__dirname, '..', '..', '..', 'shared', 'corpora', 'fhir-test-cases');

interface Step {
  java: string | { errorCount?: number; fatalCount?: number };
  supporting?: string[];
  source?: string;
  assumeValidRestReferences?: boolean;
}
interface TestCase extends Step {
  name: string;
  file: string;
  module: string;
  profiles?: string[];
  profile?: Step;
  'security-checks'?: boolean;
  examples?: boolean;
  validateContains?: string;
  noHtmlInMarkdown?: boolean;
  'bundle-param'?: { rule: string; profile: string };
  validateReference?: string;
  'x-referenced-files'?: string[];
  'x-strict-no-external-codesystems'?: boolean;
}

interface Result {
  test: TestCase;
  strict: boolean;
  format: 'json' | 'xml';
  skipped?: string;
  verdict: boolean;
  count: boolean;
  expected: number;
  got: number;
  detail: string[];
}

function load(file: string): unknown {
  const { resource, issues } = readResource(readFileSync(join(CASES, file), 'utf8'));
  if (resource === undefined) throw new Error(`${file}: ${issues[0]?.diagnostics}`);
  return resource;
}

function expectedErrors(java: Step['java']): number {
  if (typeof java === 'string') {
    const oo = JSON.parse(readFileSync(join(CASES, 'outcomes', java), 'utf8')) as { issue?: { severity: string }[] };
    return (oo.issue ?? []).filter((i) => i.severity === 'error' || i.severity === 'fatal').length;
  }
  return (java.errorCount ?? 0) + (java.fatalCount ?? 0);
}

function errorsOf(issues: Issue[]): Issue[] {
  return issues.filter((i) => i.severity === 'error' || i.severity === 'fatal');
}

/** The test's validator options, named as the Java validator names them; unset means its default. */
function policyOf(t: TestCase, step: Step): Partial<ValidationPolicy> {
  return {
    securityChecks: !!t['security-checks'],
    assumeValidRestReferences: !!(step.assumeValidRestReferences ?? t.assumeValidRestReferences),
    allowExampleUrls: t.examples !== false,
    validateContained: t.validateContains !== 'IGNORE',
    htmlInMarkdown: t.noHtmlInMarkdown ? 'error' : 'warning',
    bundleRules: t['bundle-param'] ? [t['bundle-param']] : [],
    resolveReference: t.validateReference === 'CHECK_VALID' ? referencedFiles(t) : undefined,
  };
}

/** The test's other resources that references may point at, found by `Type/id`. */
function referencedFiles(t: TestCase): (reference: string) => unknown {
  const byKey = new Map<string, unknown>();
  for (const f of t['x-referenced-files'] ?? []) {
    const r = load(f) as { resourceType?: string; id?: string };
    byKey.set(`${r.resourceType}/${r.id}`, r);
  }
  return (reference) => byKey.get(reference.split('/').slice(-2).join('/'));
}

/** Validates the test's file (text as given: JSON or XML) with optional profiles. */
function runStep(text: string, profiles: string[], policy: Partial<ValidationPolicy>): Issue[] {
  const { resource, issues } = readResource(text);
  return resource === undefined ? issues : validateResource(resource, { profiles, ...policy });
}

function runTest(t: TestCase): Result {
  const format = t.file.endsWith('.xml') ? 'xml' : 'json';
  const base: Result = { test: t, strict: !!t['x-strict-no-external-codesystems'], format, verdict: false, count: false, expected: 0, got: 0, detail: [] };
  try {
    const text = readFileSync(join(CASES, t.file), 'utf8');
    const supporting = [...(t.supporting ?? []), ...(t.profiles ?? [])].map(load);
    const expected = expectedErrors(t.java);
    const got = withConformanceResources(supporting, () => errorsOf(runStep(text, [], policyOf(t, t))));
    let verdict = expected > 0 === got.length > 0;
    let count = expected === got.length;
    const detail = got.map((i) => `${i.expression ?? ''}: ${i.diagnostics}`);
    if (t.profile?.source) {
      const sd = load(t.profile.source) as { url?: string };
      const more = [...supporting, ...(t.profile.supporting ?? []).map(load), sd];
      const pExpected = expectedErrors(t.profile.java);
      const pGot = withConformanceResources(more, () => errorsOf(runStep(text, sd.url ? [sd.url] : [], policyOf(t, t.profile!))));
      verdict &&= pExpected > 0 === pGot.length > 0;
      count &&= pExpected === pGot.length;
      detail.push(`profile step: expected ${pExpected}, got ${pGot.length}`, ...pGot.map((i) => `  ${i.expression ?? ''}: ${i.diagnostics}`));
    }
    return { ...base, verdict, count, expected, got: got.length, detail };
  } catch (e) {
    return { ...base, skipped: (e as Error).message.slice(0, 200) };
  }
}

function pct(n: number, d: number): string {
  return d ? `${((100 * n) / d).toFixed(1)}%` : '-';
}

function table(title: string, results: Result[], key: (r: Result) => string): void {
  const groups = new Map<string, Result[]>();
  for (const r of results) groups.set(key(r), [...(groups.get(key(r)) ?? []), r]);
  process.stdout.write(`\n${title}\n`);
  for (const [k, rs] of [...groups].sort()) {
    const v = rs.filter((r) => r.verdict).length;
    const c = rs.filter((r) => r.count).length;
    process.stdout.write(`  ${k.padEnd(14)} ${String(rs.length).padStart(4)} tests  verdict ${pct(v, rs.length).padStart(6)}  error count ${pct(c, rs.length).padStart(6)}\n`);
  }
}

// ---- FHIRPath R4 suite ----

function text(el: XmlElement, name: string): XmlElement[] {
  return el.children.filter((c) => c.name === name);
}

function fhirpathSuite(): { total: number; passed: number; failed: string[] } {
  const dir = join(CASES, 'r4-fhirpath');
  const root = readXml(readFileSync(join(dir, 'tests-fhir-r4.xml'), 'utf8'));
  const inputs = new Map<string, unknown>();
  const input = (f: string) => {
    if (!inputs.has(f)) {
      const raw = readFileSync(join(dir, f), 'utf8');
      inputs.set(f, f.endsWith('.xml') ? parseFhirXml(raw) : JSON.parse(raw));
    }
    return structuredClone(inputs.get(f));
  };
  let total = 0;
  let passed = 0;
  const failed: string[] = [];
  const all: XmlElement[] = [];
  const collect = (el: XmlElement): void => {
    for (const c of el.children) (c.name === 'test' ? all.push(c) : collect(c));
  };
  collect(root);
  {
    for (const t of all) {
      total++;
      const exprEl = text(t, 'expression')[0]!;
      const invalid = exprEl.attrs.invalid;
      const outputs = text(t, 'output');
      const file = t.attrs.inputfile;
      let ok = false;
      try {
        if (file && !existsSync(join(dir, file))) throw new Error(`missing ${file}`);
        const res = fhirpath.evaluate(file ? (input(file) as object) : {}, exprEl.text.trim(), {}, r4model, { traceFn: () => undefined }) as unknown[];
        ok = !invalid && sameOutputs(res, outputs);
      } catch {
        ok = !!invalid;
      }
      if (ok) passed++;
      else failed.push(`${t.attrs.name ?? '(unnamed)'}: ${exprEl.text.trim().slice(0, 80)}`);
    }
  }
  return { total, passed, failed };
}

function sameOutputs(res: unknown[], outputs: XmlElement[]): boolean {
  if (res.length !== outputs.length) return false;
  return outputs.every((o, i) => {
    const want = o.text.trim();
    const got = res[i];
    const type = o.attrs.type;
    if (type === 'boolean') return String(got) === want;
    if (type === 'integer' || type === 'decimal') return Number(got) === Number(want);
    if (type === 'Quantity') return typeof got === 'object' && got !== null && `${(got as { value: number }).value} ${(got as { unit: string }).unit}`.replace(/ '(.*)'$/, " '$1'") === want.replace(/'/g, "'");
    const g = String(got).replace(/^@/, '');
    return g === want.replace(/^@T?/, '') || `@${g}` === want || `@T${g}` === want || g === want;
  });
}

function main(): void {
  const index = JSON.parse(readFileSync(join(CASES, 'r4-selfcontained-index.json'), 'utf8')) as { 'test-cases': TestCase[] };
  const t0 = Date.now();
  const results = index['test-cases'].map(runTest);
  const ms = Date.now() - t0;
  const strict = results.filter((r) => r.strict);
  const verbose = process.argv.includes('--verbose');
  for (const r of results) {
    if ((r.verdict && r.count) || (!verbose && !r.strict)) continue;
    process.stdout.write(`${r.skipped ? 'SKIP' : r.verdict ? 'COUNT' : 'VERDICT'} ${r.test.module}/${r.test.name}: expected ${r.expected}, got ${r.got}${r.skipped ? ` (${r.skipped})` : ''}\n`);
    if (verbose) for (const d of r.detail) process.stdout.write(`    ${d}\n`);
  }
  table('Strict tests by module', strict, (r) => r.test.module);
  table('Strict tests by input format', strict, (r) => r.format);
  table('All tests by module', results, (r) => r.test.module);
  const fp = fhirpathSuite();
  process.stdout.write(`\nFHIRPath R4 suite (fhirpath 5.2.0, R4 model): ${fp.passed}/${fp.total} pass\n`);
  if (verbose) for (const f of fp.failed) process.stdout.write(`  FAIL ${f}\n`);
  const skipped = results.filter((r) => r.skipped).length;
  process.stdout.write(`\n${results.length} tests in ${ms} ms\n`);
  process.stdout.write(
    `${JSON.stringify({
      tests: results.length,
      strict: strict.length,
      verdict_agree_strict: strict.filter((r) => r.verdict && !r.skipped).length,
      errorcount_agree_strict: strict.filter((r) => r.count && !r.skipped).length,
      skipped,
    })}\n`,
  );
}

main();
