import { execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './redis';

/**
 * A PostgreSQL server of the test's own, in a temporary folder, that the test may pause, stop
 * and start again without disturbing the shared server other tests use.
 */
export interface PrivatePostgres {
  url: string;
  /** SIGSTOP to the server and its backends: connections stay open and nothing answers. */
  pause(): void;
  resume(): void;
  /** An immediate shutdown: connections are refused until `start`. */
  stop(): void;
  start(): void;
  destroy(): void;
}

const asPostgres = (cmd: string) => execFileSync('su', ['postgres', '-c', cmd], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();

export const canRunPrivatePostgres = (): boolean => {
  try {
    execFileSync('sh', ['-c', 'command -v initdb && command -v pg_ctl && id postgres'], { stdio: 'ignore' });
    return process.getuid?.() === 0;
  } catch {
    return false;
  }
};

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'gw-pg-'));
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  chownSync(dir, uid, -1);
  const data = join(dir, 'data');
  const port = await freePort();
  asPostgres(`initdb -D ${data} -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 --no-sync`);
  const start = () => void asPostgres(`pg_ctl -D ${data} -l ${dir}/log -w -o "-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off" start`);
  start();
  const signal = (sig: NodeJS.Signals) => {
    const postmaster = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    const children = execFileSync('ps', ['-o', 'pid=', '--ppid', String(postmaster)]).toString().split('\n').map(Number).filter((n) => n > 0);
    for (const pid of [postmaster, ...children]) process.kill(pid, sig);
  };
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    pause: () => signal('SIGSTOP'),
    resume: () => signal('SIGCONT'),
    stop: () => void asPostgres(`pg_ctl -D ${data} -m immediate -w stop`),
    start,
    destroy() {
      try {
        signal('SIGCONT');
        asPostgres(`pg_ctl -D ${data} -m immediate -w stop`);
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
