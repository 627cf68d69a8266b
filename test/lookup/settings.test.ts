import { loadConfig } from '../../src/config';
import { FakeVss, lookupConfig, person, type FakePerson } from '../helpers/fake-vss';
import { startTestGateway, type TestGateway } from '../helpers/gateway';
import { client, type Call } from '../helpers/http';

/** The portal's resilience settings, read from the environment, govern the gateway's portal calls. */
const ENV = { VSS_RETRIES: '3', VSS_BREAKER_FAILURES: '2', VSS_BREAKER_PAUSE_MS: '400', VSS_MAX_CONCURRENT: '2', VSS_QUEUE_MAX: '1' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const q = (p: FakePerson) => `/Coverage/$lookup?identifier=${p.cccd}&name=${encodeURIComponent(p.hoTen)}&birthdate=1985-03-15`;

test('defaults, and values out of range are refused by name', () => {
  expect(loadConfig({}).lookup).toMatchObject({ retries: 1, breakerFailures: 5, breakerPauseMs: 10_000, maxConcurrent: 10, queueMax: 10_000 });
  expect(loadConfig(ENV).lookup).toMatchObject({ retries: 3, breakerFailures: 2, breakerPauseMs: 400, maxConcurrent: 2, queueMax: 1 });
  expect(() => loadConfig({ VSS_BREAKER_FAILURES: '0', VSS_BREAKER_PAUSE_MS: '0', VSS_RETRIES: '11' })).toThrow(/VSS_BREAKER_FAILURES[\s\S]*VSS_BREAKER_PAUSE_MS|VSS_BREAKER_PAUSE_MS[\s\S]*VSS_BREAKER_FAILURES/);
  expect(() => loadConfig({ VSS_RETRIES: '11' })).toThrow(/VSS_RETRIES/);
});

describe('portal retries, breaker and bulkhead from the configuration (fake portal over HTTP)', () => {
  const fake = new FakeVss();
  let gw: TestGateway;
  let call: Call;
  let n = 7000;
  const someone = () => {
    const p = person(++n);
    fake.persons.push(p);
    return p;
  };

  beforeAll(async () => {
    await fake.start();
    const { retries, breakerFailures, breakerPauseMs, maxConcurrent, queueMax } = loadConfig(ENV).lookup;
    gw = await startTestGateway('embedded', { lookup: lookupConfig(fake.url, { retries, breakerFailures, breakerPauseMs, maxConcurrent, queueMax, timeoutMs: 2500 }) });
    call = client(gw.fhir);
  });
  afterAll(async () => {
    await gw?.stop();
    await fake.stop();
  });
  beforeEach(() => fake.reset());

  it('VSS_RETRIES retries a 5xx; VSS_BREAKER_FAILURES failed lookups open the circuit; after VSS_BREAKER_PAUSE_MS one call probes', async () => {
    fake.fault = '500';
    expect((await call('GET', q(someone()))).status).toBe(503);
    expect(fake.calls.lookup).toBe(4); // the call and three retries
    expect((await call('GET', q(someone()))).status).toBe(503);
    expect(fake.calls.lookup).toBe(8);
    // Two consecutive failures: open, the portal is not called.
    const open = await call('GET', q(someone()));
    expect([open.status, open.body.issue[0].diagnostics]).toEqual([503, expect.stringMatching(/paused/)]);
    expect(fake.calls.lookup).toBe(8);
    await sleep(450);
    fake.fault = 'none';
    expect((await call('GET', q(someone()))).status).toBe(200);
    expect(fake.calls.lookup).toBe(9);
  });

  it('VSS_MAX_CONCURRENT bounds calls in flight; past VSS_QUEUE_MAX waiting, a lookup is refused at once', async () => {
    fake.latencyMs = 600;
    const rs = await Promise.all(Array.from({ length: 4 }, () => call('GET', q(someone()))));
    expect(fake.maxInFlight).toBe(2);
    // Two in flight, one waiting, the fourth refused (a loaded machine may also time out the waiting one).
    expect(rs.filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(2);
    expect(rs.filter((r) => r.status === 503).map((r) => r.body.issue[0].diagnostics)).toContainEqual(expect.stringMatching(/too many portal calls are waiting/));
  });
});
