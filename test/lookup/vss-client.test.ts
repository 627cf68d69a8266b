import { Writable } from 'node:stream';
import pino from 'pino';
import { MemoryLookupCache } from '../../src/lookup/cache';
import { parseLookupQuery } from '../../src/lookup/map';
import { CardLookupService } from '../../src/lookup/service';
import { PortalConfigError, PortalError, VssClient, md5Upper, type VssClientOptions } from '../../src/lookup/vss-client';
import { FAKE_PASSWORD, FAKE_USER, FakeVss, person, type FakePerson } from '../helpers/fake-vss';

const fake = new FakeVss();
const clients: VssClient[] = [];
const mk = (o: VssClientOptions) => {
  const c = new VssClient(o);
  clients.push(c);
  return c;
};
beforeAll(() => fake.start());
afterAll(async () => {
  for (const c of clients) c.close();
  await fake.stop();
});
beforeEach(() => fake.reset());

const options = (over: Partial<VssClientOptions> = {}): VssClientOptions => ({
  baseUrl: fake.url,
  vssUsername: FAKE_USER,
  vssPassword: FAKE_PASSWORD,
  officerName: 'Trần Văn Bình',
  officerCccd: '079085000123',
  body: 'json',
  timeoutMs: 2000,
  maxConcurrent: 10,
  ...over,
});
let n = 5000;
const someone = (): FakePerson => {
  const p = person(++n);
  fake.persons.push(p);
  return p;
};
const query = (p: FakePerson) => parseLookupQuery(p.cccd, p.hoTen, '1985-03-15');

describe('VSS client (against the fake portal over HTTP)', () => {
  it('fetches one token for many concurrent first lookups, and sends the password as upper-case MD5', async () => {
    const c = mk(options({ timeoutMs: 10_000 })); // a cold first call on a loaded machine; timing is not the point here
    const ps = Array.from({ length: 8 }, someone);
    const answers = await Promise.all(ps.map((p) => c.lookup(query(p))));
    expect(answers.map((a) => a.card.maKetQua)).toEqual(Array(8).fill('000'));
    expect(fake.calls.token).toBe(1);
    expect(md5Upper(FAKE_PASSWORD)).toMatch(/^[0-9A-F]{32}$/);
  });

  it('renews a token before it expires', async () => {
    fake.tokenTtlSeconds = 60; // the client renews a minute early: this token is already due
    const c = mk(options());
    await c.lookup(query(someone()));
    await c.lookup(query(someone()));
    expect(fake.calls.token).toBe(2);
    fake.tokenTtlSeconds = 3600;
  });

  it('a wrong password is a configuration error, not a portal failure', async () => {
    const c = mk(options({ vssPassword: 'sai' }));
    await expect(c.lookup(query(someone()))).rejects.toBeInstanceOf(PortalConfigError);
  });

  it('the bulkhead bounds portal calls in flight', async () => {
    const c = mk(options({ maxConcurrent: 3, timeoutMs: 10_000 }));
    fake.latencyMs = 100;
    const ps = Array.from({ length: 12 }, someone);
    const answers = await Promise.all(ps.map((p) => c.lookup(query(p))));
    expect(answers).toHaveLength(12);
    expect(fake.maxInFlight).toBe(3);
  });

  it('the circuit opens after consecutive failures, stops calling the portal, and probes it again after the pause', async () => {
    const c = mk(options({ breakerFailures: 3, breakerPauseMs: 300 }));
    fake.fault = '500';
    for (let i = 0; i < 3; i++) await expect(c.lookup(query(someone()))).rejects.toMatchObject({ kind: 'http', status: 500 });
    const calls = fake.calls.lookup;
    expect(calls).toBe(6); // each retried once
    await expect(c.lookup(query(someone()))).rejects.toMatchObject({ kind: 'circuit-open' });
    expect(fake.calls.lookup).toBe(calls);
    await new Promise((r) => setTimeout(r, 350));
    fake.fault = 'none';
    expect((await c.lookup(query(someone()))).card.maKetQua).toBe('000');
    expect(fake.calls.lookup).toBe(calls + 1);
  });

  it('no secret reaches a log line or an error message', async () => {
    const lines: string[] = [];
    const log = pino({ level: 'trace' }, new Writable({ write: (chunk, _e, cb) => (lines.push(String(chunk)), cb()) }));
    const c = mk(options({ breakerFailures: 100 }));
    const service = new CardLookupService({ client: c, cache: new MemoryLookupCache(), resources: undefined as never, config: { ...options(), freshSeconds: 1, staleSeconds: 10 } as never, log });
    const errors: string[] = [];
    for (const fault of ['500', 'reset', 'malformed', 'slow'] as const) {
      fake.fault = fault;
      fake.slowMs = 3000;
      await service.lookup(query(someone())).catch((e: Error) => errors.push(e.message, JSON.stringify(e)));
    }
    fake.fault = 'none';
    const p = someone();
    fake.codes.set(p.maThe, '054');
    await service.lookup(query(p)).catch((e: Error) => errors.push(e.message));
    await mk(options({ vssPassword: 'sai' })).lookup(query(p)).catch((e: Error) => errors.push(e.message, JSON.stringify(e)));
    expect(errors.length).toBeGreaterThanOrEqual(6);
    expect(lines.length).toBeGreaterThanOrEqual(5);
    const all = [...lines, ...errors].join('\n');
    for (const secret of [FAKE_PASSWORD, md5Upper(FAKE_PASSWORD), md5Upper('sai'), 'token=', 'id_token', p.cccd, p.hoTen]) expect(all).not.toContain(secret);
  });

  it('kept cards wait while portal lookups are in flight, then go in one shared write; close() writes what is pending', async () => {
    const commits: { at: number; ids: string[] }[] = [];
    const resources = {
      prepare: (r: unknown) => ({ resource: r, issues: [] }),
      commit: async (writes: { resourceType: string; id: string }[]) => {
        commits.push({ at: Date.now(), ids: writes.map((w) => `${w.resourceType}/${w.id}`) });
        return [];
      },
    };
    const log = pino({ level: 'silent' });
    const service = new CardLookupService({ client: mk(options({ timeoutMs: 5000 })), cache: new MemoryLookupCache(), resources: resources as never, config: { ...options(), freshSeconds: 60, staleSeconds: 600 } as never, log });
    fake.latencyMs = 600;
    await service.lookup(query(someone()));
    // The first card's linger (200 ms) ends while the second lookup is at the portal: it waits.
    const second = service.lookup(query(someone()));
    await new Promise((r) => setTimeout(r, 300));
    expect(commits).toHaveLength(0);
    await second;
    const answeredAt = Date.now();
    await service.close();
    expect(commits).toHaveLength(1);
    expect(commits[0]!.at).toBeGreaterThanOrEqual(answeredAt - 5);
    expect(commits[0]!.ids.filter((id) => id.startsWith('Coverage/'))).toHaveLength(2);
    expect(commits[0]!.ids.filter((id) => id.startsWith('Patient/'))).toHaveLength(2);
  });

  it('a portal answer without maKetQua is garbage, not a verdict', async () => {
    const c = mk(options());
    fake.fault = 'malformed';
    await expect(c.lookup(query(someone()))).rejects.toBeInstanceOf(PortalError);
    expect(fake.calls.lookup).toBe(1);
  });
});
