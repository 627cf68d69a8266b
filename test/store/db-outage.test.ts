import { client, type Call } from '../helpers/http';
import { startTestGateway, type TestGateway } from '../helpers/gateway';
import { canRunPrivatePostgres, startPrivatePostgres, type PrivatePostgres } from '../helpers/private-postgres';

/**
 * PostgreSQL paused (nothing answers) or stopped (connections refused): requests answer 503
 * `transient` with Retry-After within a bounded time, readiness says so within 2 s, and the
 * gateway serves again once the server is back. A private server, so the shared one is untouched.
 */
const maybe = canRunPrivatePostgres() ? describe : describe.skip;

const HL7 = ['MSH|^~\\&|HIS|BV01|GW|GW|20240102030405||ADT^A04|MSG-OUTAGE-1|P|2.5', 'PID|1||P-OUT-1^^^BV01^MR||NGUYEN^VAN A||19800101|M'].join('\r');

maybe('PostgreSQL paused and stopped under a running gateway', () => {
  let pg: PrivatePostgres;
  let gw: TestGateway;
  let call: Call;
  beforeAll(async () => {
    pg = await startPrivatePostgres();
    gw = await startTestGateway('postgres', { dbStatementTimeoutMs: 1000, dbConnectTimeoutMs: 1000 }, pg.url);
    call = client(gw.fhir);
  }, 120_000);
  afterAll(async () => {
    pg?.resume();
    await gw?.close();
    pg?.destroy();
  });

  const timed = async <T>(f: () => Promise<T>): Promise<[T, number]> => {
    const t = Date.now();
    const r = await f();
    return [r, Date.now() - t];
  };
  const readyz = () => fetch(`${gw.url}/readyz`).then((r) => r.status);
  const hl7 = () => fetch(`${gw.url}/ingest/hl7v2`, { method: 'POST', headers: { 'content-type': 'x-application/hl7-v2+er7' }, body: HL7 }).then(async (r) => ({ status: r.status, retryAfter: r.headers.get('retry-after') }));

  const expectTransient = (r: { status: number; headers: Headers; body: any }) => {
    expect(r.status).toBe(503);
    expect(r.body.resourceType).toBe('OperationOutcome');
    expect(r.body.issue[0].code).toBe('transient');
    expect(r.headers.get('retry-after')).toMatch(/^\d+$/);
  };

  async function outageAnswers(bound: number): Promise<void> {
    const [ready, readyMs] = await timed(readyz);
    expect(ready).toBe(503);
    expect(readyMs).toBeLessThan(3_000);
    const [replies, ms] = await timed(() =>
      Promise.all([call('GET', '/Patient/unknown-id'), call('GET', '/Patient?name=x'), call('POST', '/Patient', { resourceType: 'Patient', name: [{ family: 'Lê' }] })]),
    );
    for (const r of replies) expectTransient(r);
    expect(ms).toBeLessThan(bound);
    const h = await hl7();
    expect(h.status).toBe(503);
    expect(h.retryAfter).toMatch(/^\d+$/);
  }

  async function recovers(): Promise<void> {
    for (let i = 0; i < 100 && (await readyz()) !== 200; i++) await new Promise((r) => setTimeout(r, 200));
    expect(await readyz()).toBe(200);
    expect((await call('POST', '/Patient', { resourceType: 'Patient', name: [{ family: 'Phạm' }] })).status).toBe(201);
    expect((await call('GET', '/Patient?name=Phạm')).status).toBe(200);
  }

  test('paused: 503 transient with Retry-After within the statement timeout and grace; ready again after', async () => {
    expect((await call('POST', '/Patient', { resourceType: 'Patient', name: [{ family: 'Trước' }] })).status).toBe(201);
    pg.pause();
    try {
      await outageAnswers(10_000);
    } finally {
      pg.resume();
    }
    await recovers();
  }, 60_000);

  test('stopped: connections refused answer 503 transient at once; ready again after a restart', async () => {
    pg.stop();
    try {
      await outageAnswers(5_000);
    } finally {
      pg.start();
    }
    await recovers();
  }, 60_000);
});
