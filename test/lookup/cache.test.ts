import { randomBytes } from 'node:crypto';
import { createClient } from 'redis';
import { RedisLookupCache, open, seal } from '../../src/lookup/cache';
import { FakeVss, lookupConfig, person } from '../helpers/fake-vss';
import { startTestGateway, type TestGateway } from '../helpers/gateway';
import { client } from '../helpers/http';

describe('lookup cache encryption', () => {
  it('AES-256-GCM: round trip; another key, another Redis key or a changed byte fails', () => {
    const key = randomBytes(32);
    const s = seal(key, 'k1', '{"a":"Nguyễn"}');
    expect(s.startsWith('g1:')).toBe(true);
    expect(open(key, 'k1', s)).toBe('{"a":"Nguyễn"}');
    expect(() => open(randomBytes(32), 'k1', s)).toThrow();
    expect(() => open(key, 'k2', s)).toThrow();
    const raw = Buffer.from(s.slice(3), 'base64');
    raw[raw.length - 1] ^= 1;
    expect(() => open(key, 'k1', `g1:${raw.toString('base64')}`)).toThrow();
  });
});

const REDIS = process.env.REDIS_URL;
(REDIS ? describe : describe.skip)('lookup cache in Redis (REDIS_URL)', () => {
  const fake = new FakeVss();
  const key = randomBytes(32);
  const gws: TestGateway[] = [];
  const redis = createClient({ url: REDIS });

  let a: ReturnType<typeof client>;
  let b: ReturnType<typeof client>;
  beforeAll(async () => {
    await fake.start();
    await redis.connect();
    a = await gateway(key);
    b = await gateway(key);
  }, 180_000);
  afterAll(async () => {
    for (const g of gws) await g.stop();
    await fake.stop();
    redis.destroy();
  });

  const gateway = async (cacheKey: Buffer | undefined) => {
    const g = await startTestGateway('embedded', { redisUrl: REDIS!, lookup: lookupConfig(fake.url, cacheKey ? { cacheKey } : {}) });
    gws.push(g);
    return client(g.fhir);
  };

  it('entries are sealed and name no patient; a second gateway on the same Redis serves them when the portal fails; without the key they are not trusted', async () => {
    // Numbers unique per run: the Redis server outlives test runs.
    const p = person(Date.now() % 90_000_000);
    fake.persons.push(p);
    const path = `/Coverage/$lookup?identifier=${p.cccd}&name=${encodeURIComponent(p.hoTen)}&birthdate=1985-03-15`;
    expect((await a('GET', path)).status).toBe(200);
    const keys: string[] = [];
    for await (const batch of redis.scanIterator({ MATCH: 'fhir:lookup:*', COUNT: 1000 })) keys.push(...(Array.isArray(batch) ? batch : [batch]));
    const values = await Promise.all(keys.map((k) => redis.get(k)));
    const mine = values.filter((v) => v && v.startsWith('g1:'));
    expect(mine.length).toBeGreaterThanOrEqual(1);
    for (const text of [...keys, ...values.map(String)]) for (const secret of [p.cccd, p.maThe, p.maThe.slice(5), 'Nguyễn', p.hoTen]) expect(text).not.toContain(secret);

    await new Promise((r) => setTimeout(r, 1100)); // past LOOKUP_FRESH_SECONDS
    fake.fault = '500';
    const stale = await b('GET', path);
    expect(stale.status).toBe(200);
    expect(stale.headers.get('age')).toMatch(/^\d+$/);
    expect(stale.body.meta.tag[0].code).toBe('cache');
    // A reader without the key does not trust the sealed entry.
    const keyless = new RedisLookupCache(REDIS!, undefined);
    await keyless.connect();
    const sealed = keys[values.findIndex((v) => v?.startsWith('g1:'))]!;
    expect(await keyless.get(sealed.slice('fhir:lookup:'.length))).toBeUndefined();
    await keyless.close();
    fake.fault = 'none';
  });

  it('an entry read again is the one opened before; a newer write, by this gateway or another, is read as written', async () => {
    const k = `memo-${Date.now()}`;
    const one = new RedisLookupCache(REDIS!, key);
    const two = new RedisLookupCache(REDIS!, key);
    await one.connect();
    await two.connect();
    try {
      const first = { answer: { card: { maKetQua: '000' } }, fetchedAt: 1 } as never;
      await one.put(k, first, 60);
      const read = await one.get(k);
      expect(read).toEqual(first);
      expect(await one.get(k)).toBe(read); // the same text: not opened again
      await two.put(k, { answer: { card: { maKetQua: '010' } }, fetchedAt: 2 } as never, 60);
      expect(await one.get(k)).toMatchObject({ answer: { card: { maKetQua: '010' } }, fetchedAt: 2 });
      await redis.set(`fhir:lookup:${k}`, 'g1:AAAA'); // a damaged entry is a miss, not the last good one
      expect(await one.get(k)).toBeUndefined();
    } finally {
      await one.close();
      await two.close();
    }
  });
});
