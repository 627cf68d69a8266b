import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../test/helpers/redis';

/**
 * A private PostgreSQL server in a temporary folder, on a free port, for scenarios that stop,
 * crash and pause it. Never the shared test server. As root it runs as the `postgres` user,
 * as scripts/ci/services.sh does.
 */
export const PG_BIN = readdirSync('/usr/lib/postgresql', { withFileTypes: true })
  .map((d) => join('/usr/lib/postgresql', d.name, 'bin'))
  .find((d) => spawnSync(join(d, 'initdb'), ['--version']).status === 0);

const asRoot = process.getuid?.() === 0;

function run(bin: string, args: string[]): string {
  const argv = [join(PG_BIN!, bin), ...args];
  return asRoot
    ? execFileSync('su', ['postgres', '-c', argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
    : execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export class PostgresServer {
  private constructor(readonly dir: string, readonly port: number) {}

  static async create(): Promise<PostgresServer> {
    if (!PG_BIN) throw new Error('no PostgreSQL binaries under /usr/lib/postgresql');
    const dir = mkdtempSync(join(tmpdir(), 'chaos-pg-'));
    if (asRoot) chownSync(dir, Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })));
    run('initdb', ['-D', join(dir, 'data'), '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8']);
    const pg = new PostgresServer(dir, await freePort());
    await pg.start();
    return pg;
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  async start(): Promise<void> {
    run('pg_ctl', ['-D', join(this.dir, 'data'), '-l', join(this.dir, 'log'), '-w', '-o', `-c listen_addresses=127.0.0.1 -p ${this.port} -k ${this.dir} -c max_connections=100 -c fsync=off`, 'start']);
  }

  /** `fast` rolls back open transactions and closes connections; `immediate` is a crash. */
  stop(mode: 'fast' | 'immediate'): void {
    run('pg_ctl', ['-D', join(this.dir, 'data'), '-m', mode, '-w', 'stop']);
  }

  /** The postmaster and every backend, as SIGSTOP must reach them all to freeze the server. */
  private pids(): number[] {
    const main = Number(readFileSync(join(this.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
    const children = spawnSync('ps', ['-o', 'pid=', '--ppid', String(main)], { encoding: 'utf8' }).stdout.split('\n').map(Number).filter((n) => n > 0);
    return [main, ...children];
  }

  pause(): void {
    for (const pid of this.pids()) process.kill(pid, 'SIGSTOP');
  }

  resume(): void {
    for (const pid of this.pids()) process.kill(pid, 'SIGCONT');
  }

  destroy(): void {
    try {
      this.resume();
      this.stop('immediate');
    } catch {
      // already down
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
