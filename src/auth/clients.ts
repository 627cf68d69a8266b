import { readFileSync, statSync } from 'node:fs';
import { createLocalJWKSet, createRemoteJWKSet, type JWK, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';

/**
 * The registered clients, from AUTH_CLIENTS_FILE (other tools write it, so its shape is fixed).
 * The file is looked at again whenever it changed (size or time), so adding a client needs no
 * restart; a file that no longer parses keeps the last good list and says why.
 */
const jwkSchema = z.object({ kty: z.string(), kid: z.string().optional() }).passthrough();

export const clientSchema = z.object({
  clientId: z.string().min(1),
  name: z.string().optional(),
  facility: z.string().regex(/^[A-Za-z0-9]{5}$/, 'facility is the 5-character MA_CSKCB'),
  scope: z.string(),
  jwks: z.object({ keys: z.array(jwkSchema) }).optional(),
  jwksUrl: z.string().url().optional(),
  admin: z.boolean().optional(),
  /** SHA-256 of the DER client certificate the facility's MLLP sender presents (hex, colons allowed). */
  mllpCertSha256: z.string().optional(),
  /** Source addresses (CIDR) the facility's MLLP senders connect from. */
  mllpSources: z.array(z.string()).optional(),
});

export type RegisteredClient = z.infer<typeof clientSchema>;

export interface ClientEntry {
  client: RegisteredClient;
  keys: JWTVerifyGetKey;
}

export function parseClients(text: string): RegisteredClient[] {
  const list = z.array(clientSchema).parse(JSON.parse(text));
  const ids = new Set<string>();
  for (const c of list) {
    if (ids.has(c.clientId)) throw new Error(`clientId ${c.clientId} is registered twice`);
    ids.add(c.clientId);
    if (!c.jwks && !c.jwksUrl) throw new Error(`client ${c.clientId} has neither jwks nor jwksUrl`);
  }
  return list;
}

export function normaliseFingerprint(s: string): string {
  return s.replace(/:/g, '').toLowerCase();
}

export class ClientRegistry {
  private entries = new Map<string, ClientEntry>();
  private stamp = '';
  /** Why the last change of the file was not taken, when it was not. */
  lastError?: string;

  constructor(private readonly file: string | undefined) {
    this.refresh();
  }

  private refresh(): void {
    if (!this.file) return;
    let stamp: string;
    try {
      const st = statSync(this.file);
      stamp = `${st.mtimeMs}:${st.size}`;
    } catch (e) {
      this.lastError = `${this.file}: ${(e as Error).message}`;
      return;
    }
    if (stamp === this.stamp) return;
    try {
      const list = parseClients(readFileSync(this.file, 'utf8'));
      const next = new Map<string, ClientEntry>();
      for (const c of list) {
        const previous = this.entries.get(c.clientId);
        // Keep a remote key set's cache across reloads when its URL did not change.
        const keys =
          c.jwksUrl && previous?.client.jwksUrl === c.jwksUrl && !c.jwks
            ? previous.keys
            : c.jwks
              ? createLocalJWKSet({ keys: c.jwks.keys as JWK[] })
              : createRemoteJWKSet(new URL(c.jwksUrl!), { cacheMaxAge: 5 * 60_000, cooldownDuration: 30_000, timeoutDuration: 5000 });
        next.set(c.clientId, { client: c, keys });
      }
      this.entries = next;
      this.stamp = stamp;
      this.lastError = undefined;
    } catch (e) {
      this.lastError = `${this.file}: ${(e as Error).message}`;
    }
  }

  get(clientId: string): ClientEntry | undefined {
    this.refresh();
    return this.entries.get(clientId);
  }

  all(): RegisteredClient[] {
    this.refresh();
    return [...this.entries.values()].map((e) => e.client);
  }

  byCertificate(sha256: string): RegisteredClient | undefined {
    const want = normaliseFingerprint(sha256);
    return this.all().find((c) => c.mllpCertSha256 && normaliseFingerprint(c.mllpCertSha256) === want);
  }
}
