import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileVerdict, orderHint } from '../../src/cli/answers';
import { gatewayRoot, loadOrder } from '../../src/cli/commands/ingest';
import { sniff } from '../../src/ingest/sniff';
import { CORPORA } from '../helpers/corpora';
import { ENVELOPE_FILE, inner } from '../vn-claim/fixtures';

/** The pure parts of the CLI: what a file is, what the gateway answered, where to send. */
const headers = (h: Record<string, string> = {}) => ({ get: (k: string) => h[k.toLowerCase()] ?? null });

test.each<[string, Buffer, string]>([
  ['claim envelope', readFileSync(ENVELOPE_FILE), 'vn-claim'],
  ['bare claim table', Buffer.from(inner(1)), 'vn-claim'],
  ['HL7 v2', readFileSync(join(CORPORA, 'fhir-converter', 'input', 'Hl7v2', 'ADT-A01-01.hl7')), 'hl7v2'],
  ['DICOM Part 10', readFileSync(join(CORPORA, 'dicom', 'part10', 'pydicom', 'charset_files', 'chrFren.dcm')), 'dicom'],
  ['FHIR JSON', readFileSync(join(CORPORA, 'synthea', 'bundles', '0-hospitalInformation1625911868739.json')), 'fhir-json'],
  ['FHIR XML', Buffer.from('<?xml version="1.0"?><Patient xmlns="http://hl7.org/fhir"><id value="a"/></Patient>'), 'fhir-xml'],
  ['other XML', Buffer.from('<invoice><total>1</total></invoice>'), 'xml'],
  ['PDF', Buffer.from('%PDF-1.7\n...'), 'unknown'],
  ['empty', Buffer.alloc(0), 'empty'],
])('sniff: %s', (_name, bytes, kind) => {
  expect(sniff(bytes).kind).toBe(kind);
});

test('sniff reads a Bundle type from the head; batch files go first', () => {
  expect(sniff(readFileSync(join(CORPORA, 'synthea', 'bundles', '0-hospitalInformation1625911868739.json'))).bundleType).toBe('batch');
  const s = join(CORPORA, 'synthea', 'bundles');
  const files = [join(s, '8a4c9c04-1524-9f1c-d65b-9b17e4520fef.json'), ENVELOPE_FILE, join(s, '0-practitionerInformation1625911868739.json')];
  expect(loadOrder(files)).toEqual([files[2], files[0], files[1]]);
});

test.each([
  ['http://10.0.0.5:8080', 'http://10.0.0.5:8080'],
  ['http://10.0.0.5:8080/', 'http://10.0.0.5:8080'],
  ['http://10.0.0.5:8080/fhir', 'http://10.0.0.5:8080'],
  ['https://gw.benhvien.vn/fhir/', 'https://gw.benhvien.vn'],
  ['gw.benhvien.vn:8080', 'http://gw.benhvien.vn:8080'],
  ['localhost:8080/fhir', 'http://localhost:8080'],
  ['https://proxy.soyte.vn/gateway/fhir', 'https://proxy.soyte.vn/gateway'],
])('--url %s → %s', (given, root) => {
  expect(gatewayRoot(given)).toBe(root);
});

test('--url that is no http(s) address', () => {
  expect(gatewayRoot('ftp://x')).toBeUndefined();
  expect(gatewayRoot('http://')).toBeUndefined();
});

describe('fileVerdict', () => {
  test('an OperationOutcome: its first error, where', () => {
    const v = fileVerdict(422, headers({ 'x-ingest-status': 'rejected' }), JSON.stringify({ resourceType: 'OperationOutcome', issue: [{ severity: 'warning', diagnostics: 'w' }, { severity: 'error', code: 'invalid', diagnostics: 'NGAY_VAO is not a date', expression: ['XML1[0].NGAY_VAO'] }] }));
    expect(v).toEqual({ ok: false, reason: 'HTTP 422: NGAY_VAO is not a date (at XML1[0].NGAY_VAO)' });
  });

  test('a 200 response with a refused entry is a failure; a duplicate of an accepted file is not', () => {
    const bundle = { resourceType: 'Bundle', type: 'transaction-response', entry: [{ response: { status: '200 OK' } }, { response: { status: '422', outcome: { resourceType: 'OperationOutcome', issue: [{ severity: 'error', diagnostics: 'bad HOSO' }] } } }] };
    expect(fileVerdict(200, headers({ 'x-ingest-status': 'duplicate' }), JSON.stringify(bundle))).toEqual({ ok: false, reason: '1 of 2 entries not stored; entry 1: 422 bad HOSO' });
    expect(fileVerdict(200, headers({ 'x-ingest-status': 'duplicate' }), JSON.stringify({ ...bundle, entry: [bundle.entry[0]] })).ok).toBe(true);
    expect(fileVerdict(422, headers({ 'x-ingest-status': 'duplicate' }), '{"resourceType":"OperationOutcome","issue":[{"severity":"error","diagnostics":"no HOSO"}]}').ok).toBe(false);
  });

  test('an HL7 ACK: AA accepted, AE/AR with the MSA and ERR text, escapes decoded', () => {
    expect(fileVerdict(200, headers(), 'MSH|^~\\&|GW|GW|A|B|20240101||ACK^A01|1|P|2.5\rMSA|AA|M1').ok).toBe(true);
    const ae = fileVerdict(200, headers(), 'MSH|^~\\&|GW|GW|A|B|20240101||ACK^R01|1|P|2.5\rMSA|AE|M1|Message type VXU\\S\\V04 is not mapped\rERR||PID^1^7|102^Data type error^HL70357|E||||birth date \\T\\ time is not a date');
    expect(ae).toEqual({ ok: false, reason: 'ACK AE: Message type VXU^V04 is not mapped — birth date & time is not a date (at PID-1-7)' });
  });

  test('a conditional reference that matched nothing gets the load-order hint', () => {
    expect(orderHint("entry 3: 404 conditional reference 'Organization?identifier=x|1' matched 0 resources; it must match exactly one")).toMatch(/batch bundles .* first/);
    expect(orderHint('HTTP 422: something else')).toBeUndefined();
  });
});
