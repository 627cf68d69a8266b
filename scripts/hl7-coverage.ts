import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { convertHl7v2Batch } from '../src/ingest/hl7v2';

/**
 * `npm run report:hl7-coverage`: over every HL7 v2 file in the shared corpora, the share of
 * non-empty fields that reach the output (the `--explain` measure), the messages refused and
 * why, and the fields most often dropped. Prints a Markdown report for the README.
 */
const CORPORA = process.env.CORPORA ?? join(__dirname, '..', '..', '..', 'shared', 'corpora');
const ROOTS = [join(CORPORA, 'hl7v2'), join(CORPORA, 'fhir-converter', 'input', 'Hl7v2')];

function walk(dir: string): string[] {
  return readdirSync(dir).sort().flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : /\.(hl7|txt|er7)$/i.test(n) ? [p] : [];
  });
}

let messages = 0;
let nonEmpty = 0;
let mapped = 0;
const refused = new Map<string, number>();
const dropped = new Map<string, number>();
const perRoot: string[] = [];
for (const root of ROOTS) {
  let rootMessages = 0;
  let rootNon = 0;
  let rootMapped = 0;
  let rootRefused = 0;
  for (const file of walk(root)) {
    for (const c of convertHl7v2Batch(readFileSync(file), {}, { explain: true })) {
      messages++;
      rootMessages++;
      const err = c.issues.find((i) => i.severity === 'error' || i.severity === 'fatal');
      if (!c.bundle || err) {
        rootRefused++;
        const why = `${c.messageType || '?'}: ${err?.expression ?? ''} ${err?.diagnostics ?? 'no bundle'}`.slice(0, 120);
        refused.set(`${relative(CORPORA, file)} (${why})`, 1);
        continue;
      }
      const e = c.explanation!;
      nonEmpty += e.nonEmpty;
      mapped += e.mapped;
      rootNon += e.nonEmpty;
      rootMapped += e.mapped;
      for (const f of e.fields) if (f.dropped) {
        const key = f.field.replace(/\(\d+\)/, '').replace(/\[\d+\]/, '');
        dropped.set(key, (dropped.get(key) ?? 0) + 1);
      }
    }
  }
  perRoot.push(`| ${relative(CORPORA, root)} | ${rootMessages} | ${rootRefused} | ${rootNon} | ${rootNon ? ((100 * rootMapped) / rootNon).toFixed(1) : '-'} % |`);
}

const pct = (a: number, b: number) => (b ? ((100 * a) / b).toFixed(1) : '-');
console.log('| corpus | messages | refused | non-empty fields (converted messages) | reach the output |');
console.log('|---|---|---|---|---|');
for (const row of perRoot) console.log(row);
console.log(`| **all** | ${messages} | ${refused.size} | ${nonEmpty} | **${pct(mapped, nonEmpty)} %** |`);
console.log('\nRefused:');
for (const r of [...refused.keys()]) console.log(`- ${r}`);
console.log('\nMost often dropped fields:');
for (const [f, n] of [...dropped.entries()].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`- ${f}: ${n}`);
