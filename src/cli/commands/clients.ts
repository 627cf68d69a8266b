import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { exportJWK, exportPKCS8, generateKeyPair } from 'jose';
import { clientSchema, parseClients, type RegisteredClient } from '../../auth/clients';
import type { CommandSpec, ParsedArgs } from '../args';

export const spec: CommandSpec = {
  summary: 'register a client (clients add): generates its key pair, appends the public key to the registry, prints the private key once',
  positional: 'add',
  options: {
    id: { type: 'string', required: true, help: 'the client id (iss and sub of its assertions)' },
    facility: { type: 'string', value: 'MA_CSKCB', required: true, help: "the client's facility code (5 characters)" },
    scope: { type: 'string', value: 'SCOPES', required: true, help: 'SMART scopes it may be granted, e.g. "system/*.rs"' },
    name: { type: 'string', help: 'a readable name' },
    alg: { type: 'string', choices: ['ES384', 'RS384'], help: 'key type (default ES384)' },
    admin: { type: 'boolean', help: "may write any facility's data and read AuditEvents" },
    file: { type: 'string', help: 'the registry file (default AUTH_CLIENTS_FILE)' },
  },
};

export interface NewClient {
  id: string;
  facility: string;
  scope: string;
  name?: string;
  admin?: boolean;
  alg?: 'ES384' | 'RS384';
}

/**
 * Generates the client's key pair, appends its public key to the registry file (the gateway
 * picks the change up on its own) and returns the private key, which is kept nowhere else.
 */
export async function addClient(file: string, c: NewClient): Promise<{ privateKeyPem: string; entry: RegisteredClient }> {
  const list = existsSync(file) ? parseClients(readFileSync(file, 'utf8')) : [];
  if (list.some((x) => x.clientId === c.id)) throw new Error(`client ${c.id} is already registered in ${file}`);
  const alg = c.alg ?? 'ES384';
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const kid = `${c.id}-${new Date().toISOString().slice(0, 10)}`;
  const entry = clientSchema.parse({
    clientId: c.id,
    ...(c.name ? { name: c.name } : {}),
    facility: c.facility,
    scope: c.scope,
    jwks: { keys: [{ ...(await exportJWK(publicKey)), kid, alg, use: 'sig' }] },
    ...(c.admin ? { admin: true } : {}),
  });
  // Written whole and renamed: a gateway reading the file never sees half of it.
  writeFileSync(`${file}.tmp`, `${JSON.stringify([...list, entry], null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
  return { privateKeyPem: await exportPKCS8(privateKey), entry };
}

export async function run(args: ParsedArgs): Promise<number> {
  const v = args.values as { id: string; facility: string; scope: string; name?: string; alg?: 'ES384' | 'RS384'; admin?: boolean; file?: string };
  const file = v.file ?? process.env.AUTH_CLIENTS_FILE;
  if (args.positional !== 'add') {
    process.stderr.write(`fhir-gateway clients: the one subcommand is 'add' (got '${args.positional}')\n`);
    return 2;
  }
  if (!file) {
    process.stderr.write('fhir-gateway clients: name the registry with --file or AUTH_CLIENTS_FILE\n');
    return 2;
  }
  try {
    const { privateKeyPem, entry } = await addClient(file, {
      id: v.id,
      facility: v.facility,
      scope: v.scope,
      ...(v.name ? { name: v.name } : {}),
      ...(v.admin ? { admin: true } : {}),
      ...(v.alg ? { alg: v.alg } : {}),
    });
    process.stderr.write(`client ${entry.clientId} (facility ${entry.facility}, kid ${entry.jwks!.keys[0]!.kid}) added to ${file}\nits private key follows; it is not stored anywhere: keep it with the client\n`);
    process.stdout.write(privateKeyPem);
    return 0;
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 1;
  }
}
