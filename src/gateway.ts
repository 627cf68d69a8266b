import type { Server } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from './api/app';
import { openSecurity, type Security } from './auth';
import { exposureCheck } from './auth/config';
import { mllpSecurity } from './auth/mllp';
import { registerXml } from './api/format';
import { parseFhirXml, serializeFhirXml } from './fhir/xml';
import { ingestRouter } from './api/ingest-router';
import { dicomAdapter, hl7v2Adapter, receiveHl7v2, vnClaimAdapter } from './ingest/feeds';
import { startMllpListener, type MllpListener } from './listeners/mllp';
import { Intake } from './ingest/intake';
import { MessageLog } from './store/message-log';
import { createMetrics } from './api/metrics';
import { openCache } from './cache';
import type { Cache } from './cache/cache';
import type { Config } from './config';
import { createLogger, type Logger } from './logger';
import { BundleProcessor } from './service/bundle';
import { ResourceService } from './service/resources';
import { openDb, type Db } from './store/db';
import { Repository } from './store/repository';
import { hasCodeSystem } from './fhir/conceptmap';
import { searchParamsFor } from './fhir/search-parameters';
import { validateResource, warmUpValidator } from './validation';

/** A running gateway: its parts, for tests and the CLI, and a way to stop it cleanly. */
export interface Gateway {
  url: string;
  port: number;
  /** The MLLP listener's port, when it runs. */
  mllpPort?: number;
  db: Db;
  cache: Cache;
  resources: ResourceService;
  intake: Intake;
  log: Logger;
  /** The security layer (tokens, clients, signing keys, audit trail) when AUTH=smart. */
  security: Security;
  close(): Promise<void>;
}

/** Wires the parts together. Side effects (database, cache, sockets) start here and nowhere else. */
export async function startGateway(config: Config): Promise<Gateway> {
  const log = createLogger(config.logLevel);
  // Before anything opens: an exposed gateway without authentication does not start.
  const openWarning = exposureCheck(config.host, config.security);
  const db = await openDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  const repo = await Repository.open(db, config.baseUrl ? [config.baseUrl] : []);
  const cache = await openCache(config.redisUrl, config.cacheTtlSeconds, log);
  const resources = new ResourceService(repo, cache, (r) => validateResource(r), config.cacheTtlSeconds);
  // Load the R4 definitions now rather than inside the first request.
  const warmMs = warmUpValidator();
  searchParamsFor('Patient');
  hasCodeSystem('http://fhir.ehealth.gov.vn/core/CodeSystem/icd10-vn'); // loads profiles/ for the mappers
  const bundles = new BundleProcessor(resources);
  const messages = new MessageLog(db);
  const intake = new Intake(
    messages,
    bundles,
    async (type, id) => {
      const v = await repo.read(type, id);
      return v && !v.deleted ? v.resource : undefined;
    },
    log,
  );
  intake.register(vnClaimAdapter);
  intake.register(hl7v2Adapter(config.hl7));
  intake.register(dicomAdapter({ facility: config.defaultFacility, ...(config.dicomWadoRsBase ? { wadoRsBase: config.dicomWadoRsBase } : {}) }));
  registerXml({ serialize: serializeFhirXml, parse: parseFhirXml });
  // AuditEvents are the gateway's own records: stored as they are, not validated on the way.
  const security = await openSecurity(config.security, { db, ...(config.redisUrl ? { redisUrl: config.redisUrl } : {}), ...(config.baseUrl ? { baseUrl: config.baseUrl } : {}), writeAudit: (w) => resources.commit(w), log });
  let mllpSec: ReturnType<typeof mllpSecurity> | undefined;
  try {
    mllpSec = security.enabled && config.mllpPort >= 0 ? mllpSecurity(config.security, security.clients!, security.audit!) : undefined;
  } catch (e) {
    // Refusing to start: leave nothing open behind.
    await security.close();
    await cache.close();
    await db.close();
    throw e;
  }
  const metrics = createMetrics();
  const app = createApp({
    resources,
    bundles,
    log,
    metrics,
    bodyLimit: config.bodyLimit,
    defaultFacility: config.defaultFacility,
    ...(config.baseUrl ? { baseUrl: config.baseUrl } : {}),
    ready: () => repo.ping(),
    security,
    ...(security.capability ? { capabilitySecurity: security.capability } : {}),
    extraRouters: [ingestRouter({ intake, messages, bodyLimit: config.ingestBodyLimit, hl7: config.hl7, defaultFacility: config.defaultFacility, ...(config.dicomWadoRsBase ? { dicomWadoRsBase: config.dicomWadoRsBase } : {}) })],
  });
  const server: Server = createServer(app);
  server.requestTimeout = 120_000;
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${config.host}:${port}`;
  log.info({ url: `${url}/fhir`, store: db.kind, cache: cache.kind, auth: security.enabled ? 'smart' : 'open', warmUpMs: Math.round(warmMs) }, 'gateway started');
  if (openWarning) log.warn(openWarning);
  let mllp: MllpListener | undefined;
  if (config.mllpPort >= 0) {
    const handler = (raw: Buffer) => receiveHl7v2(intake, raw, config.hl7, 'mllp');
    mllp = await startMllpListener({
      port: config.mllpPort,
      host: config.mllpHost,
      logger: log,
      handler: mllpSec ? mllpSec.handler(handler) : handler,
      ...(mllpSec ? { admit: (s) => mllpSec.admit(s), ...(mllpSec.tls ? { tls: mllpSec.tls } : {}) } : {}),
    });
  }
  const recovered = await intake.recover();
  if (recovered > 0) log.warn({ recovered }, 'finished messages an earlier run had persisted but not processed');
  return {
    url,
    port,
    ...(mllp ? { mllpPort: mllp.port } : {}),
    db,
    cache,
    resources,
    intake,
    log,
    security,
    async close() {
      await mllp?.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await security.close();
      await cache.close();
      await db.close();
    },
  };
}
