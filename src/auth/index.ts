import type { CapabilityStatementRestSecurity } from 'fhir/r4';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type express from 'express';
import type { Request } from 'express';
import helmet from 'helmet';
import type { Db } from '../store/db';
import type { Logger } from '../logger';
import { insertAuditRows } from '../store/audit-events';
import { AuditTrail } from './audit';
import { auditEventRouter } from './audit-search';
import { ClientRegistry } from './clients';
import type { SecurityConfig } from './config';
import { guard, type Guard } from './guard';
import { SigningKeys } from './keys';
import { originOf, securityRouter, smartConfiguration } from './routes';
import { openSharedState, type SharedState } from './shared-state';
import { TokenService } from './tokens';

/**
 * The security layer, assembled: what the app mounts (edge headers, the public endpoints,
 * the guard), what the capability statement advertises, and what the MLLP listener asks.
 * With AUTH other than smart only the edge headers apply.
 */
export interface Security {
  enabled: boolean;
  /** helmet's headers and, when CORS_ORIGINS lists origins, CORS for them (on node's request and response). */
  edge: EdgeHandler[];
  /** Discovery, JWKS, token endpoint, then the guard: mounted before every other router. */
  routers: express.RequestHandler[];
  /** The guard alone, for a path that does not go through Express (src/api/fast-path.ts). */
  guard?: Guard;
  capability?: (req: Request) => CapabilityStatementRestSecurity;
  clients?: ClientRegistry;
  keys?: SigningKeys;
  tokens?: TokenService;
  audit?: AuditTrail;
  close(): Promise<void>;
}

export type EdgeHandler = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

/** On node's request and response, so a path in front of Express runs it too. */
function cors(origins: string[]) {
  return (req: IncomingMessage, res: ServerResponse, next: () => void) => {
    const origin = req.headers.origin;
    if (!origin || !origins.includes(origin)) return next();
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Vary', 'Origin');
    if (req.method !== 'OPTIONS') return next();
    res.setHeader('Access-Control-Allow-Methods', 'GET, POST, PUT, PATCH, DELETE');
    res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type, Accept, If-Match, If-None-Exist, If-None-Match, Prefer, X-Facility-Code');
    res.setHeader('Access-Control-Max-Age', '600');
    res.statusCode = 204;
    res.end();
  };
}

/** `origin`: the public origin derived from BASE_URL (its FHIR base minus `/fhir`). */
export async function openSecurity(cfg: SecurityConfig, deps: { db: Db; redisUrl?: string; baseUrl?: string; allowedHosts?: string[]; log: Logger }): Promise<Security> {
  const edge: EdgeHandler[] = [
    helmet({
      // An API answers data, never pages: nothing may load and nothing may frame it (helmet's page-oriented defaults were 300 bytes on every answer).
      contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
      // Browser apps of the listed origins must be allowed to read the answers.
      crossOriginResourcePolicy: { policy: cfg.corsOrigins.length ? 'cross-origin' : 'same-origin' },
    }),
  ];
  if (cfg.corsOrigins.length) edge.push(cors(cfg.corsOrigins));
  if (cfg.mode !== 'smart') return { enabled: false, edge, routers: [], close: async () => undefined };

  if (!cfg.clientsFile) throw new Error('AUTH=smart needs AUTH_CLIENTS_FILE (the registered clients)');
  const clients = new ClientRegistry(cfg.clientsFile);
  if (clients.lastError) throw new Error(`AUTH_CLIENTS_FILE: ${clients.lastError}`);
  const keys = await SigningKeys.open(deps.db, cfg.signingKeyFile);
  const state: SharedState = await openSharedState(deps.redisUrl);
  const tokens = new TokenService({ clients, keys, state, tokenSeconds: cfg.tokenSeconds, ownFacilityOnly: cfg.read === 'own-facility' });
  const audit = new AuditTrail((rows) => insertAuditRows(deps.db, rows), cfg.auditQueueMax, deps.log);
  const origin = deps.baseUrl?.replace(/\/fhir\/?$/, '');
  const guarded = guard({ tokens, state, audit, rateBurst: cfg.rateBurst, ratePerSecond: cfg.ratePerSecond });
  const routers = [
    securityRouter({ tokens, keys, ...(origin ? { origin } : {}) }),
    guarded,
    // Behind the guard: only admins reach the trail.
    auditEventRouter(deps.db, { ...(deps.baseUrl ? { baseUrl: deps.baseUrl } : {}), ...(deps.allowedHosts ? { allowedHosts: deps.allowedHosts } : {}) }),
  ];
  const capability = (req: Request): CapabilityStatementRestSecurity => {
    const smart = smartConfiguration(originOf(req, origin));
    return {
      service: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR' }], text: 'OAuth2 using SMART Backend Services' }],
      extension: [
        {
          url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris',
          extension: [{ url: 'token', valueUri: smart.token_endpoint }],
        },
      ],
      description: `SMART Backend Services (client_credentials, private_key_jwt); discovery at ${originOf(req, origin)}/.well-known/smart-configuration`,
    };
  };
  return {
    enabled: true,
    edge,
    routers,
    guard: guarded,
    capability,
    clients,
    keys,
    tokens,
    audit,
    async close() {
      await audit.close();
      await state.close();
    },
  };
}
