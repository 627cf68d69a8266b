import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { loadConfig, type Config } from '../../src/config';
import { startGateway, type Gateway } from '../../src/gateway';

/** Shared by the benchmarks: corpora paths, a gateway on free ports, and small statistics. */
export const CORPORA = join(__dirname, '..', '..', '..', '..', 'shared', 'corpora');

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

export const round = (x: number, digits = 0) => Number(x.toFixed(digits));

export interface BenchGateway {
  gw: Gateway;
  stop(): Promise<void>;
}

/** A gateway on a free port: embedded store in a fresh temporary folder, or the DATABASE_URL server. */
export async function benchGateway(store: 'embedded' | 'postgres', overrides: Partial<Config> = {}): Promise<BenchGateway> {
  const dir = mkdtempSync(join(tmpdir(), 'fhir-gateway-bench-'));
  // EMBEDDED_WORKER=off measures the embedded store in the gateway's own thread, for the worker's cost.
  const inThread = process.env.EMBEDDED_WORKER === 'off' ? { embeddedWorker: false } : {};
  const config: Config = { ...loadConfig({}), port: 0, mllpPort: 0, logLevel: 'warn', dataDir: dir, ...inThread, ...(store === 'postgres' ? { databaseUrl: process.env.DATABASE_URL } : {}), ...overrides };
  const gw = await startGateway(config);
  return {
    gw,
    async stop() {
      await gw.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function syntheaFiles(): { file: string; kind: string; entries: number }[] {
  const index = JSON.parse(readFileSync(join(CORPORA, 'synthea', 'index.json'), 'utf8')) as { file: string; kind: string; entries: number }[];
  return [...index.filter((f) => f.kind.startsWith('info')), ...index.filter((f) => !f.kind.startsWith('info'))];
}

/** Empties the benchmark's PostgreSQL database so each run starts from the same state. */
export async function resetPostgres(url: string): Promise<void> {
  const c = new Client({ connectionString: url });
  await c.connect();
  await c.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public');
  await c.end();
}

/**
 * A fresh database of its own on the server `adminUrl` names (benchmarks and tests alike),
 * dropped by `drop()` even while connections to it are open.
 */
export async function scratchDatabase(adminUrl: string, prefix: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const run = async (sql: string) => {
    const c = new Client({ connectionString: adminUrl });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  await run(`CREATE DATABASE ${name}`);
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return { url: u.toString(), drop: () => run(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}
