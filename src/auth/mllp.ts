import { readFileSync } from 'node:fs';
import { BlockList, isIPv4, type Socket } from 'node:net';
import type { TLSSocket, TlsOptions } from 'node:tls';
import type { MllpHandler } from '../listeners/mllp';
import type { AuditTrail } from './audit';
import { normaliseFingerprint, type ClientRegistry, type RegisteredClient } from './clients';
import type { SecurityConfig } from './config';
import { runAs, type Principal, type RequestSecurity } from './context';
import { parseScopes } from './scopes';

/**
 * MLLP under AUTH=smart. MLLP carries no token, so the connection itself says who sends:
 * a client certificate (MLLP over TLS, certificate fingerprint registered as `mllpCertSha256`)
 * or a source address in a facility's `mllpSources`. Each admitted connection's messages
 * run as that client, through the same facility rules and audit trail as HTTP.
 */
export interface MllpSecurity {
  tls?: TlsOptions;
  admit(socket: Socket): Principal | undefined;
  handler(inner: MllpHandler): MllpHandler;
}

function principalOf(c: RegisteredClient, ownFacilityOnly: boolean): Principal {
  return { clientId: c.clientId, facility: c.facility, admin: c.admin === true, scope: c.scope, grant: parseScopes(c.scope), ownFacilityOnly };
}

function addressOf(socket: Socket): string | undefined {
  const a = socket.remoteAddress;
  return a?.startsWith('::ffff:') && isIPv4(a.slice(7)) ? a.slice(7) : a;
}

export function sourceMatches(cidrs: string[], address: string): boolean {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [net, bits] = cidr.split('/') as [string, string | undefined];
    const type = isIPv4(net) ? 'ipv4' : 'ipv6';
    if (bits === undefined) list.addAddress(net, type);
    else list.addSubnet(net, Number(bits), type);
  }
  return list.check(address, isIPv4(address) ? 'ipv4' : 'ipv6');
}

export function mllpSecurity(cfg: SecurityConfig, clients: ClientRegistry, audit: AuditTrail): MllpSecurity {
  const tls = cfg.mllpTls
    ? {
        cert: readFileSync(cfg.mllpTls.cert),
        key: readFileSync(cfg.mllpTls.key),
        ...(cfg.mllpTls.ca ? { ca: readFileSync(cfg.mllpTls.ca) } : {}),
        requestCert: true,
        rejectUnauthorized: true,
        minVersion: 'TLSv1.2' as const,
      }
    : undefined;
  if (!tls && !clients.all().some((c) => c.mllpSources?.length)) {
    throw new Error('AUTH=smart: the MLLP port would be open to anyone; set MLLP_TLS_CERT/MLLP_TLS_KEY (client certificates), register mllpSources, or MLLP_PORT=off');
  }
  const own = cfg.read === 'own-facility';
  return {
    ...(tls ? { tls } : {}),
    admit(socket) {
      if (tls) {
        const cert = (socket as TLSSocket).getPeerCertificate?.();
        const fp = cert?.fingerprint256 ? normaliseFingerprint(cert.fingerprint256) : undefined;
        const byCert = fp ? clients.byCertificate(fp) : undefined;
        if (byCert) return principalOf(byCert, own);
      }
      const address = addressOf(socket);
      const bySource = address ? clients.all().find((c) => c.mllpSources?.length && sourceMatches(c.mllpSources, address)) : undefined;
      return bySource ? principalOf(bySource, own) : undefined;
    },
    handler(inner) {
      return async (raw, meta) => {
        const principal = meta.admitted as Principal | undefined;
        if (!principal) return inner(raw, meta);
        // As over HTTP: refused (the listener answers AR, "send it again") rather than taken unaudited.
        if (audit.full()) throw new Error('the audit trail is behind');
        const state: RequestSecurity = { principal, patients: new Set() };
        let status = 200;
        try {
          return await runAs(principal, () => inner(raw, meta), state);
        } catch (e) {
          status = 500;
          throw e;
        } finally {
          audit.record({ interaction: 'import', action: 'C', status, principal, remoteAddress: meta.remoteAddress, patients: state.patients, target: 'hl7v2', recorded: new Date().toISOString() });
        }
      };
    },
  };
}
