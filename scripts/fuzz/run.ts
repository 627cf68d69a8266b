import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { startTestGateway } from '../../test/helpers/gateway';
import { FORMATS, infoBundles, seeds, STRUCTURE } from './corpus';
import { caseArb, mutate } from './mutate';
import { isFault, prepare, send, type Answer } from './targets';

/**
 * `npm run fuzz -- --cases N --seed S [--formats a,b]`: N seeded mutants of corpus inputs, shared
 * evenly among the formats, against an in-process gateway (embedded store, in memory) over real HTTP and MLLP.
 * Prints status counts per format; every input that gave a 5xx, dropped the connection or hung
 * is saved under test/fuzz-regressions/<format>/<sha>.bin (with its seed beside it), and the
 * exit code is 1 if there was any.
 */
function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const CASES = Number(arg('cases', '200'));
const SEED = Number(arg('seed', String(Date.now() % 1_000_000)));
const FORMAT_LIST = arg('formats', FORMATS.join(',')).split(',');
const OUT = join(__dirname, '..', '..', '..', 'test', 'fuzz-regressions');

function bucket(a: Answer): string {
  if (typeof a.status !== 'number') return a.status;
  return a.ack ?? `${Math.floor(a.status / 100)}xx`;
}

async function main(): Promise<void> {
  const gw = await startTestGateway('embedded');
  let current: { format: string; body: Buffer; index: number } | undefined;
  const save = (format: string, body: Buffer, index: number, answer: string) => {
    const sha = createHash('sha256').update(body).digest('hex').slice(0, 16);
    mkdirSync(join(OUT, format), { recursive: true });
    writeFileSync(join(OUT, format, `${sha}.bin`), body);
    writeFileSync(join(OUT, format, `${sha}.json`), JSON.stringify({ format, seed: SEED, case: index, answer }) + '\n');
    return sha;
  };
  // A crash of the gateway is a crash of this process: keep the input that caused it.
  process.on('uncaughtException', (e) => {
    if (current) process.stdout.write(`CRASH ${current.format} case ${current.index}: ${e.message} → saved ${save(current.format, current.body, current.index, 'crash')}\n`);
    process.exit(2);
  });

  process.stdout.write(`fuzz: ${CASES} cases over ${FORMAT_LIST.length} formats, seed ${SEED}\n`);
  let faults = 0;
  const t0 = Date.now();
  for (const [fi, format] of FORMAT_LIST.entries()) {
    const inputs = seeds(format);
    await prepare(format, gw, infoBundles);
    const cases = fc.sample(caseArb(inputs.length), { numRuns: Math.ceil(CASES / FORMAT_LIST.length), seed: SEED + fi });
    const counts: Record<string, number> = {};
    for (const [index, c] of cases.entries()) {
      const body = mutate(inputs[c.seed]!, STRUCTURE[format]!, c.mutations);
      current = { format, body, index };
      const answer = await send(format, body, gw);
      const b = typeof answer.status === 'number' && answer.ack ? `${Math.floor(answer.status / 100)}xx ${answer.ack}` : bucket(answer);
      counts[b] = (counts[b] ?? 0) + 1;
      if (isFault(format, answer)) {
        faults++;
        process.stdout.write(`  ${format} case ${index}: ${bucket(answer)} → saved ${save(format, body, index, bucket(answer))}\n`);
      }
    }
    current = undefined;
    process.stdout.write(`FUZZ ${format}: ${Object.entries(counts).sort().map(([k, v]) => `${k}=${v}`).join(' ')} (${inputs.length} seeds)\n`);
  }
  process.stdout.write(`fuzz: ${faults} faults in ${Math.ceil(CASES / FORMAT_LIST.length) * FORMAT_LIST.length} cases, ${Math.round((Date.now() - t0) / 1000)} s\n`);
  await gw.stop();
  process.exit(faults ? 1 : 0);
}

void main();
