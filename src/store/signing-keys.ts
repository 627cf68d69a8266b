import type { Db } from './db';

/**
 * The gateway's token-signing keys, shared by every instance on one database. Newest first;
 * the first is the one tokens are signed with, the next still verifies tokens issued before
 * a rotation.
 */
export interface StoredSigningKey {
  kid: string;
  /** The private JWK as JSON text. */
  jwk: string;
  createdAt: string;
}

export async function signingKeys(db: Db, limit = 2): Promise<StoredSigningKey[]> {
  const rows = await db.query<{ kid: string; jwk: string; created_at: Date | string }>(
    `SELECT kid, jwk::text AS jwk, created_at FROM auth_signing_keys ORDER BY created_at DESC, kid DESC LIMIT $1`,
    [limit],
  );
  return rows.map((r) => ({ kid: r.kid, jwk: r.jwk, createdAt: new Date(r.created_at).toISOString() }));
}

/**
 * Adds a key. `onlyIfNone`: the first start's key, added under a lock so two instances
 * starting together on one database end up with one key, not two.
 */
export async function addSigningKey(db: Db, kid: string, jwk: string, onlyIfNone = false): Promise<void> {
  await db.transaction(async (tx) => {
    if (db.kind === 'postgres') await tx.query(`SELECT pg_advisory_xact_lock(7243011)`);
    if (onlyIfNone && (await tx.query(`SELECT 1 FROM auth_signing_keys LIMIT 1`)).length > 0) return;
    await tx.query(`INSERT INTO auth_signing_keys (kid, jwk, created_at) VALUES ($1, $2::jsonb, clock_timestamp())`, [kid, jwk]);
  });
}
