import { randomUUID } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, errors, jwtVerify, SignJWT } from 'jose';
import { LRUCache } from 'lru-cache';
import type { ClientRegistry } from './clients';
import type { Principal } from './context';
import type { SigningKeys } from './keys';
import { downgrade, parseScopes } from './scopes';
import type { SharedState } from './shared-state';

/**
 * The token endpoint's logic (SMART Backend Services, RFC 7523 client assertions) and the
 * check of the access tokens it issues. Refusals are RFC 6749 §5.2 errors.
 */
export class OAuthError extends Error {
  constructor(
    readonly error: 'invalid_request' | 'invalid_client' | 'invalid_grant' | 'invalid_scope' | 'unsupported_grant_type',
    readonly description: string,
    readonly status = error === 'invalid_client' ? 401 : 400,
  ) {
    super(description);
  }
}

export const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** What a client may sign its assertion with: asymmetric only (never `none`, never HS*). */
export const ASSERTION_ALGS = ['RS384', 'ES384', 'RS256', 'ES256', 'RS512', 'ES512', 'PS256', 'PS384', 'PS512', 'EdDSA'];
const MAX_ASSERTION_SECONDS = 300;
const CLOCK_SKEW = 30;

export interface TokenResponse {
  access_token: string;
  token_type: 'bearer';
  expires_in: number;
  scope: string;
}

export interface TokenServiceOptions {
  clients: ClientRegistry;
  keys: SigningKeys;
  state: SharedState;
  tokenSeconds: number;
  ownFacilityOnly: boolean;
}

export class TokenService {
  /** Verified access tokens, so a busy client's requests cost one map lookup, not one signature check. */
  private readonly verified = new LRUCache<string, { principal: Principal; exp: number }>({ max: 10_000 });

  constructor(private readonly o: TokenServiceOptions) {}

  /** `form`: the POSTed fields; `audiences`: the URLs this token endpoint is known by. */
  async issue(form: Record<string, string | undefined>, audiences: string[]): Promise<TokenResponse> {
    if (form.grant_type !== 'client_credentials') throw new OAuthError('unsupported_grant_type', 'grant_type must be client_credentials');
    if (form.client_assertion_type !== ASSERTION_TYPE) throw new OAuthError('invalid_request', `client_assertion_type must be ${ASSERTION_TYPE}`);
    const assertion = form.client_assertion;
    if (!assertion) throw new OAuthError('invalid_request', 'client_assertion is missing');
    if (!form.scope) throw new OAuthError('invalid_scope', 'scope is missing');

    let header: ReturnType<typeof decodeProtectedHeader>;
    let unverified: ReturnType<typeof decodeJwt>;
    try {
      header = decodeProtectedHeader(assertion);
      unverified = decodeJwt(assertion);
    } catch {
      throw new OAuthError('invalid_client', 'client_assertion is not a signed JWT');
    }
    if (!header.alg || !ASSERTION_ALGS.includes(header.alg)) throw new OAuthError('invalid_client', `assertion algorithm '${header.alg}' is not accepted; use RS384 or ES384`);
    if (header.jku || header.x5u) throw new OAuthError('invalid_client', 'jku and x5u are not accepted; keys come from the registration');
    const clientId = typeof unverified.iss === 'string' ? unverified.iss : '';
    const entry = this.o.clients.get(clientId);
    if (!entry) throw new OAuthError('invalid_client', 'unknown client');

    let payload: Awaited<ReturnType<typeof jwtVerify>>['payload'];
    try {
      ({ payload } = await jwtVerify(assertion, entry.keys, {
        algorithms: ASSERTION_ALGS,
        issuer: clientId,
        subject: clientId,
        audience: audiences,
        requiredClaims: ['exp', 'jti'],
        clockTolerance: CLOCK_SKEW,
      }));
    } catch (e) {
      throw new OAuthError('invalid_client', assertionFailure(e));
    }
    const now = Math.floor(Date.now() / 1000);
    if (payload.exp! > now + MAX_ASSERTION_SECONDS + CLOCK_SKEW) throw new OAuthError('invalid_client', 'assertion exp is more than 5 minutes ahead');
    if (!(await this.o.state.claimOnce(`jti:${clientId}:${payload.jti}`, payload.exp! - now + CLOCK_SKEW))) {
      throw new OAuthError('invalid_client', 'assertion jti was already used');
    }

    const granted = downgrade(form.scope, entry.client.scope);
    if (!granted) throw new OAuthError('invalid_scope', `none of the requested scopes is registered for this client`);
    const key = this.o.keys.current;
    const access = await new SignJWT({ scope: granted, facility: entry.client.facility, client_id: clientId, ...(entry.client.admin ? { admin: true } : {}) })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt' })
      .setSubject(clientId)
      .setIssuedAt(now)
      .setExpirationTime(now + this.o.tokenSeconds)
      .setJti(randomUUID())
      .sign(key.privateKey);
    return { access_token: access, token_type: 'bearer', expires_in: this.o.tokenSeconds, scope: granted };
  }

  /** The principal a bearer token stands for; undefined when it is missing, forged or expired. */
  async verify(token: string): Promise<Principal | undefined> {
    const now = Date.now() / 1000;
    const hit = this.verified.get(token);
    if (hit) {
      if (hit.exp > now) return hit.principal;
      this.verified.delete(token);
      return undefined;
    }
    try {
      const key = await this.o.keys.find(decodeProtectedHeader(token).kid);
      if (!key) return undefined;
      const { payload } = await jwtVerify(token, key.publicKey, { algorithms: [key.alg], typ: 'at+jwt', requiredClaims: ['exp'] });
      const principal: Principal = {
        clientId: String(payload.client_id ?? payload.sub),
        facility: String(payload.facility),
        admin: payload.admin === true,
        scope: String(payload.scope ?? ''),
        grant: parseScopes(String(payload.scope ?? '')),
        ownFacilityOnly: this.o.ownFacilityOnly,
      };
      this.verified.set(token, { principal, exp: payload.exp! });
      return principal;
    } catch {
      return undefined;
    }
  }
}

function assertionFailure(e: unknown): string {
  if (e instanceof errors.JWTExpired) return 'assertion has expired';
  if (e instanceof errors.JWTClaimValidationFailed) return `assertion claim '${e.claim}' is not acceptable (${e.reason})`;
  if (e instanceof errors.JWSSignatureVerificationFailed) return 'assertion signature does not verify';
  if (e instanceof errors.JWKSNoMatchingKey) return 'no registered key matches the assertion kid';
  if (e instanceof errors.JOSEAlgNotAllowed) return 'assertion algorithm is not accepted';
  return 'assertion could not be verified';
}
