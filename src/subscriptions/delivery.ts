import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Subscription } from 'fhir/r4';
import { asGateway, type Principal } from '../auth/context';
import { facilityOf, readable } from '../auth/rules';
import { parseScopes } from '../auth/scopes';
import type { Config } from '../config';
import type { Logger } from '../logger';
import type { ResourceService } from '../service/resources';
import { Outbox, type Claimed, type Notification } from '../store/outbox';
import type { AnyResource } from '../store/types';
import { CLIENT_TAG_SYSTEM, endpointProblem, guardedLookup } from './rules';

export interface DeliveryOptions {
  /** How often the queue is looked at for other processes' commits (this process's own wake it at once). */
  pollMs: number;
  /** First retry delay; doubled per failure up to `retryMaxMs`. */
  retryBaseMs: number;
  retryMaxMs: number;
  /** Consecutive failures after which the Subscription shows `error` (deliveries go on, backing off). */
  errorAfter: number;
  /** Seconds of failing without a success after which the Subscription is switched `off` and its queue dropped. */
  offAfterSeconds: number;
  timeoutMs: number;
  allowedHosts: string[];
  /** A lease outlives a crashed process by this long, then another process takes the subscription over. */
  leaseSeconds: number;
  batch: number;
}

export function deliveryOptions(c: Config): DeliveryOptions {
  return {
    ...DEFAULT_DELIVERY,
    pollMs: c.subscriptionPollMs,
    retryBaseMs: c.subscriptionRetryBaseMs,
    retryMaxMs: c.subscriptionRetryMaxMs,
    errorAfter: c.subscriptionErrorAfter,
    offAfterSeconds: c.subscriptionOffAfterSeconds,
    timeoutMs: c.subscriptionTimeoutMs,
    allowedHosts: c.subscriptionAllowedHosts,
    leaseSeconds: c.subscriptionLeaseSeconds,
  };
}

export const DEFAULT_DELIVERY: DeliveryOptions = { pollMs: 500, retryBaseMs: 1000, retryMaxMs: 300_000, errorAfter: 3, offAfterSeconds: 86_400, timeoutMs: 5000, allowedHosts: [], leaseSeconds: 30, batch: 50 };

/** Who may read what a subscription announces: the registered client that wrote it, or anyone when security is off. */
export type ReaderOf = (clientId: string | undefined) => Principal | undefined | 'gone';

/** A channel other than rest-hook that this process can deliver on (the websocket binds). */
export interface LocalChannel {
  type: string;
  /** True if the subscription has a listener in this process. */
  has(subscriptionId: string): boolean;
  send(subscriptionId: string, n: Notification, resource: AnyResource | undefined): Promise<void>;
}

/**
 * Delivers the outbox: at least once (a notification leaves the queue only after the receiver
 * took it), in commit order per subscription (one lease holder sends them one after another),
 * retrying with exponential backoff and reporting on the Subscription (`error`, then `off`).
 */
export class SubscriptionDelivery {
  private readonly outbox: Outbox;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  readonly channels = new Map<string, LocalChannel>();

  constructor(
    private readonly resources: ResourceService,
    private readonly opts: DeliveryOptions,
    private readonly log: Logger,
    private readonly readerOf: ReaderOf = () => undefined,
  ) {
    this.outbox = new Outbox(resources.repo.db);
  }

  start(): void {
    this.stopped = false;
    const tick = () => {
      if (this.stopped) return;
      this.wake();
      this.timer = setTimeout(tick, this.opts.pollMs);
      this.timer.unref();
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** Something was committed (or the poll came round): deliver what is due. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.round()
      .catch((e: Error) => this.log.warn({ err: e.message }, 'subscription delivery round failed'))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  /** One pass: lease what is due, deliver each subscription's queue, until nothing is due. */
  async round(): Promise<void> {
    for (;;) {
      const claimed = await this.outbox.claim(8, this.opts.leaseSeconds);
      if (claimed.length === 0 || this.stopped) return;
      await Promise.all(claimed.map((c) => this.deliver(c)));
    }
  }

  private async subscription(id: string): Promise<AnyResource | undefined> {
    const v = await this.resources.repo.read('Subscription', id);
    return v && !v.deleted ? v.resource : undefined;
  }

  private async deliver(c: Claimed): Promise<void> {
    const sub = await this.subscription(c.subscriptionId);
    const status = sub?.status as string | undefined;
    if (!sub || status === 'off') return this.outbox.drop(c.subscriptionId);
    const channel = (sub as unknown as Subscription).channel;
    const local = this.channels.get(channel.type);
    if (channel.type !== 'rest-hook' && !local?.has(c.subscriptionId)) {
      // Nobody bound here: another process may hold the socket; look again at the next poll.
      return this.outbox.failed(c.subscriptionId, this.opts.pollMs / 1000, 'no bound listener').then(() => undefined);
    }
    const reader = this.readerOf(sub.meta?.tag?.find((t) => t.system === CLIENT_TAG_SYSTEM)?.code);
    if (reader === 'gone') return this.setStatus(sub, 'off', 'the client that created this subscription is no longer registered');
    const notes = await this.outbox.next(c.subscriptionId, this.opts.batch);
    const sent: string[] = [];
    for (const n of notes) {
      const version = await this.resources.repo.vread(n.resourceType, n.id, n.versionId);
      // A delete: told without a body, if the client could read what was deleted.
      const gone = version?.deleted ? await this.resources.repo.vread(n.resourceType, n.id, n.versionId - 1) : undefined;
      const seen = gone?.resource ?? version?.resource;
      // Gone from history, or not this client's to read: skipped, never sent.
      if (!seen || (reader && !readable(reader, seen))) {
        sent.push(n.seq);
        continue;
      }
      try {
        if (channel.type === 'rest-hook') await this.post(channel, gone ? { deleted: `${n.resourceType}/${n.id}/_history/${n.versionId}` } : { resource: seen });
        else await local!.send(c.subscriptionId, n, channel.payload && !gone ? seen : undefined);
        sent.push(n.seq);
      } catch (e) {
        await this.outbox.done(c.subscriptionId, sent);
        return this.failure(c, sub, (e as Error).message);
      }
    }
    await this.outbox.done(c.subscriptionId, sent);
    await this.outbox.release(c.subscriptionId);
    if (status === 'error') await this.setStatus(sub, 'active');
  }

  /** A version's resource, or for a delete the deleted version's reference (header `X-Fhir-Deleted`, no body). */
  private async post(channel: Subscription['channel'], what: { resource: AnyResource } | { deleted: string }): Promise<void> {
    // Checked again at send time: SUBSCRIPTION_ALLOWED_HOSTS may have been narrowed since the write.
    const problem = endpointProblem(channel.endpoint ?? '', this.opts.allowedHosts);
    if (problem) throw new Error(problem);
    const headers: Record<string, string> = {};
    for (const h of channel.header ?? []) {
      const at = h.indexOf(':');
      if (at > 0) headers[h.slice(0, at).trim()] = h.slice(at + 1).trim();
    }
    const body = channel.payload && 'resource' in what ? JSON.stringify(what.resource) : undefined;
    if (body) headers['content-type'] = 'application/fhir+json';
    if ('deleted' in what) headers['x-fhir-deleted'] = what.deleted;
    const url = new URL(channel.endpoint!);
    // node:http(s) rather than fetch: its DNS lookup can be checked (guardedLookup). Redirects are not followed.
    await new Promise<void>((resolve, reject) => {
      const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, { method: 'POST', headers, lookup: guardedLookup(url.hostname, this.opts.allowedHosts) }, (res) => {
        res.resume();
        res.on('error', reject);
        res.on('end', () => (res.statusCode! >= 200 && res.statusCode! < 300 ? resolve() : reject(new Error(`the endpoint answered HTTP ${res.statusCode}`))));
      });
      const timer = setTimeout(() => req.destroy(new Error(`no answer within ${this.opts.timeoutMs} ms`)), this.opts.timeoutMs);
      req.on('close', () => clearTimeout(timer));
      req.on('error', reject);
      req.end(body);
    });
  }

  private async failure(c: Claimed, sub: AnyResource, reason: string): Promise<void> {
    const failures = c.failures + 1;
    const retryMs = Math.min(this.opts.retryBaseMs * 2 ** (failures - 1), this.opts.retryMaxMs);
    const f = await this.outbox.failed(c.subscriptionId, retryMs / 1000, reason);
    if (Date.now() - Date.parse(f.failingSince) > this.opts.offAfterSeconds * 1000) {
      await this.setStatus(sub, 'off', `delivery failing since ${f.failingSince}: ${reason}`);
      await this.outbox.drop(c.subscriptionId);
    } else if (f.failures >= this.opts.errorAfter && sub.status !== 'error') {
      await this.setStatus(sub, 'error', `${f.failures} deliveries failed in a row, retrying: ${reason}`);
    }
    this.log.info({ subscription: c.subscriptionId, failures: f.failures, retryMs }, 'subscription delivery failed');
  }

  /** The Subscription's own status, written through the one road like any change (as the gateway). */
  private async setStatus(sub: AnyResource, status: 'active' | 'error' | 'off', error?: string): Promise<void> {
    const { error: _e, ...rest } = sub as AnyResource & { error?: string };
    const next: AnyResource = { ...rest, status, ...(error ? { error } : {}) };
    try {
      await asGateway(() => this.resources.update(next, { facility: facilityOf(sub) ?? 'local', feed: 'subscriptions' }, 'Subscription', sub.id!, Number(sub.meta?.versionId)));
    } catch (e) {
      // Changed meanwhile (the client edited it): the next round reads the new version.
      this.log.debug({ subscription: sub.id, err: (e as Error).message }, 'subscription status not updated');
    }
  }
}

/** The principal a subscription's notifications are filtered for: the client's registered scope and facility. */
export function registeredReader(get: (id: string) => { facility: string; scope: string; admin?: boolean } | undefined, ownFacilityOnly: boolean): ReaderOf {
  return (clientId) => {
    if (!clientId) return undefined;
    const c = get(clientId);
    if (!c) return 'gone';
    return { clientId, facility: c.facility, admin: !!c.admin, grant: parseScopes(c.scope), scope: c.scope, ownFacilityOnly };
  };
}
