import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MllpClient } from '../../src/listeners/mllp-client';
import { CORPORA } from '../helpers/corpora';
import { client, type Call } from '../helpers/http';
import { STORES, startTestGateway, type TestGateway } from '../helpers/gateway';

const converter = (f: string) => readFileSync(join(CORPORA, 'fhir-converter', 'input', 'Hl7v2', f));
const msa = (ack: Buffer) => /(^|\r)MSA\|([A-Z]{2})/.exec(ack.toString('latin1'))?.[2];

describe.each(STORES)('HL7 v2 and DICOM through the intake (%s store)', (store) => {
  let gw: TestGateway;
  let fhir: Call;
  let ingest: Call;
  beforeAll(async () => {
    gw = await startTestGateway(store, { mllpAck: 'stored' });
    fhir = client(gw.fhir);
    ingest = client(gw.url);
  });
  afterAll(() => gw.stop());

  test('MLLP: connect, send, ACK after the store, resources readable over REST', async () => {
    const c = await MllpClient.connect(gw.mllpPort!);
    try {
      const before = (await fhir('GET', '/Patient?_summary=count')).body.total;
      const ack = await c.send(converter('ADT-A01-01.hl7'));
      expect(msa(ack)).toBe('AA');
      expect((await fhir('GET', '/Patient?_summary=count')).body.total).toBe(before + 1);
      const enc = await fhir('GET', '/Encounter?_source=urn:fhir-gateway:hl7v2:' + encodeURIComponent((await ingest('GET', '/ingest/messages?feed=hl7v2')).body.messages[0].facility));
      expect(enc.body.total).toBeGreaterThan(0);
      const log = await ingest('GET', '/ingest/messages?feed=hl7v2');
      expect(log.body.messages[0]).toMatchObject({ status: 'accepted', contentType: 'mllp' });
      expect((await fhir('GET', `/Provenance?_summary=count`)).body.total).toBeGreaterThan(0);

      // the same MSH-10 from the same sender: acknowledged again, not processed again
      const again = await c.send(converter('ADT-A01-01.hl7'));
      expect(msa(again)).toBe('AA');
      expect((await ingest('GET', '/ingest/messages?feed=hl7v2&status=duplicate')).body.total).toBe(1);

      // pipelined on one connection, answered in order
      const acks = await Promise.all(['ADT-A04-01.hl7', 'ADT-A08-01.hl7', 'ORU-R01-01.hl7'].map((f) => c.send(converter(f))));
      expect(acks.map(msa)).toEqual(['AA', 'AA', 'AA']);
      // garbage without MSH is refused with AR, and the connection keeps working
      expect(msa(await c.send('this is not HL7'))).toBe('AR');
      expect((await ingest('GET', '/ingest/messages?feed=hl7v2&status=rejected')).body.total).toBe(1);
      expect(msa(await c.send(converter('ADT-A02-01.hl7')))).toBe('AA');
    } finally {
      await c.close();
    }
  });

  test('HL7 v2 over HTTP answers with the ACK', async () => {
    const r = await fetch(`${gw.url}/ingest/hl7v2`, { method: 'POST', headers: { 'content-type': 'x-application/hl7-v2+er7' }, body: converter('LAB-ORU-1.hl7') });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/hl7-v2/);
    expect(msa(Buffer.from(await r.arrayBuffer()))).toBe('AA');
    expect((await fhir('GET', '/DiagnosticReport?_summary=count')).body.total).toBeGreaterThan(0);
  });

  test('DICOM Part 10 becomes an ImagingStudy; garbage is rejected and kept', async () => {
    const dcm = readFileSync(join(CORPORA, 'dicom', 'part10', 'pydicom', 'test_files', 'CT_small.dcm'));
    const r = await fetch(`${gw.url}/ingest/dicom`, { method: 'POST', headers: { 'content-type': 'application/dicom', 'x-facility-code': '01001' }, body: dcm });
    const body = (await r.json()) as any;
    expect(r.status).toBe(200);
    const loc = body.entry.map((e: any) => e.response.location).find((l: string) => l.startsWith('ImagingStudy/'));
    const study = await fhir('GET', `/${loc.split('/_history')[0]}`);
    expect(study.body.series[0].instance.length).toBeGreaterThan(0);
    expect(JSON.stringify(study.body)).not.toMatch(/PixelData|7FE00010/i);
    // a study arrives one instance per file: each adds to the stored ImagingStudy
    const mr = ['4467', '4528', '4558'].map((f) => readFileSync(join(CORPORA, 'dicom', 'part10', 'pydicom', 'test_files', 'dicomdirtests', '98892003', 'MR700', f)));
    let studyLoc = '';
    for (const file of mr) {
      const up = await fetch(`${gw.url}/ingest/dicom`, { method: 'POST', headers: { 'content-type': 'application/dicom' }, body: file });
      expect(up.status).toBe(200);
      studyLoc = ((await up.json()) as any).entry.map((e: any) => e.response.location).find((l: string) => l.startsWith('ImagingStudy/')).split('/_history')[0];
    }
    const merged = await fhir('GET', `/${studyLoc}`);
    expect(merged.body.series.flatMap((s: any) => s.instance).length).toBe(3);
    const bad = await fetch(`${gw.url}/ingest/dicom`, { method: 'POST', headers: { 'content-type': 'application/dicom' }, body: Buffer.from('DICM but not really') });
    expect(bad.status).toBe(422);
    expect(bad.headers.get('x-ingest-status')).toBe('rejected');
  });
});
