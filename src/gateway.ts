import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from './api/app';
import { withFastPath } from './api/fast-path';
import { operationServices } from './operations/operation';
import { openSecurity, type Security } from './auth';
import { exposureCheck } from './auth/config';
import { mllpSecurity } from './auth/mllp';
import { registerXml } from './api/format';
import { parseFhirXml, serializeFhirXml } from './fhir/xml';
import { ingestRouter } from './api/ingest-router';
import { dicomAdapter, hl7v2Adapter, receiveHl7v2, vnClaimAdapter } from './ingest/feeds';
import { startMllpListener, type MllpListener } from './listeners/mllp';
import { Intake } from './ingest/intake';
import { IntakeWorkers } from './ingest/workers';
import { Gauge } from 'prom-client';
import { MessageLog } from './store/message-log';
import { auditMetrics, createMetrics } from './api/metrics';
import { openCache } from './cache';
import type { Cache } from './cache/cache';
import type { Config } from './config';
import { createLogger, type Logger } from './logger';
import { BundleProcessor } from './service/bundle';
import { ResourceService } from './service/resources';
import { deliveryOptions, registeredReader, SubscriptionDelivery } from './subscriptions/delivery';
import { WebsocketChannel } from './subscriptions/websocket';
import { lostInvalidationsIn } from './store/cache-epoch';
import { openDb, type Db } from './store/db';
import { idSchemeOf } from './store/settings';
import { useIdScheme } from './ingest/ids';
import { Repository } from './store/repository';
import { hasCodeSystem } from './fhir/conceptmap';
import { searchParamsFor } from './fhir/search-parameters';
import { MAPPED_POLICY, validateResource, warmUpValidator } from './validation';
import { openLookupCache } from './lookup/cache';
import { CardLookupService } from './lookup/service';
import { VssClient } from './lookup/vss-client';
import { PatientLinker } from './mpi/linker';

/** A running gateway: its parts, for tests and the CLI, and a way to stop it cleanly. */
export interface Gateway {
  url: string;
  port: number;
  /** The MLLP listener's port, when it runs. */
  mllpPort?: number;
  db: Db;
  cache: Cache;
  resources: ResourceService;
  delivery: SubscriptionDelivery;
  intake: Intake;
  /** The card lookup (its writer is flushed by close()). */
  lookup: CardLookupService;
  log: Logger;
  /** The security layer (tokens, clients, signing keys, audit trail) when AUTH=smart. */
  security: Security;
  close(): Promise<void>;
}

/** Raw messages above this size are kept as files on the embedded store. */
const RAW_FILE_THRESHOLD = 1024 * 1024;

/** `raw/` inside the embedded store's folder (one volume to back up); a temporary folder for an in-memory store. */
function rawFolder(dataDir: string): string {
  const dir = dataDir.startsWith('memory://') ? mkdtempSync(join(tmpdir(), 'fhir-gateway-raw-')) : join(dataDir, 'raw');
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Wires the parts together. Side effects (database, cache, sockets) start here and nowhere else. */
export async function startGateway(config: Config): Promise<Gateway> {
  const log = createLogger(config.logLevel);
  // Before anything opens: an exposed gateway without authentication does not start.
  const openWarning = exposureCheck(config.host, config.security);
  const db = await openDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, statementTimeoutMs: config.dbStatementTimeoutMs, connectTimeoutMs: config.dbConnectTimeoutMs, embeddedWorker: config.embeddedWorker });
  const repo = await Repository.open(db, config.baseUrl ? [config.baseUrl] : [], config.searchLimits);
  useIdScheme(await idSchemeOf(db));
  const cache = await openCache(config.redisUrl, config.cacheTtlSeconds, log, lostInvalidationsIn(db));
  const resources = new ResourceService(repo, cache, (r, { mapped }) => validateResource(r, mapped ? MAPPED_POLICY : undefined), config.cacheTtlSeconds);
  // Load the R4 definitions now rather than inside the first request.
  const warmMs = warmUpValidator();
  searchParamsFor('Patient');
  hasCodeSystem('http://fhir.ehealth.gov.vn/core/CodeSystem/icd10-vn'); // loads profiles/ for the mappers
  const linker = config.mpi ? new PatientLinker(resources, config.mpiWeights) : undefined;
  if (linker) {
    // The write is committed whatever happens here: a failed link is logged (no patient data) and retried on the next write.
    resources.afterCommit = (results) => linker.afterCommit(results).catch((e: Error) => log.warn({ err: e.message }, 'patient linking failed'));
  }
  resources.subscriptionHosts = config.subscriptionAllowedHosts;
  const bundles = new BundleProcessor(resources);
  const lookupCache = await openLookupCache(config.redisUrl, config.lookup.cacheKey);
  const { vssBaseUrl, ...vss } = config.lookup;
  const lookup = new CardLookupService({ ...(vssBaseUrl ? { client: new VssClient({ ...vss, baseUrl: vssBaseUrl }) } : {}), cache: lookupCache, resources, config: config.lookup, log });
  const rawDir = db.kind === 'embedded' ? rawFolder(config.dataDir) : undefined;
  const messages = new MessageLog(db, rawDir ? { dir: rawDir, threshold: RAW_FILE_THRESHOLD } : undefined);
  const intake = new Intake(
    messages,
    bundles,
    async (type, id) => {
      const v = await repo.read(type, id);
      return v && !v.deleted ? v.resource : undefined;
    },
    log,
    { graceMs: config.recoveryGraceSeconds * 1000, maxAttempts: config.ingestMaxAttempts, workers: config.ingestWorkers > 0 },
  );
  const workers = new IntakeWorkers(intake, messages, { concurrency: config.ingestWorkers, pollMs: 250, backlogMax: config.ingestBacklogMax }, log);
  intake.register(vnClaimAdapter);
  intake.register(hl7v2Adapter(config.hl7));
  intake.register(dicomAdapter({ facility: config.defaultFacility, institutions: config.dicomInstitutions, ...(config.dicomWadoRsBase ? { wadoRsBase: config.dicomWadoRsBase } : {}) }));
  registerXml({ serialize: serializeFhirXml, parse: parseFhirXml });
  const security = await openSecurity(config.security, { db, ...(config.redisUrl ? { redisUrl: config.redisUrl } : {}), ...(config.baseUrl ? { baseUrl: config.baseUrl } : {}), allowedHosts: config.allowedHosts, log });
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
  const delivery = new SubscriptionDelivery(resources, deliveryOptions(config), log, security.clients ? registeredReader((id) => security.clients!.get(id)?.client, config.security.read === 'own-facility') : undefined);
  // A committed write wakes the delivery at once; the poll catches other processes' commits.
  const linked = resources.afterCommit;
  resources.afterCommit = async (results) => {
    delivery.wake();
    await linked?.(results);
  };
  const metrics = createMetrics();
  if (security.audit) auditMetrics(metrics.registry, security.audit);
  // Measured when scraped: the backlog is in the shared log, whichever process received it.
  const backlogGauge = (name: string, help: string, pick: (b: { count: number; oldestSeconds: number }) => number) =>
    new Gauge({ name, help, registers: [metrics.registry], async collect() { this.set(pick(await workers.measure().catch(() => ({ count: NaN, oldestSeconds: NaN })))); } });
  backlogGauge('fhir_gateway_ingest_backlog_messages', 'Intake messages received and not yet processed', (b) => b.count);
  backlogGauge('fhir_gateway_ingest_backlog_oldest_seconds', 'Age of the oldest intake message not yet processed', (b) => b.oldestSeconds);
  const app = createApp({
    resources,
    bundles,
    lookup,
    log,
    metrics,
    bodyLimit: config.bodyLimit,
    defaultFacility: config.defaultFacility,
    ...(config.baseUrl ? { baseUrl: config.baseUrl } : {}),
    allowedHosts: config.allowedHosts,
    ready: () => repo.ping(),
    security,
    ...(security.capability ? { capabilitySecurity: security.capability } : {}),
    ...(linker ? { linker } : {}),
    extraRouters: [ingestRouter({ intake, messages, backlog: workers, ...(config.baseUrl ? { baseUrl: config.baseUrl } : {}), allowedHosts: config.allowedHosts, bodyLimit: config.ingestBodyLimit, hl7: config.hl7, defaultFacility: config.defaultFacility, ...(config.dicomWadoRsBase ? { dicomWadoRsBase: config.dicomWadoRsBase } : {}) })],
  });
  const server: Server = createServer(config.fastPath ? withFastPath(app, { metrics, log, edge: security.edge, ...(security.guard ? { guard: security.guard } : {}), services: operationServices({ resources, lookup, linker }) }) : app);
  server.requestTimeout = 120_000;
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const websocket = new WebsocketChannel({
    read: async (id) => {
      const v = await repo.read('Subscription', id);
      return v && !v.deleted ? v.resource : undefined;
    },
    ...(security.tokens ? { verify: (t: string) => security.tokens!.verify(t) } : {}),
  });
  websocket.attach(server);
  delivery.channels.set(websocket.type, websocket);
  const port = (server.address() as AddressInfo).port;
  const url = `http://${config.host}:${port}`;
  log.info({ url: `${url}/fhir`, store: db.kind, cache: cache.kind, auth: security.enabled ? 'smart' : 'open', warmUpMs: Math.round(warmMs) }, 'gateway started');
  if (openWarning) log.warn(openWarning);
  let mllp: MllpListener | undefined;
  if (config.mllpPort >= 0) {
    const ackPolicy = { mode: config.mllpAck, bySender: config.mllpAckSenders };
    const handler = async (raw: Buffer) => (await receiveHl7v2(intake, raw, config.hl7, 'mllp', ackPolicy)).ack;
    mllp = await startMllpListener({
      port: config.mllpPort,
      host: config.mllpHost,
      logger: log,
      handler: mllpSec ? mllpSec.handler(handler) : handler,
      ...(mllpSec ? { admit: (s) => mllpSec.admit(s), ...(mllpSec.tls ? { tls: mllpSec.tls } : {}) } : {}),
      ...(config.ingestBacklogMax > 0 ? { ready: () => workers.belowBound() } : {}),
    });
  }
  workers.start();
  // Messages an earlier run (or a failed database write) left unfinished: at start, then periodically.
  delivery.start();
  const stopRecovery = config.recoveryIntervalSeconds > 0 ? intake.startRecovery(config.recoveryIntervalSeconds * 1000) : async () => undefined;
  return {
    url,
    port,
    ...(mllp ? { mllpPort: mllp.port } : {}),
    db,
    cache,
    resources,
    intake,
    lookup,
    log,
    security,
    delivery,
    async close() {
      await stopRecovery();
      await delivery.stop();
      websocket.close();
      await mllp?.close();
      await workers.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await lookup.close();
      await security.close();
      await cache.close();
      await db.close();
      // An in-memory store's raw files go with it.
      if (rawDir && config.dataDir.startsWith('memory://')) rmSync(rawDir, { recursive: true, force: true });
    },
  };
}
