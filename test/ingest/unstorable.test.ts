import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { issue, toOperationOutcome } from '../../src/fhir/outcome';
import { MessageLog } from '../../src/store/message-log';
import { join } from 'node:path';
import { CORPORA } from '../helpers/corpora';
import { client, type Call } from '../helpers/http';
import { STORES, startTestGateway, type TestGateway } from '../helpers/gateway';
import { adtA04, errSegments, msa } from './hl7v2-messages';

/**
 * Characters PostgreSQL refuses (NUL, unpaired surrogates): the message is quarantined with the
 * source field named, never left `received` because its status could not be written; DICOM's
 * NUL padding is not such a character.
 */
const envelope = readFileSync(join(CORPORA, 'vn', 'synthetic', 'giamdinhhs-outpatient-synthetic.xml'), 'utf8');
const ctSmall = readFileSync(join(CORPORA, 'dicom', 'part10', 'pydicom', 'test_files', 'CT_small.dcm'));

/** The envelope with XML1's HO_TEN replaced by `name` (raw text inside the inner, base64-encoded table). */
function claimWithName(name: string): string {
  return envelope.replace(/<NOIDUNGFILE>([^<]+)<\/NOIDUNGFILE>/g, (_m, b64: string) => {
    const xml = Buffer.from(b64, 'base64').toString('utf8');
    if (!/<HO_TEN>/.test(xml)) return _m;
    return `<NOIDUNGFILE>${Buffer.from(xml.replace(/<HO_TEN>[\s\S]*?<\/HO_TEN>/, `<HO_TEN>${name}</HO_TEN>`), 'utf8').toString('base64')}</NOIDUNGFILE>`;
  });
}

/** CT_small with one byte of an element's value replaced. */
function ctWith(offset: number, byte: number): Buffer {
  const b = Buffer.from(ctSmall);
  b[offset] = byte;
  return b;
}

describe.each(STORES)('characters no store can keep (%s store)', (store) => {
  let gw: TestGateway;
  let ingest: Call;
  let fhir: Call;
  beforeAll(async () => {
    gw = await startTestGateway(store);
    ingest = client(gw.url);
    fhir = client(gw.fhir);
  });
  afterAll(() => gw.stop());

  const statusOf = async (id: string) => (await ingest('GET', `/ingest/messages/${id}`)).body;

  test('HL7: a NUL in PID-5 → AE naming PID-5, the message quarantined and kept', async () => {
    const r = await fetch(`${gw.url}/ingest/hl7v2`, { method: 'POST', headers: { 'content-type': 'x-application/hl7-v2+er7' }, body: adtA04({ controlId: 'NUL-PID5', patientName: 'Nguy\u0000n^An' }) });
    const ack = Buffer.from(await r.arrayBuffer()).toString('utf8');
    expect(r.status).toBe(200);
    expect(msa(ack)?.[2]).toBe('AE');
    expect(errSegments(ack).join('\n')).toMatch(/PID\^1\^5.*PID-5 holds a character that cannot be stored/);
    const m = await statusOf(r.headers.get('x-ingest-message-id')!);
    expect(m.status).toBe('quarantined');
    expect((await fetch(`${gw.url}/ingest/messages/${m.id}/raw`)).status).toBe(200);
  });

  test('HL7: a NUL in MSH-4 → an ACK naming MSH-4, not a 500; the raw message is kept', async () => {
    const r = await fetch(`${gw.url}/ingest/hl7v2`, { method: 'POST', headers: { 'content-type': 'x-application/hl7-v2+er7' }, body: adtA04({ controlId: 'NUL-MSH4', sendingFacility: '790\u000001' }) });
    expect(r.status).toBe(200);
    const ack = Buffer.from(await r.arrayBuffer()).toString('utf8');
    expect(msa(ack)?.[2]).toMatch(/AE|AR/);
    expect(errSegments(ack).join('\n')).toMatch(/MSH\^1\^4/);
    const m = await statusOf(r.headers.get('x-ingest-message-id')!);
    expect(m.status).toMatch(/quarantined|rejected/);
    expect(Buffer.from(await (await fetch(`${gw.url}/ingest/messages/${m.id}/raw`)).arrayBuffer()).includes(0)).toBe(true);
  });

  test('claim XML: a NUL or an unpaired surrogate in HO_TEN → quarantined naming XML1[0].HO_TEN', async () => {
    for (const name of ['Nguy\u0000n Văn An', 'Nguy&#xD800;n Văn An']) {
      const r = await fetch(`${gw.url}/ingest/vn-claim`, { method: 'POST', headers: { 'content-type': 'application/xml' }, body: claimWithName(name) });
      const body = (await r.json()) as any;
      expect(r.status).toBe(422);
      expect(r.headers.get('x-ingest-status')).toBe('quarantined');
      expect(JSON.stringify(body)).toContain('XML1[0].HO_TEN holds a character that cannot be stored');
      expect((await statusOf(r.headers.get('x-ingest-message-id')!)).status).toBe('quarantined');
    }
  });

  test('DICOM: NUL padding is stripped; a NUL inside a value → quarantined naming the tag', async () => {
    // StudyDescription (0008,1030) "e+1 " padded with NUL instead of a space
    const padded = await fetch(`${gw.url}/ingest/dicom`, { method: 'POST', headers: { 'content-type': 'application/dicom' }, body: ctWith(758 + 8 + 3, 0) });
    expect(padded.status).toBe(200);
    const loc = ((await padded.json()) as any).entry.map((e: any) => e.response.location).find((l: string) => l.startsWith('ImagingStudy/'));
    expect((await fhir('GET', `/${loc.split('/_history')[0]}`)).body.description).toBe('e+1');
    // PatientID (0010,0020) "1CT1" with a NUL in the middle
    const inner = await fetch(`${gw.url}/ingest/dicom`, { method: 'POST', headers: { 'content-type': 'application/dicom' }, body: ctWith(952 + 8 + 1, 0) });
    expect(inner.status).toBe(422);
    expect(inner.headers.get('x-ingest-status')).toBe('quarantined');
    expect(JSON.stringify(await inner.json())).toContain('(0010,0020) holds a character that cannot be stored');
    // DICOM JSON: the same rule
    const json = [{ '0020000D': { vr: 'UI', Value: ['1.2.3.4'] }, '00100020': { vr: 'LO', Value: ['BN\u0000X'] }, '00080061': { vr: 'CS', Value: ['CT'] } }];
    const q = await fetch(`${gw.url}/ingest/dicom`, { method: 'POST', headers: { 'content-type': 'application/dicom+json' }, body: JSON.stringify(json) });
    expect(q.status).toBe(422);
    expect(JSON.stringify(await q.json())).toContain('(0010,0020) holds a character');
  });

  test('the final status is written whatever the outcome quotes', async () => {
    const log = new MessageLog(gw.db);
    const id = randomUUID();
    await log.append({ id, feed: 'hl7v2', facility: 'F\u0000', sourceKey: 'A\u0000|B', checksum: 'c'.repeat(64), size: 1, receivedAt: new Date().toISOString() }, Buffer.from('x'));
    const quoted = toOperationOutcome([issue('error', 'value', 'value "a\u0000b\ud800" is not a date', 'PID-7')]);
    expect(await log.finish(id, 1, 'quarantined', { units: [{ index: 0, sourceKey: 'A\u0000|B\udc00', status: 'quarantined', outcome: quoted }], outcome: quoted })).toBe(true);
    const m = await log.get(id);
    expect(m!.status).toBe('quarantined');
    expect(JSON.stringify(m!.outcome)).toContain('a\ufffdb\ufffd');
  });

  test('nothing is left received', async () => {
    expect((await ingest('GET', '/ingest/messages?status=received')).body.total).toBe(0);
  });
});
