import { client, type Call } from '../helpers/http';
import { STORES, startTestGateway, type TestGateway } from '../helpers/gateway';

const outcomes = (b: any) => (b.entry ?? []).filter((e: any) => e.search?.mode === 'outcome').map((e: any) => e.resource);
const param = (url: string, k: string) => new URL(url).searchParams.get(k);

describe.each(STORES)('page size limits are stated (%s store)', (store) => {
  let gw: TestGateway;
  let fhir: Call;
  let root: Call;
  beforeAll(async () => {
    gw = await startTestGateway(store);
    fhir = client(gw.fhir);
    root = client(gw.url);
    for (let i = 0; i < 3; i++) expect((await fhir('POST', '/Patient', { resourceType: 'Patient', name: [{ family: `Võ${i}` }] })).status).toBe(201);
  });
  afterAll(() => gw.stop());

  test('search: _count above the maximum is reduced, the links say the size used, the Bundle says why', async () => {
    const r = await fhir('GET', '/Patient?_count=100000');
    expect(r.status).toBe(200);
    expect(r.body.entry.filter((e: any) => e.search.mode === 'match')).toHaveLength(3);
    const self = r.body.link.find((l: any) => l.relation === 'self').url;
    expect(param(self, '_count')).toBe('1000');
    const [oo] = outcomes(r.body);
    expect(oo.issue).toEqual([expect.objectContaining({ severity: 'warning', expression: ['_count'] })]);
    expect(oo.issue[0].diagnostics).toMatch(/_count=100000 .*1000/);
  });

  test('search: a _count within the maximum is kept in the links, with no warning', async () => {
    const r = await fhir('GET', '/Patient?_count=2');
    expect(param(r.body.link.find((l: any) => l.relation === 'next').url, '_count')).toBe('2');
    expect(outcomes(r.body)).toEqual([]);
    const next = await fetch(r.body.link.find((l: any) => l.relation === 'next').url, { headers: { accept: 'application/fhir+json' } });
    expect(((await next.json()) as any).entry).toHaveLength(1);
  });

  test('/ingest/messages: the same maximum, reduced with a warning, and links with the size used', async () => {
    await fetch(`${gw.url}/ingest/hl7v2`, { method: 'POST', headers: { 'content-type': 'x-application/hl7-v2+er7' }, body: 'MSH|^~\\&|A|B|C|D|202401011200||ADT^A04|PG-1|P|2.5\rPID|1||X1^^^B^MR||Võ^An\r' });
    await fetch(`${gw.url}/ingest/hl7v2`, { method: 'POST', headers: { 'content-type': 'x-application/hl7-v2+er7' }, body: 'MSH|^~\\&|A|B|C|D|202401011200||ADT^A04|PG-2|P|2.5\rPID|1||X2^^^B^MR||Võ^Bình\r' });
    const big = await root('GET', '/ingest/messages?_count=100000');
    expect(big.status).toBe(200);
    expect(big.body.count).toBe(1000);
    expect(param(big.body.link[0].url, '_count')).toBe('1000');
    expect(big.body.outcome.issue[0]).toMatchObject({ severity: 'warning', expression: ['_count'] });
    const paged = await root('GET', '/ingest/messages?_count=1&feed=hl7v2');
    expect(paged.body).toMatchObject({ total: 2, count: 1 });
    expect(paged.body.outcome).toBeUndefined();
    const next = paged.body.link.find((l: any) => l.relation === 'next').url;
    expect(param(next, 'feed')).toBe('hl7v2');
    const page2 = await (await fetch(next)).json() as any;
    expect(page2.messages).toHaveLength(1);
    expect(page2.messages[0].id).not.toBe(paged.body.messages[0].id);
  });

  test('/ingest/messages: an unknown status is a 400 naming the statuses there are', async () => {
    const r = await root('GET', '/ingest/messages?status=acepted');
    expect(r.status).toBe(400);
    expect(r.body.issue[0].diagnostics).toMatch(/'acepted'.*received, accepted, quarantined, rejected, duplicate/);
    expect((await root('GET', '/ingest/messages?status=accepted')).status).toBe(200);
  });
});
