import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

const HAVE_REDIS_SERVER = spawnSync('redis-server', ['--version']).status === 0;

/**
 * Redis tests run when REDIS_URL is set, as the README says; otherwise they are skipped with the
 * reason printed. They run private redis-server processes (to pause and kill them), so with
 * REDIS_URL set and no redis-server binary they fail rather than pass unseen.
 */
export function redisTestsEnabled(what: string, needs: { database?: boolean } = {}): boolean {
  const missing = [
    ...(process.env.REDIS_URL ? [] : ['REDIS_URL is not set']),
    ...(needs.database && !process.env.DATABASE_URL ? ['DATABASE_URL is not set'] : []),
  ];
  if (missing.length === 0) return true;
  // Straight to stderr: jest drops console output of a file whose tests are all skipped.
  process.stderr.write(`skipped (${what}): ${missing.join(', ')}\n`);
  return false;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export class RedisProcess {
  private proc: ChildProcess | undefined;
  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (!HAVE_REDIS_SERVER) throw new Error('REDIS_URL is set, but these tests also need the redis-server binary: they run a private server to pause and kill');
    this.proc = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      if (spawnSync('redis-cli', ['-p', String(this.port), 'ping']).stdout?.toString().includes('PONG')) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('redis-server did not start');
  }

  pause(): void {
    this.proc?.kill('SIGSTOP');
  }

  resume(): void {
    this.proc?.kill('SIGCONT');
  }

  async stop(): Promise<void> {
    if (!this.proc) return;
    const p = this.proc;
    this.proc = undefined;
    p.kill('SIGCONT');
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGKILL');
    });
  }
}
