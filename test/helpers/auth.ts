import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type KeyLike } from 'jose';

/** A registered client of a test: its entry in AUTH_CLIENTS_FILE and its private key. */
export interface TestClient {
  entry: Record<string, unknown> & { clientId: string; facility: string; scope: string };
  privateKey: KeyLike;
  alg: string;
  kid: string;
}

export async function makeClient(clientId: string, facility: string, scope: string, extra: Record<string, unknown> = {}, alg = 'ES384'): Promise<TestClient> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const kid = `${clientId}-k1`;
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg };
  return { entry: { clientId, name: `${clientId} test`, facility, scope, jwks: { keys: [jwk] }, ...extra }, privateKey, alg, kid };
}

export function writeClientsFile(clients: TestClient[], dir = mkdtempSync(join(tmpdir(), 'gw-auth-'))): string {
  const file = join(dir, 'clients.json');
  writeFileSync(file, JSON.stringify(clients.map((c) => c.entry), null, 2));
  return file;
}

export interface AssertionOverrides {
  iss?: string;
  sub?: string;
  aud?: string;
  exp?: number;
  jti?: string;
  kid?: string;
  key?: KeyLike | Uint8Array;
  alg?: string;
  header?: Record<string, unknown>;
}

export async function assertion(c: TestClient, tokenUrl: string, o: AssertionOverrides = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: o.alg ?? c.alg, kid: o.kid ?? c.kid, typ: 'JWT', ...(o.header ?? {}) })
    .setIssuer(o.iss ?? c.entry.clientId)
    .setSubject(o.sub ?? c.entry.clientId)
    .setAudience(o.aud ?? tokenUrl)
    .setExpirationTime(o.exp ?? now + 240)
    .setJti(o.jti ?? randomUUID())
    .sign(o.key ?? c.privateKey);
}

export async function requestToken(base: string, form: Record<string, string>): Promise<{ status: number; body: any; headers: Headers }> {
  const r = await fetch(`${base}/auth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });
  return { status: r.status, body: await r.json(), headers: r.headers };
}

export const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** A token for `c`, asking for `scope` (the registered scope by default). */
export async function tokenFor(base: string, c: TestClient, scope = c.entry.scope): Promise<string> {
  const r = await requestToken(base, { grant_type: 'client_credentials', scope, client_assertion_type: ASSERTION_TYPE, client_assertion: await assertion(c, `${base}/auth/token`) });
  if (r.status !== 200) throw new Error(`token refused: ${JSON.stringify(r.body)}`);
  return r.body.access_token as string;
}
