import { scratchDatabase } from '../../scripts/bench/common';
import { loadConfig, type Config } from '../../src/config';
import { startGateway, type Gateway } from '../../src/gateway';
import { openDb, type Db } from '../../src/store/db';
import { Repository } from '../../src/store/repository';

/**
 * The stores every storage test runs against: the embedded one always, and a real PostgreSQL
 * server when DATABASE_URL is set (CI sets it). Each test file gets a database of its own.
 */
export const STORES: ('embedded' | 'postgres')[] = process.env.DATABASE_URL ? ['embedded', 'postgres'] : ['embedded'];

export function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  return scratchDatabase(process.env.DATABASE_URL!, 'gw_test');
}

/** A migrated store of its own for a storage test: in memory, or a fresh database on the server. */
export async function openTestStore(store: 'embedded' | 'postgres'): Promise<{ db: Db; repo: Repository; close(): Promise<void> }> {
  const server = store === 'postgres' ? await createTestDatabase() : undefined;
  const db = server ? await openDb({ databaseUrl: server.url, dataDir: '' }) : await openDb({ dataDir: 'memory://' });
  const repo = await Repository.open(db);
  return {
    db,
    repo,
    async close() {
      await db.close();
      await server?.drop();
    },
  };
}

export interface TestGateway extends Gateway {
  fhir: string;
  stop(): Promise<void>;
}

export async function startTestGateway(store: 'embedded' | 'postgres', overrides: Partial<Config> = {}, databaseUrl?: string): Promise<TestGateway> {
  let dropDb: (() => Promise<void>) | undefined;
  let dbUrl = databaseUrl;
  if (store === 'postgres' && !dbUrl) {
    const db = await createTestDatabase();
    dbUrl = db.url;
    dropDb = db.drop;
  }
  const config: Config = {
    ...loadConfig({}),
    port: 0,
    mllpPort: 0,
    logLevel: 'silent',
    dataDir: 'memory://',
    ...(store === 'postgres' ? { databaseUrl: dbUrl } : {}),
    ...overrides,
  };
  const gw = await startGateway(config);
  return {
    ...gw,
    fhir: `${gw.url}/fhir`,
    async stop() {
      await gw.close();
      await dropDb?.();
    },
  };
}
