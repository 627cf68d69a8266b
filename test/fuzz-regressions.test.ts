import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { prepare, send } from '../scripts/fuzz/targets';
import { syntheaBundle, syntheaFiles } from './helpers/corpora';
import { STORES, startTestGateway, type TestGateway } from './helpers/gateway';

/**
 * Every input the fuzzer (`npm run fuzz`) saved because it gave a 5xx, dropped the connection
 * or hung, replayed on every store (several gave 500 only on PostgreSQL, whose text and jsonb
 * refuse NUL): each must now get an ordinary answer.
 */
const DIR = join(__dirname, 'fuzz-regressions');
const cases = existsSync(DIR)
  ? readdirSync(DIR, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .flatMap((d) => readdirSync(join(DIR, d.name)).filter((f) => f.endsWith('.bin')).map((f) => [d.name, f] as const))
  : [];

describe.each(STORES)('saved fuzz regressions (%s store)', (store) => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway(store);
    for (const format of new Set(cases.map(([f]) => f))) await prepare(format, gw, () => syntheaFiles().filter((f) => f.kind.startsWith('info')).map((f) => syntheaBundle(f.file)));
  });
  afterAll(() => gw?.stop());

  test('the folder holds only known formats', () => {
    for (const [format] of cases) expect(['hl7v2-mllp', 'hl7v2-http', 'vn-claim', 'dicom', 'dicom-json', 'patient', 'bundle']).toContain(format);
  });

  // jest refuses an empty table: with no saved case there is nothing to replay
  (cases.length ? test.each(cases) : test.skip.each([['none', 'none']]))('%s/%s answers without a server fault', async (format, file) => {
    const answer = await send(format, readFileSync(join(DIR, format, file)), gw);
    expect(answer.status).not.toBe('hang');
    if (format !== 'hl7v2-mllp') expect(answer.status).not.toBe('closed');
    if (typeof answer.status === 'number') expect(answer.status).toBeLessThan(500);
  });
});
