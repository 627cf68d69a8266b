import express, { type Request, type Response } from 'express';
import type { SigningKeys } from './keys';
import { OAuthError, type TokenService } from './tokens';

/**
 * The public security endpoints: SMART discovery, the gateway's JWKS, and the token endpoint.
 * `origin`: the gateway's public origin when BASE_URL gives one, else taken from the request.
 */
export const TOKEN_PATH = '/auth/token';
export const JWKS_PATH = '/.well-known/jwks.json';
export const SCOPES_SUPPORTED = ['system/*.cruds', 'system/*.rs', 'system/Patient.rs', 'system/Observation.rs', 'system/*.read', 'system/*.write'];

export function originOf(req: Request, configured?: string): string {
  return configured ?? `${req.protocol}://${req.get('host')}`;
}

export function smartConfiguration(origin: string) {
  return {
    issuer: origin,
    token_endpoint: `${origin}${TOKEN_PATH}`,
    jwks_uri: `${origin}${JWKS_PATH}`,
    grant_types_supported: ['client_credentials'],
    token_endpoint_auth_methods_supported: ['private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: ['RS384', 'ES384'],
    scopes_supported: SCOPES_SUPPORTED,
    capabilities: ['client-confidential-asymmetric', 'permission-v2'],
  };
}

export function securityRouter(deps: { tokens: TokenService; keys: SigningKeys; origin?: string }): express.Router {
  const r = express.Router();
  r.get('/.well-known/smart-configuration', (req, res) => void res.json(smartConfiguration(originOf(req, deps.origin))));
  r.get(JWKS_PATH, (_req, res) => void res.type('application/jwk-set+json').send(JSON.stringify(deps.keys.jwks())));
  r.post(TOKEN_PATH, express.urlencoded({ extended: false, limit: '64kb', type: () => true }), async (req: Request, res: Response) => {
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Pragma', 'no-cache');
    try {
      const form = (req.body ?? {}) as Record<string, string | undefined>;
      // The assertion's aud is the token endpoint URL, as the client knows it.
      const audiences = [...new Set([`${originOf(req, deps.origin)}${TOKEN_PATH}`, `${req.protocol}://${req.get('host')}${TOKEN_PATH}`])];
      res.json(await deps.tokens.issue(form, audiences));
    } catch (e) {
      if (!(e instanceof OAuthError)) throw e;
      if (e.status === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="fhir-gateway"');
      res.status(e.status).json({ error: e.error, error_description: e.description });
    }
  });
  return r;
}
