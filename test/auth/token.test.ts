import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { decodeJwt, decodeProtectedHeader, generateKeyPair, UnsecuredJWT } from 'jose';
import { downgrade, parseScopes, permits } from '../../src/auth/scopes';
import { createTestDatabase, startTestGateway, type TestGateway } from '../helpers/gateway';
import { assertion, ASSERTION_TYPE, makeClient, requestToken, tokenFor, writeClientsFile, type TestClient } from '../helpers/auth';
import { loadConfig } from '../../src/config';
import { importPKCS8 } from 'jose';
import { main as cli } from '../../src/cli/main';

const STORE = process.env.DATABASE_URL ? 'postgres' : 'embedded';

describe('SMART scopes (pure)', () => {
  test('v2 letters and v1 words parse to the same permissions', () => {
    expect(permits(parseScopes('system/*.read'), 'Patient', 'r')).toBe(true);
    expect(permits(parseScopes('system/*.read'), 'Patient', 'c')).toBe(false);
    expect(permits(parseScopes('system/Observation.write'), 'Observation', 'u')).toBe(true);
    expect(permits(parseScopes('system/Patient.rs'), 'Observation', 'r')).toBe(false);
    expect(parseScopes('system/Patient.sr openid')).toEqual([]); // letters out of order are not a v2 scope
  });
  test('downgrade grants the registered subset, in v2 form', () => {
    expect(downgrade('system/*.cruds', 'system/Patient.rs system/Observation.rs')).toBe('system/Patient.rs system/Observation.rs');
    expect(downgrade('system/Patient.cruds', 'system/*.rs')).toBe('system/Patient.rs');
    expect(downgrade('system/*.read', 'system/*.cruds')).toBe('system/*.rs');
    expect(downgrade('system/Encounter.rs', 'system/Patient.rs')).toBe('');
  });
});

describe(`token endpoint (${STORE} store)`, () => {
  let gw: TestGateway;
  let db: { url: string; drop(): Promise<void> } | undefined;
  let his: TestClient;
  let central: TestClient;
  let file: string;
  let tokenUrl: string;

  beforeAll(async () => {
    his = await makeClient('his-20001', '20001', 'system/*.cruds');
    central = await makeClient('central-01', '01001', 'system/Patient.rs system/Observation.rs', {}, 'RS384');
    file = writeClientsFile([his, central]);
    db = STORE === 'postgres' ? await createTestDatabase() : undefined;
    gw = await startTestGateway(STORE, { mllpPort: -1, security: { ...loadConfig({}).security, mode: 'smart', clientsFile: file } }, db?.url);
    tokenUrl = `${gw.url}/auth/token`;
  }, 300_000);
  afterAll(async () => {
    await gw.stop();
    await db?.drop();
  });

  const form = async (c: TestClient, o: Parameters<typeof assertion>[2] = {}, scope = 'system/*.rs') => ({
    grant_type: 'client_credentials',
    scope,
    client_assertion_type: ASSERTION_TYPE,
    client_assertion: await assertion(c, tokenUrl, o),
  });

  test('discovery, JWKS and the capability statement advertise SMART Backend Services', async () => {
    const sc = (await (await fetch(`${gw.url}/.well-known/smart-configuration`)).json()) as any;
    expect(sc).toMatchObject({
      token_endpoint: tokenUrl,
      jwks_uri: `${gw.url}/.well-known/jwks.json`,
      grant_types_supported: ['client_credentials'],
      token_endpoint_auth_methods_supported: ['private_key_jwt'],
      token_endpoint_auth_signing_alg_values_supported: ['RS384', 'ES384'],
      capabilities: expect.arrayContaining(['client-confidential-asymmetric', 'permission-v2']),
    });
    expect(sc.scopes_supported.length).toBeGreaterThan(0);
    const jwks = (await (await fetch(sc.jwks_uri)).json()) as any;
    expect(jwks.keys.length).toBeGreaterThanOrEqual(1);
    for (const k of jwks.keys) expect(k.d).toBeUndefined();
    const cs = (await (await fetch(`${gw.url}/fhir/metadata`)).json()) as any;
    const sec = cs.rest[0].security;
    expect(sec.service[0].coding[0].code).toBe('SMART-on-FHIR');
    const uris = sec.extension.find((e: any) => e.url.endsWith('oauth-uris'));
    expect(uris.extension).toContainEqual({ url: 'token', valueUri: tokenUrl });
  });

  test('a valid ES384 and a valid RS384 assertion each get a short-lived token, no refresh token', async () => {
    for (const c of [his, central]) {
      const r = await requestToken(gw.url, await form(c));
      expect(r.status).toBe(200);
      expect(r.body.token_type).toBe('bearer');
      expect(r.body.expires_in).toBeLessThanOrEqual(300);
      expect(r.body.refresh_token).toBeUndefined();
      expect(r.headers.get('cache-control')).toBe('no-store');
      const claims = decodeJwt(r.body.access_token);
      expect(claims).toMatchObject({ client_id: c.entry.clientId, facility: c.entry.facility, scope: r.body.scope });
      expect(['ES256', 'ES384', 'EdDSA']).toContain(decodeProtectedHeader(r.body.access_token).alg);
    }
  });

  test('scope downgrade: the allowed subset is granted, an empty one refused', async () => {
    const r = await requestToken(gw.url, await form(central, {}, 'system/*.cruds'));
    expect(r.status).toBe(200);
    expect(r.body.scope).toBe('system/Patient.rs system/Observation.rs');
    const none = await requestToken(gw.url, await form(central, {}, 'system/Encounter.c'));
    expect(none.status).toBe(400);
    expect(none.body.error).toBe('invalid_scope');
  });

  test('every refusal of §1 is an RFC 6749 invalid_client', async () => {
    const now = Math.floor(Date.now() / 1000);
    const other = await generateKeyPair('ES384');
    const cases: [string, Record<string, string>][] = [
      ['unknown client', await form(await makeClient('nobody', '20001', 'system/*.rs'))],
      ['bad signature', await form(his, { key: other.privateKey })],
      ['wrong aud', await form(his, { aud: 'https://elsewhere.example/token' })],
      ['expired', await form(his, { exp: now - 120 })],
      ['exp more than 5 minutes ahead', await form(his, { exp: now + 3600 })],
      ['iss differs from sub', await form(his, { sub: 'central-01' })],
      ['unknown kid', await form(his, { kid: 'not-registered' })],
      ['jku header', await form(his, { header: { jku: 'https://evil.example/jwks' } })],
      ['HS256', await form(his, { alg: 'HS256', key: new TextEncoder().encode('a-shared-secret-of-32-bytes-long!') })],
    ];
    const unsigned = new UnsecuredJWT({ jti: randomUUID() }).setIssuer(his.entry.clientId).setSubject(his.entry.clientId).setAudience(tokenUrl).setExpirationTime(now + 60).encode();
    cases.push(['alg none', { ...(await form(his)), client_assertion: unsigned }]);
    for (const [why, f] of cases) {
      const r = await requestToken(gw.url, f);
      expect([why, r.status, r.body.error]).toEqual([why, 401, 'invalid_client']);
      expect(typeof r.body.error_description).toBe('string');
    }
  });

  test('malformed requests are invalid_request / unsupported_grant_type (400)', async () => {
    const good = await form(his);
    expect((await requestToken(gw.url, { ...good, grant_type: 'password' })).body.error).toBe('unsupported_grant_type');
    const r = await requestToken(gw.url, { ...good, client_assertion_type: 'urn:other' });
    expect([r.status, r.body.error]).toEqual([400, 'invalid_request']);
  });

  test('a jti is used once: the replay is refused, by this instance and by a second one on the same database and Redis', async () => {
    const f = await form(his);
    expect((await requestToken(gw.url, f)).status).toBe(200);
    const again = await requestToken(gw.url, f);
    expect([again.status, again.body.error]).toEqual([401, 'invalid_client']);
    if (STORE !== 'postgres' || !process.env.REDIS_URL) return;
    const gw2 = await startTestGateway(STORE, { mllpPort: -1, redisUrl: process.env.REDIS_URL, security: { ...loadConfig({}).security, mode: 'smart', clientsFile: file } }, db!.url);
    const gw1b = await startTestGateway(STORE, { mllpPort: -1, redisUrl: process.env.REDIS_URL, security: { ...loadConfig({}).security, mode: 'smart', clientsFile: file } }, db!.url);
    try {
      // The aud names the instance it is sent to; the jti is what both must remember.
      const jti = randomUUID();
      const a = { ...(await form(his)), client_assertion: await assertion(his, `${gw1b.url}/auth/token`, { jti }) };
      expect((await requestToken(gw1b.url, a)).status).toBe(200);
      const b = { ...(await form(his)), client_assertion: await assertion(his, `${gw2.url}/auth/token`, { jti }) };
      const r = await requestToken(gw2.url, b);
      expect([r.status, r.body.error]).toEqual([401, 'invalid_client']);
      // Both instances share the signing key kept in the database: a token from one works on the other.
      const t = await tokenFor(gw1b.url, his);
      expect((await fetch(`${gw2.url}/fhir/Patient`, { headers: { authorization: `Bearer ${t}` } })).status).toBe(200);
    } finally {
      await gw2.stop();
      await gw1b.stop();
    }
  });

  test('key rotation: JWKS shows current and previous, tokens of the previous key keep working', async () => {
    const before = await tokenFor(gw.url, his);
    const oldKid = decodeProtectedHeader(before).kid;
    const newKid = await gw.security.keys!.rotate();
    expect(newKid).not.toBe(oldKid);
    const jwks = (await (await fetch(`${gw.url}/.well-known/jwks.json`)).json()) as any;
    expect(jwks.keys.map((k: any) => k.kid)).toEqual([newKid, oldKid]);
    const after = await tokenFor(gw.url, his);
    expect(decodeProtectedHeader(after).kid).toBe(newKid);
    for (const t of [before, after]) expect((await fetch(`${gw.url}/fhir/Patient`, { headers: { authorization: `Bearer ${t}` } })).status).toBe(200);
  });

  test('the client file is read again when it changes: a new client is known without a restart', async () => {
    const lab = await makeClient('lab-20001', '20001', 'system/Observation.cruds');
    expect((await requestToken(gw.url, await form(lab, {}, 'system/Observation.c'))).body.error).toBe('invalid_client');
    writeFileSync(file, JSON.stringify([his.entry, central.entry, lab.entry]));
    const r = await requestToken(gw.url, await form(lab, {}, 'system/Observation.c'));
    expect(r.status).toBe(200);
    expect(r.body.scope).toBe('system/Observation.c');
  });

  test('`clients add` registers a client and prints its private key once; that key gets a token', async () => {
    const out: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: any) => (out.push(String(chunk)), true));
    const err = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    let code: number;
    try {
      code = await cli(['clients', 'add', '--id', 'ris-20001', '--facility', '20001', '--scope', 'system/ImagingStudy.cruds system/Patient.rs', '--file', file]);
      expect(await cli(['clients', 'add', '--id', 'ris-20001', '--facility', '20001', '--scope', 'system/*.rs', '--file', file])).toBe(1); // already there
      expect(await cli(['clients', 'add', '--id', 'x', '--file', file])).toBe(2);
    } finally {
      spy.mockRestore();
      err.mockRestore();
    }
    expect(code).toBe(0);
    const pem = out.join('');
    expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    const registered = JSON.parse(require('node:fs').readFileSync(file, 'utf8')).find((c: any) => c.clientId === 'ris-20001');
    expect(registered.jwks.keys[0].d).toBeUndefined();
    const ris: TestClient = { entry: registered, privateKey: await importPKCS8(pem, 'ES384'), alg: 'ES384', kid: registered.jwks.keys[0].kid };
    const r = await requestToken(gw.url, await form(ris, {}, 'system/*.rs'));
    expect([r.status, r.body.scope]).toEqual([200, 'system/ImagingStudy.rs system/Patient.rs']);
  });
});
