import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTestDatabase } from '../test/helpers/gateway';
import { startChildGateway, type ChildGateway } from '../test/helpers/process';
import { eventually, sleep, CHAOS_ENV } from './helpers/load';

/**
 * kill -9 of the gateway between commit and delivery: the receiver refuses while the Tasks are
 * written (each write answered 201, so committed), the gateway dies with the notifications
 * queued, and after a restart the receiver gets exactly the missed ones, in commit order.
 */
const N = 12;

describe('kill -9 between commit and subscription delivery (PostgreSQL)', () => {
  let db: { url: string; drop(): Promise<void> };
  let gw: ChildGateway | undefined;
  let server: Server;
  let accepting = true;
  const got: string[] = [];
  const start = () =>
    startChildGateway({ ...CHAOS_ENV, DATABASE_URL: db.url, MLLP_PORT: 'off', SUBSCRIPTION_POLL_MS: '50', SUBSCRIPTION_RETRY_BASE_MS: '50', SUBSCRIPTION_RETRY_MAX_MS: '200', SUBSCRIPTION_LEASE_SECONDS: '2' }, { readyTimeoutMs: 60_000 });

  beforeAll(async () => {
    db = await createTestDatabase();
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (!accepting) {
          res.statusCode = 503;
          return res.end();
        }
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { identifier: { value: string }[] };
        got.push(body.identifier[0]!.value);
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  });
  afterAll(async () => {
    await gw?.kill('SIGKILL');
    server.closeAllConnections();
    server.close();
    await db?.drop();
  });

  test('after the restart the receiver has every notification once, in order', async () => {
    gw = await start();
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    const post = (path: string, body: unknown) => fetch(`${gw!.fhir}${path}`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(body) });
    const sub = await post('/Subscription', { resourceType: 'Subscription', status: 'requested', reason: 'chaos', criteria: 'Task?status=requested', channel: { type: 'rest-hook', endpoint, payload: 'application/fhir+json' } });
    expect(sub.status).toBe(201);
    const task = (i: number) => ({ resourceType: 'Task', status: 'requested', intent: 'order', identifier: [{ system: 'urn:test:chaos', value: `t${i}` }] });
    // The first half is delivered while the receiver accepts.
    for (let i = 0; i < N / 2; i++) expect((await post('/Task', task(i))).status).toBe(201);
    expect(await eventually(async () => got.length === N / 2, 10_000)).toBe(true);
    accepting = false;
    for (let i = N / 2; i < N; i++) expect((await post('/Task', task(i))).status).toBe(201);
    await sleep(200);
    await gw.kill('SIGKILL');
    expect(got.length).toBe(N / 2);
    accepting = true;
    gw = await start();
    expect(await eventually(async () => got.length >= N, 20_000)).toBe(true);
    await sleep(500);
    expect(got).toEqual(Array.from({ length: N }, (_, i) => `t${i}`));
  });
});
