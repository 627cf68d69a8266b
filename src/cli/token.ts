import { randomUUID, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SignJWT } from 'jose';

/**
 * The CLI as a SMART Backend Services client of a gateway running AUTH=smart: discovers the
 * token endpoint, signs a client assertion with the client's private key (the PEM that
 * `clients add` printed, or a private JWK), and keeps the access token until shortly before
 * it expires, then fetches another. Tokens and keys are never printed.
 */
export interface ClientCredentials {
  clientId: string;
  keyFile: string;
  /** The registered key's kid (a JWK file carries its own). */
  kid?: string;
  scope: string;
}

/** Refetch this long before the token's end, so a request in flight never carries a dead one. */
const EARLY_SECONDS = 30;

function signingKey(file: string): { key: KeyObject; alg: string; kid?: string } {
  const text = readFileSync(file, 'utf8').trim();
  let key: KeyObject;
  let kid: string | undefined;
  if (text.startsWith('{')) {
    const jwk = JSON.parse(text) as { kid?: string; d?: string };
    if (!jwk.d) throw new Error(`${file} holds a public key; the client's private key is needed`);
    key = createPrivateKey({ key: jwk as never, format: 'jwk' });
    kid = jwk.kid;
  } else {
    key = createPrivateKey(text);
  }
  const type = key.asymmetricKeyType;
  const curve = key.asymmetricKeyDetails?.namedCurve;
  const alg = type === 'rsa' ? 'RS384' : type === 'ed25519' ? 'EdDSA' : type === 'ec' ? ({ secp384r1: 'ES384', prime256v1: 'ES256', secp521r1: 'ES512' } as Record<string, string>)[curve ?? ''] : undefined;
  if (!alg) throw new Error(`${file}: a ${type}${curve ? ` ${curve}` : ''} key cannot sign a client assertion; use an EC P-384 or RSA key`);
  return { key, alg, ...(kid ? { kid } : {}) };
}

export class GatewayToken {
  private token: string | undefined;
  private until = 0;
  private early = EARLY_SECONDS;
  private readonly signer: { key: KeyObject; alg: string; kid?: string };
  private endpoint: string | undefined;
  /** Tokens fetched so far (the first, then one per expiry or refusal). */
  fetched = 0;

  constructor(
    private readonly root: string,
    private readonly c: ClientCredentials,
  ) {
    this.signer = signingKey(c.keyFile);
  }

  /** `Bearer …` for the next request: the token in hand, or a new one when it is about to end. */
  async authorization(): Promise<string> {
    if (!this.token || Date.now() / 1000 >= this.until - this.early) await this.fetch();
    return `Bearer ${this.token}`;
  }

  /** The gateway refused the token (401): the next request fetches another. */
  invalidate(): void {
    this.token = undefined;
  }

  private async tokenEndpoint(): Promise<string> {
    if (this.endpoint) return this.endpoint;
    const r = await fetch(`${this.root}/.well-known/smart-configuration`);
    if (!r.ok) throw new Error(`the gateway at ${this.root} publishes no SMART configuration (HTTP ${r.status}): is it running AUTH=smart?`);
    const conf = (await r.json()) as { token_endpoint?: string };
    if (!conf.token_endpoint) throw new Error('the SMART configuration names no token_endpoint');
    this.endpoint = conf.token_endpoint;
    return this.endpoint;
  }

  private async fetch(): Promise<void> {
    const endpoint = await this.tokenEndpoint();
    const now = Math.floor(Date.now() / 1000);
    const kid = this.c.kid ?? this.signer.kid;
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: this.signer.alg, typ: 'JWT', ...(kid ? { kid } : {}) })
      .setIssuer(this.c.clientId)
      .setSubject(this.c.clientId)
      .setAudience(endpoint)
      .setIssuedAt(now)
      .setExpirationTime(now + 240)
      .setJti(randomUUID())
      .sign(this.signer.key);
    const r = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: this.c.scope, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion }).toString(),
    });
    const body = (await r.json().catch(() => ({}))) as { access_token?: string; expires_in?: number; error?: string; error_description?: string };
    if (!r.ok || !body.access_token) throw new Error(`the token endpoint refused client ${this.c.clientId}: ${body.error ?? `HTTP ${r.status}`}${body.error_description ? ` (${body.error_description})` : ''}`);
    this.token = body.access_token;
    const lifetime = body.expires_in ?? 60;
    this.until = now + lifetime;
    this.early = Math.min(EARLY_SECONDS, lifetime / 4);
    this.fetched++;
  }
}
