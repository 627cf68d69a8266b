import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { exportJWK, exportPKCS8, generateKeyPair } from 'jose';
import { clientSchema, parseClients, type RegisteredClient } from '../../auth/clients';

export const summary = 'clients add --id ID --facility MA_CSKCB --scope "system/*.rs" [--name N] [--alg ES384|RS384] [--admin] [--file F]: register a client; prints its private key once';

const USAGE = 'usage: fhir-gateway clients add --id ID --facility MA_CSKCB --scope SCOPES [--name NAME] [--alg ES384|RS384] [--admin] [--file CLIENTS_FILE (default AUTH_CLIENTS_FILE)]\n';

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

export async function run(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: args.slice(1),
      options: { id: { type: 'string' }, facility: { type: 'string' }, scope: { type: 'string' }, name: { type: 'string' }, alg: { type: 'string' }, admin: { type: 'boolean' }, file: { type: 'string' } },
    }));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const file = values.file ?? process.env.AUTH_CLIENTS_FILE;
  if (args[0] !== 'add' || !values.id || !values.facility || !values.scope || !file || (values.alg && values.alg !== 'ES384' && values.alg !== 'RS384')) {
    process.stderr.write(USAGE);
    return 2;
  }
  try {
    const { privateKeyPem, entry } = await addClient(file, {
      id: values.id,
      facility: values.facility,
      scope: values.scope,
      ...(values.name ? { name: values.name } : {}),
      ...(values.admin ? { admin: true } : {}),
      ...(values.alg ? { alg: values.alg as 'ES384' | 'RS384' } : {}),
    });
    process.stderr.write(`client ${entry.clientId} (facility ${entry.facility}, kid ${entry.jwks!.keys[0]!.kid}) added to ${file}\nits private key follows; it is not stored anywhere: keep it with the client\n`);
    process.stdout.write(privateKeyPem);
    return 0;
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 1;
  }
}
