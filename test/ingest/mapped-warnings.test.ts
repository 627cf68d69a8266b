import { readFileSync } from 'node:fs';
import { ENVELOPE_FILE } from '../vn-claim/fixtures';
import { client, type Call } from '../helpers/http';
import { startTestGateway, type TestGateway } from '../helpers/gateway';

/** Every issue anywhere in a JSON answer (entries' outcomes included). */
function issuesIn(x: unknown): { severity: string; diagnostics?: string }[] {
  if (Array.isArray(x)) return x.flatMap(issuesIn);
  if (typeof x !== 'object' || x === null) return [];
  const o = x as Record<string, unknown>;
  return [...(o.resourceType === 'OperationOutcome' ? (o.issue as never[]) : []), ...Object.entries(o).filter(([k]) => k !== 'issue').flatMap(([, v]) => issuesIn(v))];
}
const dom6 = (issues: { diagnostics?: string }[]) => issues.filter((i) => /dom-6/.test(i.diagnostics ?? ''));

// A validator policy, the same on either store.
describe('the gateway does not warn about what it mapped itself', () => {
  let gw: TestGateway;
  let fhir: Call;
  beforeAll(async () => {
    gw = await startTestGateway('embedded');
    fhir = client(gw.fhir);
  });
  afterAll(() => gw.stop());

  test('a claim file from the corpus: no dom-6 (narrative) warning in the answer or the message log', async () => {
    const r = await fetch(`${gw.url}/ingest/vn-claim`, { method: 'POST', headers: { 'content-type': 'application/xml' }, body: readFileSync(ENVELOPE_FILE) });
    const body = await r.json();
    expect(r.status).toBe(200);
    expect((body as any).entry.length).toBeGreaterThan(10);
    expect(dom6(issuesIn(body))).toEqual([]);
    const logged = await client(gw.url)('GET', `/ingest/messages/${r.headers.get('x-ingest-message-id')}`);
    expect(dom6(issuesIn(logged.body))).toEqual([]);
  });

  test('a resource a client sends without narrative still gets dom-6 from $validate and on write', async () => {
    const patient = { resourceType: 'Patient', name: [{ family: 'Đỗ', given: ['Minh'] }] };
    const v = await fhir('POST', '/Patient/$validate', patient);
    expect(v.status).toBe(200);
    expect(dom6(issuesIn(v.body))).toEqual([expect.objectContaining({ severity: 'warning' })]);
    const w = await fhir('POST', '/Patient', patient, { prefer: 'return=OperationOutcome' });
    expect(w.status).toBe(201);
    expect(dom6(issuesIn(w.body))).toHaveLength(1);
  });
});
