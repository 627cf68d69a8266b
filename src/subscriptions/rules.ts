import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { FhirError, issue } from '../fhir/outcome';
import { current } from '../auth/context';
import { FEED_TAG_SYSTEM } from '../service/provenance';
import { criteriaQuery } from '../store/outbox';
import type { AnyResource } from '../store/types';
import type { PendingWrite } from '../store/writer';

/** The client a Subscription was written by: notifications show it only what it may read. */
export const CLIENT_TAG_SYSTEM = 'urn:fhir-gateway:client';
export const CHANNELS = ['rest-hook', 'websocket'];

const invalid = (msg: string, where: string) => new FhirError(400, [issue('error', 'invalid', msg, where)]);

function loopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/** Addresses inside the hospital network (RFC 1918, link-local, unique-local): never a target unless listed. */
function internal(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (isIP(h) === 4) return /^(10\.|192\.168\.|169\.254\.|172\.(1[6-9]|2\d|3[01])\.|0\.)/.test(h);
  if (isIP(h) === 6) return /^(fc|fd|fe80)/.test(h);
  return false;
}

type Resolve = (hostname: string, options: LookupOptions, callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void) => void;

/**
 * The DNS lookup for a rest-hook's connection: a name that resolves to a loopback or internal
 * address (at the write it was only a name; at send time it may also have been re-pointed) is
 * refused unless SUBSCRIPTION_ALLOWED_HOSTS lists it, or the endpoint named loopback itself.
 * Checked when the socket connects, on the very addresses it connects to.
 */
export function guardedLookup(endpointHost: string, allowedHosts: string[], resolve: Resolve = dnsLookup as unknown as Resolve): LookupFunction {
  const host = endpointHost.toLowerCase();
  const trusted = allowedHosts.includes(host) || loopback(host);
  return ((hostname: string, options: LookupOptions, callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void) => {
    resolve(hostname, { ...options, all: true }, (err, addresses) => {
      const all = (addresses ?? []) as LookupAddress[];
      if (err) return callback(err, options.all ? [] : '', undefined);
      const bad = trusted ? undefined : all.find((a) => {
        const ip = a.address.replace(/^::ffff:/i, '');
        return loopback(ip) || internal(ip) || ip === '::' || ip === '0.0.0.0';
      });
      if (bad) return callback(Object.assign(new Error(`${hostname} resolves to ${bad.address}, an internal address; list ${hostname} in SUBSCRIPTION_ALLOWED_HOSTS to allow it`), { code: 'EINTERNAL' }), options.all ? [] : '', undefined);
      if (options.all) return callback(null, all);
      callback(null, all[0]?.address ?? '', all[0]?.family);
    });
  }) as LookupFunction;
}

/**
 * Where a rest-hook may point: https anywhere public, plain http only to loopback, and hosts
 * inside the network only when SUBSCRIPTION_ALLOWED_HOSTS names them, so a Subscription cannot
 * make the gateway call internal services.
 */
export function endpointProblem(endpoint: string, allowedHosts: string[]): string | undefined {
  let u: URL;
  try {
    u = new URL(endpoint);
  } catch {
    return `'${endpoint}' is not a URL`;
  }
  const host = u.hostname.toLowerCase();
  if (allowedHosts.includes(host) || loopback(host)) return u.protocol === 'http:' || u.protocol === 'https:' ? undefined : `${u.protocol} endpoints are not supported`;
  if (u.protocol !== 'https:') return `rest-hook endpoints must be https (plain http only to loopback or SUBSCRIPTION_ALLOWED_HOSTS)`;
  if (internal(host)) return `${host} is an internal address; list it in SUBSCRIPTION_ALLOWED_HOSTS to allow it`;
  return undefined;
}

/**
 * A client's Subscription, checked and started on the write road: the criteria must be a
 * search this server runs, the channel one it speaks, the endpoint a permitted one. A new
 * `requested` Subscription becomes `active` at once (the checks are the handshake); the client
 * that wrote it is recorded for the read rules.
 */
export function checkSubscriptionWrites(writes: PendingWrite[], allowedHosts: string[]): void {
  for (const w of writes) {
    if (w.resourceType !== 'Subscription' || w.method === 'delete' || !w.resource) continue;
    const r = w.resource;
    const feed = r.meta?.tag?.find((t) => t.system === FEED_TAG_SYSTEM)?.code;
    if (feed !== undefined && feed !== 'rest') continue;
    const criteria = String(r.criteria ?? '');
    if (!/^[A-Z][A-Za-z]+(\?.*)?$/.test(criteria)) throw invalid(`criteria '${criteria}' is not a search URL like Task?owner=Organization/20001`, 'Subscription.criteria');
    const q = criteriaQuery(criteria);
    if (!q) throw invalid(`criteria '${criteria}' is not a search this server can run (unknown type or parameter)`, 'Subscription.criteria');
    const channel = (r.channel ?? {}) as { type?: string; endpoint?: string; payload?: string; header?: string[] };
    if (!CHANNELS.includes(String(channel.type))) throw new FhirError(400, [issue('error', 'not-supported', `channel type '${String(channel.type)}' is not supported; use ${CHANNELS.join(' or ')}`, 'Subscription.channel.type')]);
    if (channel.payload !== undefined && channel.payload !== 'application/fhir+json' && channel.payload !== 'application/json') {
      throw new FhirError(400, [issue('error', 'not-supported', `payload '${channel.payload}' is not supported; use application/fhir+json or none (ping)`, 'Subscription.channel.payload')]);
    }
    if (channel.type === 'rest-hook') {
      const problem = endpointProblem(String(channel.endpoint ?? ''), allowedHosts);
      if (problem) throw invalid(problem, 'Subscription.channel.endpoint');
      for (const h of channel.header ?? []) if (!/^[A-Za-z0-9-]+:\s?[^\r\n]*$/.test(h)) throw invalid(`header '${h.split(':')[0]}' is not 'Name: value'`, 'Subscription.channel.header');
    }
    const next: AnyResource = { ...r };
    if (next.status === 'requested') next.status = 'active';
    const client = current()?.principal.clientId;
    const tags = (r.meta?.tag ?? []).filter((t) => t.system !== CLIENT_TAG_SYSTEM);
    if (client) tags.push({ system: CLIENT_TAG_SYSTEM, code: client });
    next.meta = { ...(r.meta ?? {}), tag: tags };
    w.resource = next;
  }
}
