import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse } from 'csv-parse/sync';
import { convertHl7v2Batch } from '../src/ingest/hl7v2';

/**
 * `npm run report:hl7-coverage [-- --audit]`: over every HL7 v2 file in the shared corpora, the
 * share of non-empty fields that reach the output (the `--explain` measure), the messages refused
 * and why, and the fields most often dropped. Prints a Markdown report for the README.
 */
const CORPORA = process.env.CORPORA ?? join(__dirname, '..', '..', '..', 'shared', 'corpora');
const ROOTS = [join(CORPORA, 'hl7v2'), join(CORPORA, 'fhir-converter', 'input', 'Hl7v2')];
const SEGMENT_MAPS = join(CORPORA, '..', 'reference', 'hl7-v2-to-fhir', 'mappings', 'segments');

/**
 * The fields some IG segment table sends to a FHIR element (`PID-5`, `OBX-11` …): the second
 * measure, which leaves out what the IG itself maps nowhere (GT1, IN2, ARV, US-only fields).
 */
function igMappedFields(): Set<string> {
  const out = new Set<string>();
  for (const file of readdirSync(SEGMENT_MAPS).filter((f) => f.endsWith('.csv'))) {
    const rows = parse(readFileSync(join(SEGMENT_MAPS, file), 'utf8'), { relax_column_count: true, relax_quotes: true }) as string[][];
    for (const r of rows) if (/^[A-Z0-9]{3}-\d+$/.test(r[1] ?? '') && (r[9] ?? '').trim()) out.add(r[1]!);
  }
  return out;
}
const IG_MAPPED = igMappedFields();

/**
 * `--audit`: counted fields whose raw value (any component, or the date's digits) appears nowhere
 * in the Bundle. Most are translations (OBX-2 types, status codes, code system names); a field
 * that is read only as a condition, or whose value names nothing, shows up here and should report
 * itself dropped instead. A check on the count, not a second measure.
 */
const AUDIT = process.argv.includes('--audit');
const unseen = new Map<string, number>();
let audited = 0;
function audit(c: ReturnType<typeof convertHl7v2Batch>[number]): void {
  const out = JSON.stringify(c.bundle).toLowerCase();
  const digits = out.replace(/\D/g, '');
  const bySeg = new Map<string, { fields: string[][][][] }>();
  const occ = new Map<string, number>();
  for (const seg of c.message!.segments) {
    const n = (occ.get(seg.id) ?? 0) + 1;
    occ.set(seg.id, n);
    bySeg.set(n === 1 ? seg.id : `${seg.id}(${n})`, seg as { fields: string[][][][] });
  }
  for (const f of c.explanation!.fields) {
    const m = /^([A-Z0-9]{3}(?:\(\d+\))?)-(\d+)$/.exec(f.field);
    if (f.dropped || !m) continue;
    audited++;
    const values = (bySeg.get(m[1]!)?.fields[Number(m[2])] ?? []).flat(2).map((v) => v.trim().toLowerCase()).filter((v) => v && v !== '""');
    const seen = values.some((v) => out.includes(v) || (v.replace(/\D/g, '').length >= 8 && digits.includes(v.replace(/\D/g, '').slice(0, 8))));
    if (!seen) {
      const key = `${f.field.replace(/\(\d+\)/, '')} → ${f.element}`;
      unseen.set(key, (unseen.get(key) ?? 0) + 1);
    }
  }
}

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
let igFields = 0;
let igMapped = 0;
for (const root of ROOTS) {
  let rootMessages = 0;
  let rootNon = 0;
  let rootMapped = 0;
  let rootRefused = 0;
  let rootIg = 0;
  let rootIgMapped = 0;
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
      if (AUDIT) audit(c);
      nonEmpty += e.nonEmpty;
      mapped += e.mapped;
      rootNon += e.nonEmpty;
      rootMapped += e.mapped;
      for (const f of e.fields) if (IG_MAPPED.has(f.field.replace(/\(\d+\)/, '').replace(/\[\d+\]/, ''))) {
        rootIg++;
        if (!f.dropped) rootIgMapped++;
      }
      for (const f of e.fields) if (f.dropped) {
        const key = f.field.replace(/\(\d+\)/, '').replace(/\[\d+\]/, '');
        dropped.set(key, (dropped.get(key) ?? 0) + 1);
      }
    }
  }
  igFields += rootIg;
  igMapped += rootIgMapped;
  perRoot.push(`| ${relative(CORPORA, root)} | ${rootMessages} | ${rootRefused} | ${rootNon} | ${rootMapped} (${rootNon ? ((100 * rootMapped) / rootNon).toFixed(1) : '-'} %) | ${rootIg} | ${rootIgMapped} (${rootIg ? ((100 * rootIgMapped) / rootIg).toFixed(1) : '-'} %) |`);
}

const pct = (a: number, b: number) => (b ? ((100 * a) / b).toFixed(1) : '-');
console.log('| corpus | messages | refused | non-empty fields (converted messages) | reach the output | of them, fields an IG table maps | reach the output |');
console.log('|---|---|---|---|---|---|---|');
for (const row of perRoot) console.log(row);
console.log(`| **all** | ${messages} | ${refused.size} | ${nonEmpty} | **${mapped} (${pct(mapped, nonEmpty)} %)** | ${igFields} | **${igMapped} (${pct(igMapped, igFields)} %)** |`);
console.log('\nRefused:');
for (const r of [...refused.keys()]) console.log(`- ${r}`);
console.log('\nMost often dropped fields:');
for (const [f, n] of [...dropped.entries()].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`- ${f}: ${n}`);
if (AUDIT) {
  const total = [...unseen.values()].reduce((x, y) => x + y, 0);
  console.log(`\nCounted fields whose value is not in the Bundle (translations, or a count to correct): ${total} of ${audited}`);
  for (const [f, n] of [...unseen.entries()].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(`- ${f}: ${n}`);
}
