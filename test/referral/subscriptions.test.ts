import { lookup } from 'node:dns/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { hostname } from 'node:os';
import type { AddressInfo } from 'node:net';
import { WebSocket } from 'ws';
import { STORES, startTestGateway, type TestGateway } from '../helpers/gateway';
import { client, type Call } from '../helpers/http';
import { guardedLookup } from '../../src/subscriptions/rules';

/**
 * R4 Subscriptions, rest-hook, through real HTTP both ways: the receiver is a loopback server
 * that records what it is sent and can be told to fail or be down.
 */
const PC = 'http://fhir.ehealth.gov.vn/core/sid/provider-code';

class Receiver {
  got: { body: any; headers: IncomingMessage['headers']; path: string }[] = [];
  failNext = 0;
  attempts = 0;
  private server: Server | undefined;
  port = 0;

  async start(port = 0): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.attempts++;
        if (this.failNext > 0) {
          this.failNext--;
          res.statusCode = 503;
          return res.end();
        }
        const text = Buffer.concat(chunks).toString('utf8');
        this.got.push({ body: text ? JSON.parse(text) : undefined, headers: req.headers, path: req.url ?? '' });
        res.statusCode = 200;
        res.end();
      });
    });
    await new Promise<void>((r) => this.server!.listen(port, '127.0.0.1', () => r()));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => {
      this.server?.close(() => r());
      this.server?.closeAllConnections();
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }
}

async function until<T>(what: () => Promise<T> | T, ok: (v: T) => boolean, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await what();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe.each(STORES)('Subscriptions, rest-hook (%s store)', (store) => {
  let gw: TestGateway;
  let fhir: Call;
  const rx = new Receiver();
  beforeAll(async () => {
    gw = await startTestGateway(store, { mllpPort: -1, subscriptionRetryBaseMs: 40, subscriptionRetryMaxMs: 400, subscriptionPollMs: 50, subscriptionErrorAfter: 3 });
    fhir = client(gw.fhir);
    await rx.start();
    for (const code of ['01016', '01003']) await fhir('PUT', `/Organization/org-${code}`, { resourceType: 'Organization', id: `org-${code}`, identifier: [{ system: PC, value: code }] });
  }, 120_000);
  afterAll(async () => {
    await gw.stop();
    await rx.stop();
  });
  beforeEach(() => {
    rx.got = [];
    rx.failNext = 0;
    rx.attempts = 0;
  });

  const subscribe = async (criteria: string, endpoint = rx.url) => {
    const r = await fhir('POST', '/Subscription', { resourceType: 'Subscription', status: 'requested', reason: 'worklist', criteria, channel: { type: 'rest-hook', endpoint, payload: 'application/fhir+json', header: ['Authorization: Bearer hook-secret'] } });
    expect([r.status, r.body.status]).toEqual([201, 'active']);
    return r.body;
  };
  const task = (owner: string, note: string) => ({ resourceType: 'Task', status: 'requested', intent: 'order', requester: { reference: 'Organization/org-01016' }, owner: { reference: `Organization/org-${owner}` }, identifier: [{ system: 'urn:test:scenario', value: note.replace(/ /g, '-') }] });
  const as = (f: string) => (m: string, p: string, b?: unknown) => client(gw.fhir)(m, p, b, { 'x-facility-code': f });

  test('a subscriber on the receiving worklist is notified of each step, in order, and of nothing else', async () => {
    const sub = await subscribe('Task?owner=Organization/org-01003');
    let t = (await as('01016')('POST', '/Task', task('01003', 'chuyển tuyến'))).body;
    await as('01016')('POST', '/Task', task('01016', 'not for the central hospital'));
    for (const status of ['received', 'accepted', 'in-progress', 'completed']) {
      const r = await as('01003')('PUT', `/Task/${t.id}`, { ...t, status, meta: undefined });
      expect(r.status).toBe(200);
      t = r.body;
    }
    await until(() => rx.got.length, (n) => n >= 5);
    await new Promise((r) => setTimeout(r, 150));
    expect(rx.got.map((g) => [g.body.id, g.body.status])).toEqual(['requested', 'received', 'accepted', 'in-progress', 'completed'].map((s) => [t.id, s]));
    expect(rx.got.map((g) => g.body.meta.versionId)).toEqual(['1', '2', '3', '4', '5']);
    expect(rx.got[0]!.headers.authorization).toBe('Bearer hook-secret');
    expect(rx.got[0]!.headers['content-type']).toBe('application/fhir+json');
    await fhir('DELETE', `/Subscription/${sub.id}`);
  });

  test('a delete is told to the subscribers whose criteria the deleted resource met (decided in memory or searched), without a body', async () => {
    const byOwner = await subscribe('Task?owner=Organization/org-01003', `${rx.url}?by=owner`);
    // a date criterion is not decided in memory: it is searched before the delete
    const byDate = await subscribe('Task?authored-on=ge2020-01-01', `${rx.url}?by=date`);
    const t = (await as('01016')('POST', '/Task', { ...task('01003', 'to be withdrawn'), authoredOn: '2026-12-01' })).body;
    const other = (await as('01016')('POST', '/Task', { ...task('01016', 'old and elsewhere'), authoredOn: '2019-05-05' })).body;
    expect((await as('01016')('DELETE', `/Task/${t.id}`)).status).toBe(204);
    expect((await as('01016')('DELETE', `/Task/${other.id}`)).status).toBe(204);
    await until(() => rx.got.length, (n) => n >= 4);
    await new Promise((r) => setTimeout(r, 150));
    const seen = (by: string) => rx.got.filter((g) => g.path.endsWith(`by=${by}`)).map((g) => (g.body ? `${g.body.id} v${g.body.meta.versionId}` : `deleted ${g.headers['x-fhir-deleted']}`));
    for (const by of ['owner', 'date']) expect([by, seen(by)]).toEqual([by, [`${t.id} v1`, `deleted Task/${t.id}/_history/2`]]);
    await fhir('DELETE', `/Subscription/${byOwner.id}`);
    await fhir('DELETE', `/Subscription/${byDate.id}`);
  });

  (store === 'postgres' ? test : test.skip)('writers matching one subscription commit one after another, so the receiver gets the changes in commit order', async () => {
    const sub = await subscribe('Task?owner=Organization/org-01003', `${rx.url}?by=order`);
    // one delivery first, so the subscription's delivery row exists (a new one would make the writers wait on its insert instead)
    await as('01016')('POST', '/Task', task('01003', 'warm-up'));
    await until(() => rx.got.length, (n) => n >= 1);
    // the receiver is away until both writes are in, so it gets them from the queue, by sequence
    rx.failNext = 1000;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const finished: string[] = [];
    const first = gw.db.transaction(async (tx) => {
      const { resource } = gw.resources.prepare({ ...task('01003', 'first, held open'), id: 'order-first' }, { facility: '01016', feed: 'rest' }, 'Task');
      await gw.resources.commit([{ method: 'create', resourceType: 'Task', id: 'order-first', resource }], tx);
      await gate;
    }).then(() => finished.push('order-first'));
    await new Promise((r) => setTimeout(r, 100));
    const second = as('01016')('PUT', '/Task/order-second', { ...task('01003', 'second'), id: 'order-second' }).then((r) => {
      finished.push('order-second');
      return r.status;
    });
    await new Promise((r) => setTimeout(r, 400));
    // the second write waits for the first's commit instead of committing ahead of it
    expect(finished).toEqual([]);
    release();
    await first;
    expect(await second).toBe(201);
    expect(finished).toEqual(['order-first', 'order-second']);
    rx.failNext = 0;
    const got = await until(() => rx.got.filter((g) => g.path.endsWith('by=order') && g.body.id.startsWith('order-')), (g) => g.length >= 2, 15_000);
    expect(got.map((g) => g.body.id)).toEqual(finished);
    await fhir('DELETE', `/Subscription/${sub.id}`);
  });

  test('a receiver failing its first three deliveries gets everything, in order; the Subscription shows error, then active again', async () => {
    const sub = await subscribe('Task?identifier=urn:test:scenario|retry');
    rx.failNext = 3;
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await as('01016')('POST', '/Task', task('01003', 'retry'))).body.id);
    const errored = await until(() => fhir('GET', `/Subscription/${sub.id}`), (r) => r.body.status === 'error' || rx.got.length > 0, 5000);
    expect(errored.body.status).toBe('error');
    expect(errored.body.error).toMatch(/3 deliveries failed in a row.*HTTP 503/);
    await until(() => rx.got.length, (n) => n >= 3);
    expect(rx.got.map((g) => g.body.id)).toEqual(ids);
    expect(rx.attempts).toBe(6);
    const back = await until(() => fhir('GET', `/Subscription/${sub.id}`), (r) => r.body.status === 'active');
    expect([back.body.status, back.body.error]).toEqual(['active', undefined]);
    await fhir('DELETE', `/Subscription/${sub.id}`);
  });

  test('a receiver that is down and comes back gets what it missed, in order', async () => {
    const down = new Receiver();
    await down.start();
    const port = down.port;
    const sub = await subscribe('Task?identifier=urn:test:scenario|downtime', down.url);
    await down.stop();
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await as('01016')('POST', '/Task', task('01003', 'downtime'))).body.id);
    await new Promise((r) => setTimeout(r, 300));
    await down.start(port);
    await until(() => down.got.length, (n) => n >= 4);
    expect(down.got.map((g) => g.body.id)).toEqual(ids);
    await down.stop();
    await fhir('DELETE', `/Subscription/${sub.id}`);
  });

  test('websocket: bind, bound, then a ping per matching change (with the resource when a payload is asked)', async () => {
    const sub = (await fhir('POST', '/Subscription', { resourceType: 'Subscription', status: 'requested', reason: 'ws', criteria: 'Task?identifier=urn:test:scenario|ws', channel: { type: 'websocket', payload: 'application/fhir+json' } })).body;
    expect(sub.status).toBe('active');
    const ws = new WebSocket(`${gw.fhir.replace('http', 'ws')}/websocket`);
    const frames: string[] = [];
    ws.on('message', (d) => frames.push(d.toString()));
    await new Promise((r) => ws.once('open', r));
    ws.send('bind nonexistent');
    ws.send(`bind ${sub.id}`);
    await until(() => frames.length, (n) => n >= 2);
    expect(frames.sort()).toEqual([`bound ${sub.id}`, 'error nonexistent is not a websocket Subscription']);
    frames.length = 0;
    const t = (await as('01016')('POST', '/Task', task('01003', 'ws'))).body;
    await until(() => frames.length, (n) => n >= 2);
    expect(frames[0]).toBe(`ping ${sub.id}`);
    expect(JSON.parse(frames[1]!)).toMatchObject({ resourceType: 'Task', id: t.id });
    ws.close();
    await fhir('DELETE', `/Subscription/${sub.id}`);
  });

  test('endpoints that would reach inside the network, unknown criteria and channels are refused with where and why', async () => {
    const post = (criteria: string, channel: Record<string, unknown>) => fhir('POST', '/Subscription', { resourceType: 'Subscription', status: 'requested', reason: 'x', criteria, channel });
    const cases: [string, Record<string, unknown>, string, RegExp][] = [
      ['Task?status=requested', { type: 'rest-hook', endpoint: 'http://his.example.vn/hook' }, 'Subscription.channel.endpoint', /must be https/],
      ['Task?status=requested', { type: 'rest-hook', endpoint: 'https://10.1.2.3/hook' }, 'Subscription.channel.endpoint', /internal address/],
      ['Task?status=requested', { type: 'rest-hook', endpoint: 'https://192.168.0.9/hook' }, 'Subscription.channel.endpoint', /SUBSCRIPTION_ALLOWED_HOSTS/],
      ['Task?nonsense=1', { type: 'rest-hook', endpoint: rx.url }, 'Subscription.criteria', /not a search/],
      ['http://elsewhere/Task', { type: 'rest-hook', endpoint: rx.url }, 'Subscription.criteria', /not a search URL/],
      ['Task?status=requested', { type: 'email', endpoint: 'mailto:a@b.vn' }, 'Subscription.channel.type', /not supported/],
    ];
    for (const [criteria, channel, where, why] of cases) {
      const r = await post(criteria, channel);
      expect([criteria, r.status, r.body.issue[0].expression]).toEqual([criteria, 400, [where]]);
      expect(r.body.issue[0].diagnostics).toMatch(why);
    }
    expect((await post('Task?status=requested', { type: 'rest-hook', endpoint: 'https://his.example.vn/hook' })).status).toBe(201);
  });

  test('a name that resolves to an internal address is refused when the gateway connects, and the Subscription says why', async () => {
    // The machine's own name is a name, not the literal loopback the rules allow: it passes the
    // write, and resolves (through /etc/hosts) to a loopback or internal address.
    const name = hostname().toLowerCase();
    const { address } = await lookup(name);
    const r = await fhir('POST', '/Subscription', { resourceType: 'Subscription', status: 'requested', reason: 'x', criteria: 'Task?owner=Organization/org-01003', channel: { type: 'rest-hook', endpoint: `https://${name}:${rx.port}/hook`, payload: 'application/fhir+json' } });
    expect(r.status).toBe(201);
    await as('01016')('POST', '/Task', task('01003', 'sent to a rebound name'));
    const sub = await until(async () => (await fhir('GET', `/Subscription/${r.body.id}`)).body, (b) => b.status === 'error', 15_000);
    expect(sub.status).toBe('error');
    expect(sub.error).toContain(`${name} resolves to ${address}, an internal address`);
    expect(rx.attempts).toBe(0);
    await fhir('DELETE', `/Subscription/${r.body.id}`);
  });
});

describe('guardedLookup: the addresses a rest-hook connects to', () => {
  const fake = (addresses: string[]) => ((_h: string, _o: unknown, cb: (e: null, a: { address: string; family: number }[]) => void) => cb(null, addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })))) as never;
  const run = (host: string, addresses: string[], allowed: string[] = [], all = false) =>
    new Promise<{ err?: string; result: unknown }>((resolve) => guardedLookup(host, allowed, fake(addresses))(host, { all }, ((err: Error | null, result: unknown) => resolve({ ...(err ? { err: err.message } : {}), result })) as never));

  test('public addresses pass, in both callback shapes', async () => {
    expect(await run('his.example.vn', ['203.113.131.1'])).toEqual({ result: '203.113.131.1' });
    expect(await run('his.example.vn', ['203.113.131.1', '2001:db8::1'], [], true)).toEqual({ result: [{ address: '203.113.131.1', family: 4 }, { address: '2001:db8::1', family: 6 }] });
  });

  test('any loopback, private, link-local or unique-local answer refuses the name, unless it is allow-listed', async () => {
    for (const a of ['127.0.0.1', '10.20.30.40', '172.16.0.5', '192.168.1.1', '169.254.169.254', '::1', 'fd00::5', '::ffff:10.0.0.1', '0.0.0.0']) {
      expect([a, (await run('hook.example.vn', ['203.113.131.1', a], [], true)).err]).toEqual([a, expect.stringContaining(`resolves to ${a}, an internal address`)]);
    }
    expect((await run('pacs.benhvien.local', ['10.20.30.40'], ['pacs.benhvien.local'])).err).toBeUndefined();
  });
});
