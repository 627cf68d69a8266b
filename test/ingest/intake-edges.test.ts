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
});
