import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MessageLog } from '../../src/store/message-log';
import { CORPORA } from '../helpers/corpora';
import { client, type Call } from '../helpers/http';
import { STORES, startTestGateway, type TestGateway } from '../helpers/gateway';

const envelope = readFileSync(join(CORPORA, 'vn', 'synthetic', 'giamdinhhs-outpatient-synthetic.xml'), 'utf8');

/** The same envelope with its HOSO repeated: the copy gets another MA_LK, or a broken table. */
function withExtraHoso(kind: 'good' | 'bad-base64'): string {
  const hoso = /<HOSO>[\s\S]*?<\/HOSO>/.exec(envelope)![0];
  let extra = hoso.replace(/<NOIDUNGFILE>([^<]+)<\/NOIDUNGFILE>/g, (_m, b64: string) => {
    const xml = Buffer.from(b64, 'base64').toString('utf8').replace(/SYN79999\.20240615\.000123/g, 'SYN79999.20240615.000124');
    return `<NOIDUNGFILE>${Buffer.from(xml, 'utf8').toString('base64')}</NOIDUNGFILE>`;
  });
  if (kind === 'bad-base64') extra = extra.replace(/<NOIDUNGFILE>([^<]{40})/, '<NOIDUNGFILE>$1%%%not base64%%%');
  return envelope.replace(/<SOLUONGHOSO>1<\/SOLUONGHOSO>/, '<SOLUONGHOSO>2</SOLUONGHOSO>').replace('</HOSO>', `</HOSO>\n${extra}`);
}

describe.each(STORES)('claim XML intake (%s store)', (store) => {
  let gw: TestGateway;
  let fhir: Call;
  let ingest: Call;
  beforeAll(async () => {
    gw = await startTestGateway(store, { ingestBodyLimit: 2 * 1024 * 1024 });
    fhir = client(gw.fhir);
    ingest = client(gw.url);
  });
  afterAll(() => gw.stop());

  const post = (body: string | Buffer, headers: Record<string, string> = {}) =>
    fetch(`${gw.url}/ingest/vn-claim`, { method: 'POST', headers: { 'content-type': 'application/xml', ...headers }, body }).then(async (r) => ({ status: r.status, headers: r.headers, body: (await r.json()) as any }));

  test('a GIAMDINHHS file becomes stored FHIR with a Provenance, and the message is logged', async () => {
    const r = await post(envelope);
    expect(r.status).toBe(200);
    expect(r.body.type).toBe('transaction-response');
    expect(r.headers.get('x-ingest-status')).toBe('accepted');
    const messageId = r.headers.get('x-ingest-message-id')!;
    const locations: string[] = r.body.entry.map((e: any) => e.response.location);
    expect(locations.some((l) => l.startsWith('Patient/'))).toBe(true);
    expect(locations.some((l) => l.startsWith('Encounter/'))).toBe(true);

    const patientId = locations.find((l) => l.startsWith('Patient/'))!.split('/')[1];
    const p = await fhir('GET', `/Patient/${patientId}`);
    expect(p.status).toBe(200);
    expect(p.body.meta.source).toBe('urn:fhir-gateway:vn-claim:79999');
    expect((await fhir('GET', `/Encounter?subject=Patient/${patientId}`)).body.total).toBeGreaterThan(0);
    const prov = await fhir('GET', `/Provenance?target=Patient/${patientId}`);
    expect(prov.body.total).toBe(1);
    expect(prov.body.entry[0].resource.entity[0].what.identifier.value).toBe(messageId);

    const m = await ingest('GET', `/ingest/messages/${messageId}`);
    expect(m.body).toMatchObject({ feed: 'vn-claim', facility: '79999', status: 'accepted', size: Buffer.byteLength(envelope) });
    expect(m.body.checksum).toMatch(/^[0-9a-f]{64}$/);
    const raw = await fetch(`${gw.url}/ingest/messages/${messageId}/raw`);
    expect(await raw.text()).toBe(envelope);
    const list = await ingest('GET', '/ingest/messages?status=accepted&facility=79999');
    expect(list.body.messages.map((x: any) => x.id)).toContain(messageId);
  });

  test('the same file again is recognised as a duplicate and changes nothing', async () => {
    const first = (await ingest('GET', '/ingest/messages?status=accepted&facility=79999')).body.messages[0];
    const patientLoc = first.units[0].resources.find((l: string) => l.startsWith('Patient/')).split('/_history')[0];
    const before = (await fhir('GET', `/${patientLoc}`)).body.meta.versionId;
    const again = await post(envelope);
    expect(again.status).toBe(200);
    expect(again.headers.get('x-ingest-status')).toBe('duplicate');
    expect(again.headers.get('x-ingest-duplicate-of')).toBe(first.id);
    expect((await fhir('GET', `/${patientLoc}`)).body.meta.versionId).toBe(before);
    expect((await ingest('GET', '/ingest/messages?status=duplicate')).body.total).toBe(1);
  });

  test('one bad HOSO among good ones: the good one is stored, the bad one quarantined with its location', async () => {
    const r = await post(withExtraHoso('bad-base64'));
    expect(r.status).toBe(200);
    expect(r.headers.get('x-ingest-status')).toBe('quarantined');
    const failed = r.body.entry.filter((e: any) => e.response.status === '422');
    expect(failed).toHaveLength(1);
    expect(failed[0].response.outcome.issue[0].expression[0]).toMatch(/NOIDUNGFILE/);
    const m = await ingest('GET', `/ingest/messages/${r.headers.get('x-ingest-message-id')}`);
    expect(m.body.units.map((u: any) => u.status)).toEqual(['accepted', 'quarantined']);
    // replay runs it again, with the same result and no duplicate resources
    const replay = await ingest('POST', `/ingest/messages/${m.body.id}/replay`);
    expect(replay.status).toBe(200);
    expect(replay.body.status).toBe('quarantined');
    expect(replay.body.attempts).toBe(2);
  });

  test('sending a corrected episode again updates instead of duplicating', async () => {
    const r = await post(withExtraHoso('good'));
    expect(r.headers.get('x-ingest-status')).toBe('accepted');
    const pats = await fhir('GET', '/Patient?_tag=http://fhir.ehealth.gov.vn/core/sid/provider-code|79999&_summary=count');
    expect(pats.body.total).toBe(1); // same patient across the episodes and files
  });

  test('unreadable messages are rejected with an OperationOutcome, and still kept', async () => {
    for (const body of ['not xml at all', '<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "xx">]><GIAMDINHHS>&x;</GIAMDINHHS>', '<GIAMDINHHS><THONGTINHOSO>']) {
      const r = await post(body);
      expect(r.status).toBe(422);
      expect(r.body.resourceType).toBe('OperationOutcome');
      expect(r.headers.get('x-ingest-status')).toBe('rejected');
      const id = r.headers.get('x-ingest-message-id');
      expect((await fetch(`${gw.url}/ingest/messages/${id}/raw`)).status).toBe(200);
    }
    expect((await post('')).status).toBe(400);
    const big = await post(Buffer.alloc(3 * 1024 * 1024, 0x41));
    expect(big.status).toBe(413);
    expect(big.body.resourceType).toBe('OperationOutcome');
  });

  test('a message persisted but never processed is finished at start-up', async () => {
    const log = new MessageLog(gw.db);
    const id = randomUUID();
    const raw = Buffer.from(withExtraHoso('good').replace(/SOLUONGHOSO/g, 'SOLUONGHOSO'), 'utf8');
    await log.append({ id, feed: 'vn-claim', facility: '79999', checksum: 'x'.repeat(64), size: raw.length, receivedAt: new Date().toISOString() }, raw);
    expect(await gw.intake.recover()).toBe(1);
    expect((await log.get(id))!.status).toBe('accepted');
  });

  test('unknown message ids and bad list parameters', async () => {
    expect((await ingest('GET', '/ingest/messages/nope')).status).toBe(404);
    expect((await ingest('POST', '/ingest/messages/nope/replay')).status).toBe(404);
    expect((await ingest('GET', '/ingest/messages?_count=abc')).status).toBe(400);
  });
});
