import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from './redis';

/**
 * A gateway in its own OS process, from the compiled code (`npm test` compiles first), for
 * tests that need two processes on one database and one Redis, or a process to kill -9.
 */
export interface ChildGateway {
  url: string;
  fhir: string;
  /** The MLLP listener's port when the environment asks for one with `MLLP_PORT=auto`. */
  mllpPort?: number;
  pid: number;
  /** How the process ended (`code 1`, `SIGKILL`), or undefined while it runs: chaos tests count exits. */
  exit(): string | undefined;
  /** The last lines the process wrote to stderr, to say why it died. */
  stderrTail(): string;
  /**
   * Sends a signal (kill -9 by default: no shutdown code runs, whatever the process held in
   * memory is gone) and, for SIGKILL/SIGTERM, waits for the process to end.
   */
  kill(signal?: NodeJS.Signals): Promise<void>;
  stop(): Promise<void>;
}

/** An empty value unsets the variable (`DATABASE_URL: ''`: the embedded store even where CI sets one). */
function childEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''));
}

export async function startChildGateway(env: Record<string, string>, opts: { readyTimeoutMs?: number } = {}): Promise<ChildGateway> {
  const port = await freePort();
  const mllpPort = env.MLLP_PORT === 'auto' ? await freePort() : undefined;
  const entry = join(__dirname, '..', '..', 'dist', 'src', 'index.js');
  const child: ChildProcess = spawn(process.execPath, [entry], {
    env: childEnv({ ...process.env, NODE_OPTIONS: '', PORT: String(port), HOST: '127.0.0.1', MLLP_PORT: 'off', LOG_LEVEL: 'warn', ...env, ...(mllpPort ? { MLLP_PORT: String(mllpPort) } : {}) }),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let tail = '';
  child.stderr!.on('data', (d: Buffer) => {
    process.stderr.write(d);
    tail = (tail + d.toString()).slice(-4000);
  });
  let ended: string | undefined;
  const exited = new Promise<void>((resolve) => child.once('exit', (code, signal) => {
    ended = signal ?? `code ${code}`;
    resolve();
  }));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 60_000);
  for (;;) {
    if (ended !== undefined) throw new Error(`gateway process exited (${ended}): ${tail.trim().split('\n').pop() ?? ''}`);
    const ok = await fetch(`${url}/readyz`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) {
      if (opts.readyTimeoutMs !== undefined) {
        child.kill('SIGKILL');
        throw new Error(`gateway process not ready after ${opts.readyTimeoutMs} ms`);
      }
      break;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    if (ended !== undefined) return;
    child.kill(signal);
    if (signal === 'SIGKILL' || signal === 'SIGTERM') await exited;
  };
  return {
    url,
    fhir: `${url}/fhir`,
    ...(mllpPort ? { mllpPort } : {}),
    pid: child.pid!,
    exit: () => ended,
    stderrTail: () => tail,
    kill,
    stop: () => kill('SIGTERM'),
  };
}
