import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from './redis';

/**
 * A gateway in its own OS process, from the compiled code (`npm test` compiles first), for
 * tests that need two processes on one database and one Redis.
 */
export interface ChildGateway {
  url: string;
  fhir: string;
  stop(): Promise<void>;
  /** kill -9: no shutdown code runs, whatever the process held in memory is gone. */
  kill(): Promise<void>;
}

/** Waits up to `readyWithinMs` for `/readyz` (a start takes ~10 s on a busy 2-core machine, more under the full suite). */
export async function startChildGateway(env: Record<string, string>, readyWithinMs = 90_000): Promise<ChildGateway> {
  const port = await freePort();
  const entry = join(__dirname, '..', '..', 'dist', 'src', 'index.js');
  const child: ChildProcess = spawn(process.execPath, [entry], {
    env: { ...process.env, NODE_OPTIONS: '', PORT: String(port), HOST: '127.0.0.1', MLLP_PORT: 'off', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (const deadline = Date.now() + readyWithinMs; ; ) {
    if (child.exitCode !== null) throw new Error(`gateway process exited with ${child.exitCode}`);
    const ok = await fetch(`${url}/readyz`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`gateway process was not ready within ${readyWithinMs / 1000} s`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const signal = (sig: NodeJS.Signals) =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill(sig);
    });
  return { url, fhir: `${url}/fhir`, stop: () => signal('SIGTERM'), kill: () => signal('SIGKILL') };
}
