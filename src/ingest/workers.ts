import type { Logger } from '../logger';
import type { MessageLog } from '../store/message-log';
import type { Intake } from './intake';

/**
 * Background workers for messages acknowledged on receipt: each process claims a batch from the
 * shared log (`FOR UPDATE SKIP LOCKED`: several gateways share one backlog, no coordinator),
 * runs it with bounded concurrency, and claims the next. A claim holds only the first unfinished
 * message of each (sender, patient) key, so one patient's messages are applied in order. A
 * message whose worker died stays claimed, and the recovery pass takes it up once the claim is stale.
 */
export interface WorkerOptions {
  /** Messages processed at once by this process. */
  concurrency: number;
  /** How often an idle worker looks for messages other processes queued. */
  pollMs: number;
  /** Backlog (received, not processed) above which the intake slows senders down; 0: no bound. */
  backlogMax: number;
}

export interface Backlog {
  count: number;
  oldestSeconds: number;
}

/** How stale the backlog figure the intake checks on every message may be. */
const BACKLOG_REFRESH_MS = 200;

export class IntakeWorkers {
  private stopped = false;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private last: Backlog = { count: 0, oldestSeconds: 0 };
  private lastAt = 0;
  private refreshing: Promise<Backlog> | undefined;

  constructor(
    private readonly intake: Intake,
    private readonly log: MessageLog,
    private readonly opts: WorkerOptions,
    private readonly logger?: Logger,
  ) {}

  start(): void {
    if (this.opts.concurrency <= 0 || this.loop) return;
    this.intake.onQueued = () => {
      this.last.count++;
      this.wake?.();
    };
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    const width = this.opts.concurrency;
    while (!this.stopped) {
      let batch: { id: string; attempts: number }[] = [];
      try {
        batch = await this.log.claimQueued(width * 4);
      } catch (e) {
        this.logger?.error({ err: (e as Error).message }, 'claiming queued messages failed');
      }
      if (batch.length === 0) {
        await this.idle();
        continue;
      }
      // The batch holds one message per order key at most: they may run side by side.
      await this.intake.runBatch(batch, width);
    }
  }

  private idle(): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, this.opts.pollMs);
      timer.unref();
      const self = this;
      function done() {
        clearTimeout(timer);
        self.wake = undefined;
        resolve();
      }
      this.wake = done;
    });
  }

  /** The backlog as last measured (at most a few hundred ms old), refreshed in the background. */
  backlog(): Backlog {
    if (Date.now() - this.lastAt > BACKLOG_REFRESH_MS) void this.measure().catch(() => undefined);
    return this.last;
  }

  /** Measures the backlog now (for /metrics). */
  measure(): Promise<Backlog> {
    this.refreshing ??= this.log
      .backlog()
      .then((b) => {
        this.last = b;
        this.lastAt = Date.now();
        return b;
      })
      .finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  /** True when senders should be slowed down. */
  full(): boolean {
    return this.opts.backlogMax > 0 && this.backlog().count >= this.opts.backlogMax;
  }

  /** Resolves once the backlog is under its bound again (the MLLP listener stops reading meanwhile). */
  async belowBound(): Promise<void> {
    while (this.full() && !this.stopped) {
      await new Promise((r) => setTimeout(r, 50));
      await this.measure().catch(() => undefined);
    }
  }
}
