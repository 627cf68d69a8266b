import { loadConfig, parseSize } from '../src/config';

test('defaults give a working gateway on a fresh machine', () => {
  // Each part's own settings are checked with that part; these are the ones every gateway reads.
  expect(loadConfig({})).toMatchObject({
    port: 8080,
    host: '127.0.0.1',
    dataDir: './data',
    logLevel: 'info',
    bodyLimit: 20 * 1024 ** 2,
    ingestBodyLimit: 100 * 1024 ** 2,
    defaultFacility: 'local',
    mllpPort: 2575,
    mllpHost: '127.0.0.1',
    hl7: {},
    cacheTtlSeconds: 300,
    searchLimits: { maxParams: 100, maxValues: 100, maxChain: 4, maxIncludes: 20 },
    allowedHosts: [],
  });
});

test('values are read and converted; an empty variable counts as unset', () => {
  const c = loadConfig({ PORT: '', MLLP_PORT: 'off', BODY_LIMIT: '512kb', HL7_CONFIG: '{"facility":"79001"}', REDIS_URL: 'redis://127.0.0.1:6379', CACHE_TTL_SECONDS: '0' });
  expect(c).toMatchObject({ port: 8080, mllpPort: -1, bodyLimit: 512 * 1024, hl7: { facility: '79001' }, redisUrl: 'redis://127.0.0.1:6379', cacheTtlSeconds: 0 });
});

test('one error names every bad variable, and never echoes a URL', () => {
  let message = '';
  try {
    loadConfig({ PORT: 'x', MLLP_PORT: 'of', LOG_LEVEL: 'loud', BODY_LIMIT: '10 parsecs', HL7_CONFIG: '{', DATABASE_URL: 'postgres//u:secret@db', CACHE_TTL_SECONDS: '-1', HOST: '0.0.0.0' });
  } catch (e) {
    message = (e as Error).message;
  }
  const named = message.split('\n').slice(1).map((l) => l.trim().split(':')[0]);
  expect(named.sort()).toEqual(['BODY_LIMIT', 'CACHE_TTL_SECONDS', 'DATABASE_URL', 'HL7_CONFIG', 'LOG_LEVEL', 'MLLP_PORT', 'PORT']);
  expect(message).toMatch(/BODY_LIMIT: must be a size such as 10mb/);
  expect(message).toMatch(/LOG_LEVEL: .*info/);
  expect(message).not.toContain('secret');
});

test('a port above 65535 is refused', () => {
  expect(() => loadConfig({ PORT: '70000' })).toThrow(/PORT: must be at most 65535/);
});

test('parseSize keeps its units', () => {
  expect(parseSize('10mb')).toBe(10 * 1024 ** 2);
  expect(parseSize('2 GB')).toBe(2 * 1024 ** 3);
  expect(() => parseSize('ten')).toThrow(/invalid size/);
});
