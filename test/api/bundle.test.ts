import { client, type Call } from '../helpers/http';
import { syntheaBundle, syntheaFiles } from '../helpers/corpora';
import { STORES, startTestGateway, type TestGateway } from '../helpers/gateway';

describe.each(STORES)('transaction and batch bundles (%s store)', (store) => {
  let gw: TestGateway;
  let call: Call;
  beforeAll(async () => {
    gw = await startTestGateway(store);
    call = client(gw.fhir);
  });
  afterAll(() => gw.stop());

  test('transaction: urn:uuid references rewritten, processing order, response entries in request order', async () => {
    const tx = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: 'urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a', resource: { resourceType: 'Observation', status: 'final', code: { text: 'pulse' }, subject: { reference: 'urn:uuid:88f151c0-a954-468a-88bd-5ae15c08e059' } }, request: { method: 'POST', url: 'Observation' } },
        { fullUrl: 'urn:uuid:88f151c0-a954-468a-88bd-5ae15c08e059', resource: { resourceType: 'Patient', identifier: [{ system: 'urn:t', value: 'tx1' }] }, request: { method: 'POST', url: 'Patient' } },
        { request: { method: 'GET', url: 'Patient?identifier=urn:t|tx1' } },
      ],
    };
    const r = await call('POST', '', tx);
    expect(r.status).toBe(200);
    expect(r.body.type).toBe('transaction-response');
    const [obs, pat, get] = r.body.entry;
    expect(obs.response.status).toBe('201 Created');
    expect(pat.response.status).toBe('201 Created');
    const patientId = pat.response.location.split('/')[1];
    const o = await call('GET', `/${obs.response.location.split('/_history')[0]}`);
    expect(o.body.subject.reference).toBe(`Patient/${patientId}`);
    // GET runs after the writes, inside the same transaction
    expect(get.resource.total).toBe(1);
  });

  test('transaction is all or nothing: one invalid entry stores nothing', async () => {
    const before = (await call('GET', '/Patient?_summary=count')).body.total;
    const tx = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { resource: { resourceType: 'Patient', gender: 'male' }, request: { method: 'POST', url: 'Patient' } },
        { resource: { resourceType: 'Patient', gender: 'robot' }, request: { method: 'POST', url: 'Patient' } },
      ],
    };
    const r = await call('POST', '', tx);
    expect(r.status).toBe(422);
    expect(r.body.issue.some((i: any) => i.expression?.[0] === 'Bundle.entry[1].resource.gender')).toBe(true);
    expect((await call('GET', '/Patient?_summary=count')).body.total).toBe(before);

    const conflict = await call('POST', '', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { resource: { resourceType: 'Patient', id: 'dup' }, request: { method: 'PUT', url: 'Patient/dup' } },
        { resource: { resourceType: 'Patient', id: 'dup' }, request: { method: 'PUT', url: 'Patient/dup' } },
      ],
    });
    expect(conflict.status).toBe(400);
    expect((await call('GET', '/Patient/dup')).status).toBe(404);
  });

  test('conditional references must match exactly one resource', async () => {
    const bad = await call('POST', '', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [{ resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient?identifier=urn:t|nobody' } }, request: { method: 'POST', url: 'Observation' } }],
    });
    expect(bad.status).toBe(404);
    expect(bad.body.issue[0].diagnostics).toMatch(/matched 0/);
    // the likely cause, loading in the wrong order, is named
    expect(bad.body.issue[0].diagnostics).toMatch(/store what it points to first \(shared reference data such as Patient before the bundles that refer to it\)$/);
  });

  test('batch: entries succeed or fail independently', async () => {
    const r = await call('POST', '', {
      resourceType: 'Bundle',
      type: 'batch',
      entry: [
        { resource: { resourceType: 'Patient', gender: 'female' }, request: { method: 'POST', url: 'Patient' } },
        { resource: { resourceType: 'Patient', gender: 'robot' }, request: { method: 'POST', url: 'Patient' } },
        { request: { method: 'GET', url: 'Patient/nope' } },
        { request: { method: 'DELETE', url: 'Patient/nope' } },
      ],
    });
    expect(r.status).toBe(200);
    expect(r.body.type).toBe('batch-response');
    expect(r.body.entry.map((e: any) => e.response.status)).toEqual(['201 Created', '422', '404 Not Found', '204 No Content']);
    expect(r.body.entry[1].response.outcome.resourceType).toBe('OperationOutcome');
  });

  test('malformed bundles are 400 with a location', async () => {
    for (const [b, where] of [
      [{ resourceType: 'Bundle', type: 'document' }, 'Bundle.type'],
      [{ resourceType: 'Bundle', type: 'transaction', entry: {} }, 'Bundle.entry'],
      [{ resourceType: 'Bundle', type: 'transaction', entry: [{ resource: { resourceType: 'Patient' } }] }, 'Bundle.entry[0].request'],
      [{ resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'FETCH', url: 'Patient' } }] }, 'Bundle.entry[0].request.method'],
    ] as const) {
      const r = await call('POST', '', b);
      expect(r.status).toBe(400);
      expect(r.body.issue[0].expression[0]).toBe(where);
    }
  });

  test('every Synthea bundle loads as a transaction after its hospital and practitioner bundles', async () => {
    let resources = 0;
    const observationsBefore = (await call('GET', '/Observation?_summary=count')).body.total;
    for (const f of syntheaFiles()) {
      const r = await call('POST', '', syntheaBundle(f.file));
      expect({ file: f.file, status: r.status, issue: r.body?.issue?.[0] }).toEqual({ file: f.file, status: 200, issue: undefined });
      const failed = r.body.entry.filter((e: any) => !/^20[01]/.test(e.response.status));
      expect({ file: f.file, failed }).toEqual({ file: f.file, failed: [] });
      resources += f.entries;
    }
    expect(resources).toBe(27448 + 388 + 390);
    // conditional references were resolved to stored resources
    const enc = await call('GET', '/Encounter?_count=1&_include=Encounter:participant');
    expect(enc.body.entry.some((e: any) => e.resource.resourceType === 'Practitioner')).toBe(true);
    expect((await call('GET', '/Observation?_summary=count')).body.total - observationsBefore).toBe(12916);
    const obs = await call('GET', '/Observation?_count=1');
    expect(obs.body.entry[0].resource.subject.reference).toMatch(/^Patient\/[0-9a-f-]{36}$/);
  }, 600_000);
});
