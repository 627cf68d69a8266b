import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CORPORA } from '../helpers/corpora';
import { client } from '../helpers/http';
import { startTestGateway, type TestGateway } from '../helpers/gateway';

const run = promisify(execFile);
const BIN = join(__dirname, '..', '..', 'bin', 'fhir-gateway.js');

/** The compiled CLI (npm test compiles first) against a running gateway. */
describe('fhir-gateway ingest', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway('embedded');
  });
  afterAll(() => gw.stop());

  test('sends a folder of claim XML and a folder of HL7 v2 and reports what was accepted', async () => {
    const claims = await run(process.execPath, [BIN, 'ingest', join(CORPORA, 'vn', 'synthetic', 'giamdinhhs-outpatient-synthetic.xml'), '--url', gw.url]).catch((e) => e);
    expect(claims.stderr).toMatch(/1 file\(s\) sent, 1 accepted, 0 not accepted/);
    const hl7 = await run(process.execPath, [BIN, 'ingest', join(CORPORA, 'fhir-converter', 'input', 'Hl7v2'), '--url', gw.url]).catch((e) => e);
    const m = /(\d+) file\(s\) sent, (\d+) accepted, (\d+) not accepted/.exec(hl7.stderr)!;
    expect(Number(m[1])).toBeGreaterThan(50);
    expect(Number(m[2])).toBeGreaterThan(0);
    // the exit code says whether everything was accepted
    expect(hl7.code ?? 0).toBe(Number(m[3]) > 0 ? 1 : 0);
    const log = await client(gw.url)('GET', '/ingest/messages?feed=hl7v2');
    expect(log.body.total).toBe(Number(m[1]));
  }, 120_000);

  test('usage errors exit 2', async () => {
    const e = await run(process.execPath, [BIN, 'ingest', '/nonexistent']).catch((x) => x);
    expect(e.code).toBe(2);
    const f = await run(process.execPath, [BIN, 'frobnicate']).catch((x) => x);
    expect(f.code).toBe(2);
  });
});
