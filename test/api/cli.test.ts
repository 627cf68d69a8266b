import { execFile } from 'node:child_process';
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CORPORA } from '../helpers/corpora';
import { envelope, episode, setField, ENVELOPE_FILE } from '../vn-claim/fixtures';
import { client } from '../helpers/http';
import { startTestGateway, type TestGateway } from '../helpers/gateway';

const run = promisify(execFile);
const BIN = join(__dirname, '..', '..', 'bin', 'fhir-gateway.js');

/** The CLI as a user runs it: exit code, stdout and stderr, never a throw. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const r = await run(process.execPath, [BIN, ...args], { maxBuffer: 64 * 1024 * 1024 }).then((x) => ({ ...x, code: 0 }), (e) => e);
  return { code: r.code ?? 0, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

const HL7_FILE = join(CORPORA, 'fhir-converter', 'input', 'Hl7v2', 'ADT-A01-01.hl7');
const DICOM_FILE = join(CORPORA, 'dicom', 'part10', 'pydicom', 'charset_files', 'chrFren.dcm');
const SYNTHEA = join(CORPORA, 'synthea', 'bundles');
const PATIENT_BUNDLE = join(SYNTHEA, '8a4c9c04-1524-9f1c-d65b-9b17e4520fef.json');

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

describe('one argument parser for every command', () => {
  test.each(['validate', 'convert', 'ingest'])('%s --help prints its usage and options, exit 0', async (cmd) => {
    const r = await cli(cmd, '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^usage: fhir-gateway ${cmd} `));
    expect(r.stdout).toMatch(/--help +this text/);
  });

  test('--format=x and --format x both work', async () => {
    for (const args of [['--format=hl7v2'], ['--format', 'hl7v2']]) {
      const r = await cli('convert', HL7_FILE, ...args);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout.split('\n')[0]!).resourceType).toBe('Bundle');
    }
  });

  test('an unknown option, a bad value or a missing one says what was wrong and the choices, exit 2', async () => {
    const unknown = await cli('convert', HL7_FILE, '--fromat=hl7v2');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown option --fromat; the options are --format, --facility, --pretty, --explain, --help/);
    const value = await cli('convert', HL7_FILE, '--format', 'xml');
    expect(value.code).toBe(2);
    expect(value.stderr).toMatch(/--format 'xml' is not one of vn-claim, hl7v2, dicom/);
    const missing = await cli('convert', HL7_FILE, '--format');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--format needs a value: one of vn-claim, hl7v2, dicom/);
    const url = await cli('ingest', HL7_FILE);
    expect(url.code).toBe(2);
    expect(url.stderr).toMatch(/--url is required/);
    const profile = await cli('validate', HL7_FILE, '--profile');
    expect(profile.code).toBe(2);
  });
});

describe('convert never answers a file of another format with silence', () => {
  test.each([
    [ENVELOPE_FILE, 'hl7v2', /looks like a claim XML file \(GIAMDINHHS envelope\), not hl7v2: use --format vn-claim/],
    [HL7_FILE, 'vn-claim', /looks like an HL7 v2 ER7 message \(ADT\^A01.*\), not vn-claim: use --format hl7v2/],
    [DICOM_FILE, 'hl7v2', /looks like a DICOM Part 10 file, not hl7v2: use --format dicom/],
    [PATIENT_BUNDLE, 'vn-claim', /nothing converted: .* looks like a FHIR JSON Bundle \(transaction\)/],
    [PATIENT_BUNDLE, 'dicom', /nothing converted: .* looks like a FHIR JSON Bundle \(transaction\)/],
  ])('%s as --format %s → exit 1, what it looks like, no output', async (file, format, says) => {
    const r = await cli('convert', file, '--format', format);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(says);
  });

  test('without --format the file says what it is', async () => {
    const hl7 = await cli('convert', HL7_FILE);
    expect(hl7.code).toBe(0);
    expect(hl7.stdout).toContain('"resourceType":"Bundle"');
    const fhir = await cli('convert', PATIENT_BUNDLE);
    expect(fhir.code).toBe(1);
    expect(fhir.stderr).toMatch(/looks like a FHIR JSON Bundle \(transaction\): not a format convert reads/);
  });
});

describe('fhir-gateway ingest: addresses, failures, load order', () => {
  let gw: TestGateway;
  let dir: string;
  beforeAll(async () => {
    gw = await startTestGateway('embedded');
    dir = mkdtempSync(join(tmpdir(), 'ingest-cli-'));
  });
  afterAll(() => gw.stop());

  test('--url takes the root, the FHIR base, or host:port, and says once what it used', async () => {
    const root = await cli('ingest', HL7_FILE, '--url', gw.url);
    expect(root.code).toBe(0);
    expect(root.stderr).not.toMatch(/sending to/);
    for (const given of [`${gw.url}/fhir`, `${gw.url}/fhir/`, gw.url.replace('http://', '')]) {
      const r = await cli('ingest', HL7_FILE, '--url', given);
      expect(r.code).toBe(0);
      expect(r.stderr.match(/sending to/g)).toHaveLength(1);
      expect(r.stderr).toContain(`sending to ${gw.url} (from --url ${given})`);
    }
  });

  test('a refused connection names the URL and the cause', async () => {
    // a port that was free a moment ago: nothing listens there
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const r = await cli('ingest', HL7_FILE, '--url', `127.0.0.1:${port}`);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cannot reach the gateway at http://127.0.0.1:${port}/ingest/hl7v2: connect ECONNREFUSED`);
  });

  test('a refused claim prints its first error, and its duplicate counts as refused too', async () => {
    const bad = join(dir, 'bad-claim.xml');
    writeFileSync(bad, envelope([episode('SYN79999.20240615.000777', (n, x) => (n === 1 ? setField(x, 'NGAY_VAO', 'x') : x))]));
    for (let i = 0; i < 2; i++) {
      const r = await cli('ingest', bad, '--url', gw.url);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/bad-claim\.xml: .*NGAY_VAO/);
      expect(r.stderr).not.toMatch(/: HTTP \d+\n/);
      expect(r.stderr).toMatch(/1 file\(s\) sent, 0 accepted, 1 not accepted/);
    }
  });

  test('an HL7 message the gateway refuses prints the ACK text', async () => {
    const f = join(dir, 'no-pid.hl7');
    writeFileSync(f, 'MSH|^~\\&|LIS|79999|GW|GW|202406150900||ORU^R01|NOPID-1|P|2.5.1\rOBX|1|NM|2345-7^Glucose^LN||abc|mmol/L|||||F\r');
    const r = await cli('ingest', f, '--url', gw.url);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no-pid\.hl7: ACK A[ER]: \S/);
  });

  test('transaction bundles before their reference data: a clear message; a folder loads batch bundles first', async () => {
    const early = await cli('ingest', PATIENT_BUNDLE, '--url', gw.url);
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(/conditional reference '(Organization|Location|Practitioner)\?identifier=.*' matched 0 resources/);
    expect(early.stderr).toMatch(/load the batch bundles of shared reference data \(Organization, Location, Practitioner\) first/);
    // Named so that name order would send the patient first.
    const folder = mkdtempSync(join(tmpdir(), 'synthea-order-'));
    symlinkSync(PATIENT_BUNDLE, join(folder, 'a-patient.json'));
    symlinkSync(join(SYNTHEA, '0-hospitalInformation1625911868739.json'), join(folder, 'z-hospitals.json'));
    symlinkSync(join(SYNTHEA, '0-practitionerInformation1625911868739.json'), join(folder, 'z-practitioners.json'));
    const r = await cli('ingest', folder, '--url', gw.url);
    expect(r.stderr).toMatch(/3 file\(s\) sent, 3 accepted, 0 not accepted/);
    expect(r.code).toBe(0);
  }, 180_000);
});
