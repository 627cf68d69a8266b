import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MllpClient } from '../../src/listeners/mllp-client';
import { CORPORA } from '../helpers/corpora';
import { client, type Call } from '../helpers/http';
import { STORES, startTestGateway, type TestGateway } from '../helpers/gateway';
import { adtA04, errSegments, msa } from './hl7v2-messages';

const envelope = readFileSync(join(CORPORA, 'vn', 'synthetic', 'giamdinhhs-outpatient-synthetic.xml'), 'utf8');

describe.each(STORES)('intake edges (%s store)', (store) => {
  let gw: TestGateway;
  let ingest: Call;
  beforeAll(async () => {
    gw = await startTestGateway(store);
    ingest = client(gw.url);
  });
  afterAll(() => gw.stop());

  const postHl7 = async (body: Buffer | string, contentType = 'x-application/hl7-v2+er7') => {
    const r = await fetch(`${gw.url}/ingest/hl7v2`, { method: 'POST', headers: { 'content-type': contentType }, body });
    return { status: r.status, headers: r.headers, text: Buffer.from(await r.arrayBuffer()).toString('utf8') };
  };

  test('a raw message is downloaded as an attachment, never rendered with the type the sender claimed', async () => {
    const html = '<html><script>alert(1)</script></html>';
    // the DICOM route keeps what it cannot read (rejected), with the content type the sender claimed
    const up = await fetch(`${gw.url}/ingest/dicom`, { method: 'POST', headers: { 'content-type': 'text/html' }, body: html });
    expect(up.status).toBe(422);
    const messageId = up.headers.get('x-ingest-message-id')!;
    const raw = await fetch(`${gw.url}/ingest/messages/${messageId}/raw`);
    expect(raw.status).toBe(200);
    expect(raw.headers.get('content-type')).toBe('application/octet-stream');
    expect(raw.headers.get('content-disposition')).toMatch(/^attachment/);
    expect(raw.headers.get('x-content-type-options')).toBe('nosniff');
    expect(raw.headers.get('x-original-content-type')).toBe('text/html');
    expect(await raw.text()).toBe(html);
  });

  test('HL7: the same MSH-10 from the same sender is a duplicate even with another MSH-7; from another sender it is not', async () => {
    const first = await postHl7(adtA04({ controlId: 'DUP-0001', timestamp: '20240615101500' }));
    expect(msa(first.text)?.[2]).toBe('AA');
    const resent = await postHl7(adtA04({ controlId: 'DUP-0001', timestamp: '20240615101733' }));
    expect(msa(resent.text)?.[2]).toBe('AA');
    const dups = (await ingest('GET', '/ingest/messages?feed=hl7v2&status=duplicate')).body.messages;
    expect(dups).toHaveLength(1);
    const original = (await ingest('GET', '/ingest/messages?feed=hl7v2&status=accepted')).body.messages.find((m: any) => m.id === dups[0].duplicateOf);
    expect(original.sourceKey).toBe('HIS^79001|DUP-0001');
    const other = await postHl7(adtA04({ controlId: 'DUP-0001', sendingApp: 'LIS', timestamp: '20240615101500' }));
    expect(msa(other.text)?.[2]).toBe('AA');
    expect((await ingest('GET', '/ingest/messages?feed=hl7v2&status=duplicate')).body.total).toBe(1);
    expect((await ingest('GET', '/ingest/messages?feed=hl7v2&status=accepted')).body.messages.map((m: any) => m.sourceKey)).toContain('LIS^79001|DUP-0001');
  });

  test('a duplicate gets the first answer: a quarantined claim file 422 again, with the duplicate headers', async () => {
    const broken = envelope.replace(/<NOIDUNGFILE>([^<]{40})/, '<NOIDUNGFILE>$1%%%not base64%%%');
    const send = () => fetch(`${gw.url}/ingest/vn-claim`, { method: 'POST', headers: { 'content-type': 'application/xml' }, body: broken }).then(async (r) => ({ status: r.status, headers: r.headers, body: (await r.json()) as any }));
    const first = await send();
    expect(first.status).toBe(422);
    expect(first.headers.get('x-ingest-status')).toBe('quarantined');
    const again = await send();
    expect(again.status).toBe(422);
    expect(again.headers.get('x-ingest-status')).toBe('duplicate');
    expect(again.headers.get('x-ingest-duplicate-of')).toBe(first.headers.get('x-ingest-message-id'));
    expect(again.body.resourceType).toBe('OperationOutcome');
    expect(again.body.issue.map((i: any) => i.diagnostics)).toEqual(first.body.issue.map((i: any) => i.diagnostics));
  });

  test('a duplicate HL7 message gets the first ACK code and ERR segments, over MLLP and over HTTP', async () => {
    const noPid3 = (controlId: string, ts: string) => Buffer.from(adtA04({ controlId, timestamp: ts, patientId: '' }).toString('utf8').replace(/PID\|1\|\|[^|]*\|/, 'PID|1|||'), 'utf8');
    const c = await MllpClient.connect(gw.mllpPort!);
    try {
      const first = await c.send(noPid3('AE-0001', '20240615101500'));
      expect(msa(first)?.[2]).toBe('AE');
      expect(errSegments(first).length).toBeGreaterThan(0);
      const again = await c.send(noPid3('AE-0001', '20240615102000'));
      expect(msa(again)?.[2]).toBe('AE');
      expect(msa(again)?.[3]).toBe('AE-0001');
      expect(errSegments(again)).toEqual(errSegments(first));
      // over HTTP: the same answer, and the intake headers the other routes send
      const http = await postHl7(noPid3('AE-0001', '20240615103000'));
      expect(http.status).toBe(200);
      expect(msa(http.text)?.[2]).toBe('AE');
      expect(errSegments(http.text)).toEqual(errSegments(first));
      expect(http.headers.get('x-ingest-status')).toBe('duplicate');
      expect(http.headers.get('x-ingest-duplicate-of')).toBeTruthy();
      expect(http.headers.get('x-ingest-message-id')).toBeTruthy();
      // an accepted message's warnings come back with its duplicate too
      const warn = adtA04({ controlId: 'AA-WARN-1' });
      const a1 = await c.send(warn);
      const a2 = await c.send(warn);
      expect(msa(a1)?.[2]).toBe('AA');
      expect(errSegments(a1).length).toBeGreaterThan(0);
      expect(msa(a2)?.[2]).toBe('AA');
      expect(errSegments(a2)).toEqual(errSegments(a1));
    } finally {
      await c.close();
    }
  });

  test('wrong input says what is wrong: multipart and text bodies for claims, non-ER7 for HL7, non-DICOM as application/dicom', async () => {
    const form = new FormData();
    form.append('file', new Blob([envelope], { type: 'application/xml' }), 'claim.xml');
    const multipart = await fetch(`${gw.url}/ingest/vn-claim`, { method: 'POST', body: form });
    expect(multipart.status).toBe(415);
    const mo = (await multipart.json()) as any;
    expect(mo.resourceType).toBe('OperationOutcome');
    expect(mo.issue[0].diagnostics).toMatch(/multipart/);
    expect(mo.issue[0].diagnostics).toContain("curl --data-binary @file.xml -H 'Content-Type: application/xml'");
    for (const type of ['text/plain', 'application/x-www-form-urlencoded']) {
      const r = await fetch(`${gw.url}/ingest/vn-claim`, { method: 'POST', headers: { 'content-type': type }, body: envelope });
      expect(r.status).toBe(415);
      expect(((await r.json()) as any).issue[0].diagnostics).toContain('application/xml');
    }
    expect((await fetch(`${gw.url}/ingest/vn-claim`, { method: 'POST', headers: { 'content-type': 'text/xml; charset=utf-8' }, body: envelope })).status).not.toBe(415);

    const notEr7 = await postHl7('{"resourceType":"Patient"}');
    expect(notEr7.status).toBe(415);
    expect(JSON.parse(notEr7.text).issue[0].diagnostics).toMatch(/ER7/);

    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(400, 7)]);
    const dicom = await fetch(`${gw.url}/ingest/dicom`, { method: 'POST', headers: { 'content-type': 'application/dicom' }, body: png });
    expect(dicom.status).toBe(422);
    expect(JSON.stringify(await dicom.json())).toContain('not a DICOM Part 10 file (no DICM preamble)');
  });

  test('a key too long to index (a 3 kB MSH-10, a 3 kB MSH-4) is still logged raw, answered with an ACK, and its duplicate found', async () => {
    const longId = 'L'.repeat(3000);
    const first = await postHl7(adtA04({ controlId: longId }));
    expect(first.status).toBe(200);
    expect(msa(first.text)?.[2]).toMatch(/AA|AE/);
    const id = first.headers.get('x-ingest-message-id')!;
    expect((await fetch(`${gw.url}/ingest/messages/${id}/raw`)).status).toBe(200);
    const again = await postHl7(adtA04({ controlId: longId, timestamp: '20240615111111' }));
    expect(again.headers.get('x-ingest-status')).toBe('duplicate');
    expect(again.headers.get('x-ingest-duplicate-of')).toBe(id);
    // a facility (MSH-4) too long to index
    const wide = await postHl7(adtA04({ controlId: 'WIDE-1', sendingFacility: 'F'.repeat(3000) }));
    expect(wide.status).toBe(200);
    expect(msa(wide.text)?.[2]).toMatch(/AA|AE|AR/);
    expect((await fetch(`${gw.url}/ingest/messages/${wide.headers.get('x-ingest-message-id')}/raw`)).status).toBe(200);
    // a NUL in a list filter is no 500 either
    expect((await ingest('GET', '/ingest/messages?facility=%00')).status).toBe(200);
  });
});
