import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, importPKCS8, type JWK, type KeyLike } from 'jose';
import type { Db } from '../store/db';
import { addSigningKey, signingKeys } from '../store/signing-keys';

/**
 * The keys the gateway signs its access tokens with. From AUTH_SIGNING_KEY_FILE (a PEM
 * PKCS#8 key, a JWK, or a JWK Set whose first key is current and second previous), or else
 * generated at first start and kept in the database, so every instance on it shares them.
 * The JWKS publishes the current and the previous key: a rotation does not break live tokens.
 */
export interface SigningKey {
  kid: string;
  alg: string;
  privateKey: KeyLike | Uint8Array;
  publicKey: KeyLike | Uint8Array;
  publicJwk: JWK;
}

const ALG = 'ES256';

async function fromJwk(jwk: JWK): Promise<SigningKey> {
  const alg = jwk.alg ?? (jwk.kty === 'OKP' ? 'EdDSA' : jwk.crv === 'P-384' ? 'ES384' : ALG);
  if (!['ES256', 'ES384', 'EdDSA'].includes(alg)) throw new Error(`signing key algorithm ${alg} is not one of ES256, ES384, EdDSA`);
  if (!jwk.d) throw new Error('the signing key has no private part');
  const kid = jwk.kid ?? (await calculateJwkThumbprint(jwk));
  const { d: _d, ...pub } = jwk;
  const publicJwk = { ...pub, kid, alg, use: 'sig' };
  return { kid, alg, privateKey: await importJWK(jwk, alg), publicKey: await importJWK(publicJwk, alg), publicJwk };
}

async function fromFile(path: string): Promise<SigningKey[]> {
  const text = readFileSync(path, 'utf8').trim();
  if (text.startsWith('-----BEGIN')) {
    // jose needs the algorithm to import a PEM; P-256 is what `openssl ecparam -name prime256v1` makes.
    for (const alg of ['ES256', 'ES384', 'EdDSA']) {
      try {
        const key = await importPKCS8(text, alg, { extractable: true });
        return [await fromJwk({ ...(await exportJWK(key)), alg })];
      } catch {
        // try the next algorithm
      }
    }
    throw new Error(`${path}: not a PKCS#8 EC P-256/P-384 or Ed25519 private key`);
  }
  const parsed = JSON.parse(text) as JWK | { keys: JWK[] };
  const list = 'keys' in parsed ? parsed.keys : [parsed];
  if (list.length === 0) throw new Error(`${path}: the key set is empty`);
  return Promise.all(list.slice(0, 2).map(fromJwk));
}

export class SigningKeys {
  private keys: SigningKey[] = [];
  private lastLoad = 0;

  private constructor(
    private readonly db: Db,
    private readonly file?: string,
  ) {}

  static async open(db: Db, file?: string): Promise<SigningKeys> {
    const k = new SigningKeys(db, file);
    if (!file) {
      const { jwk } = await newJwk();
      await addSigningKey(db, jwk.kid!, JSON.stringify(jwk), true);
    }
    await k.load();
    return k;
  }

  private async load(): Promise<void> {
    this.keys = this.file ? await fromFile(this.file) : await Promise.all((await signingKeys(this.db)).map((s) => fromJwk(JSON.parse(s.jwk) as JWK)));
    this.lastLoad = Date.now();
  }

  get current(): SigningKey {
    return this.keys[0]!;
  }

  /** Current and previous key, public parts only. */
  jwks(): { keys: JWK[] } {
    return { keys: this.keys.map((k) => k.publicJwk) };
  }

  /**
   * A token signed with a kid this instance does not know may come from an instance that
   * rotated: look again in the database, at most every few seconds.
   */
  async find(kid: string | undefined): Promise<SigningKey | undefined> {
    const hit = this.keys.find((k) => k.kid === kid);
    if (hit || this.file || Date.now() - this.lastLoad < 5000) return hit;
    await this.load();
    return this.keys.find((k) => k.kid === kid);
  }

  /** Makes a new current key; the old one stays published as previous. */
  async rotate(): Promise<string> {
    if (this.file) throw new Error('the signing key comes from AUTH_SIGNING_KEY_FILE: rotate it there');
    const { jwk } = await newJwk();
    await addSigningKey(this.db, jwk.kid!, JSON.stringify(jwk));
    await this.load();
    return this.current.kid;
  }
}

async function newJwk(): Promise<{ jwk: JWK }> {
  const { privateKey } = await generateKeyPair(ALG, { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), alg: ALG };
  return { jwk: { ...jwk, kid: `${new Date().toISOString().slice(0, 10)}-${randomUUID().slice(0, 8)}` } };
}
