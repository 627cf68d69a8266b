import type { Request } from 'express';

/** Where the gateway's own links point: configured, never taken from whatever Host a client sends. */
export interface PublicBase {
  /** BASE_URL: the public base of `/fhir`. */
  baseUrl?: string;
  /** ALLOWED_HOSTS: Host header values (host or host:port) trusted to name the gateway. */
  allowedHosts?: string[];
}

/**
 * The origin of the gateway's links and `Location` headers (scheme://host[:port], no path).
 * BASE_URL wins; else the request's Host when it is one of ALLOWED_HOSTS; else the address the
 * request actually reached. A Host header alone must not decide where clients are sent next
 * (a poisoned `Location` or paging link sends them, and their data, to another server).
 */
export function publicOrigin(req: Request, cfg: PublicBase): string {
  if (cfg.baseUrl) return cfg.baseUrl.replace(/\/+$/, '').replace(/\/fhir$/, '');
  const host = req.get('host')?.toLowerCase();
  if (host && cfg.allowedHosts?.includes(host)) return `${req.protocol}://${host}`;
  const addr = req.socket.localAddress ?? '127.0.0.1';
  // An IPv4 client on a dual-stack listener shows as ::ffff:a.b.c.d.
  const ip = addr.startsWith('::ffff:') ? addr.slice(7) : addr;
  return `http://${ip.includes(':') ? `[${ip}]` : ip}:${req.socket.localPort}`;
}

/** The base of `/fhir` for links: BASE_URL as configured, or the trusted origin with the mount path. */
export function fhirBase(req: Request, cfg: PublicBase): string {
  return cfg.baseUrl ? cfg.baseUrl.replace(/\/+$/, '') : `${publicOrigin(req, cfg)}${req.baseUrl}`;
}
