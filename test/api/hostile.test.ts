import { client, type Call } from '../helpers/http';
import { startTestGateway, type TestGateway } from '../helpers/gateway';

/** Hostile and malformed input: a 4xx OperationOutcome that says why, never a 500 or a crash. */
describe('hostile input', () => {
  let gw: TestGateway;
  let call: Call;
  beforeAll(async () => {
    gw = await startTestGateway('embedded', { bodyLimit: 1024 * 1024 });
    call = client(gw.fhir);
  });
  afterAll(() => gw.stop());

  const expectOutcome = (r: { status: number; body: any }, status: number, text?: RegExp) => {
    expect(r.status).toBe(status);
    expect(r.body.resourceType).toBe('OperationOutcome');
    if (text) expect(r.body.issue[0].diagnostics).toMatch(text);
  };

  test('malformed JSON', async () => {
    expectOutcome(await call('POST', '/Patient', '{"resourceType": "Patient",'), 400, /not valid JSON/);
    expectOutcome(await call('POST', '/Patient', ''), 400, /no body/);
    expectOutcome(await call('POST', '/Patient', '[]'), 400, /must be a FHIR resource/);
    expectOutcome(await call('POST', '/Patient', '"Patient"'), 400);
    const bad = await fetch(`${gw.fhir}/Patient`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: Buffer.concat([Buffer.from('{"resourceType":"Patient","name":[{"family":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}]}')]) });
    expectOutcome({ status: bad.status, body: await bad.json() }, 400, /not valid UTF-8/);
  });

  test('__proto__ and constructor keys are refused and pollute nothing', async () => {
    const r = await call('POST', '/Patient', '{"resourceType":"Patient","__proto__":{"polluted":true},"name":[{"family":"x"}]}');
    expectOutcome(r, 400, /__proto__/);
    expect(r.body.issue[0].expression[0]).toBe('__proto__');
    const nested = await call('POST', '/Patient', '{"resourceType":"Patient","name":[{"constructor":{"prototype":{"x":1}}}]}');
    expectOutcome(nested, 400);
    expect(({} as any).polluted).toBeUndefined();
  });

  test('10,000-deep nesting is refused before any recursive code sees it', async () => {
    const deep = '{"resourceType":"Patient","extension":' + '['.repeat(10_000) + ']'.repeat(10_000) + '}';
    expectOutcome(await call('POST', '/Patient', deep), 400, /nested deeper/);
    const deepObj = '{"resourceType":"Patient","text":' + '{"div":'.repeat(5000) + '"x"' + '}'.repeat(5000) + '}';
    expectOutcome(await call('POST', '/Patient', deepObj), 400, /nested deeper/);
  });

  test('huge arrays and bodies over the limit', async () => {
    const many = { resourceType: 'Patient', name: Array.from({ length: 20_000 }, () => ({ family: 'x' })) };
    const r = await call('POST', '/Patient', many);
    expect([201, 413, 422]).toContain(r.status);
    expectOutcome(await call('POST', '/Patient', { resourceType: 'Patient', text: { status: 'generated', div: 'x'.repeat(2 * 1024 * 1024) } }), 413, /larger than the limit/);
  });

  test('wrong resourceType, unknown type, id mismatch', async () => {
    expectOutcome(await call('POST', '/Patient', { resourceType: 'Observation' }), 400, /does not match/);
    expectOutcome(await call('POST', '/Patient', { resourceType: 'Martian' }), 400, /not a FHIR R4 resource type/);
    expectOutcome(await call('POST', '/Patient', { name: [] }), 400);
    expectOutcome(await call('PUT', '/Patient/a', { resourceType: 'Patient', id: 'b' }), 400, /does not match/);
    expectOutcome(await call('GET', '/Martian?name=x'), 404);
  });

  test('malformed URL encodings and NUL bytes in parameters', async () => {
    expectOutcome(await call('GET', '/Patient?name=%E0%A4%A'), 400, /malformed URL encoding/);
    expectOutcome(await call('GET', '/Patient?name=a%00b'), 400, /NUL/);
    expectOutcome(await call('GET', `/Patient?name=${'x'.repeat(5000)}`), 400, /too long/);
  });

  test('the gateway keeps serving after all of it', async () => {
    const r = await call('POST', '/Patient', { resourceType: 'Patient', gender: 'female' });
    expect(r.status).toBe(201);
    expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
  });
});
