import { openDb } from '../../src/store/db';
import { Repository } from '../../src/store/repository';
import { createTestDatabase } from '../helpers/gateway';

const pgOnly = process.env.DATABASE_URL ? test : test.skip;

/** Gateways started together on an empty server: every one starts, the schema is applied once. */
pgOnly('5 concurrent Repository.open on a fresh empty database all succeed, three times over', async () => {
  for (let trial = 0; trial < 3; trial++) {
    const server = await createTestDatabase();
    const dbs = await Promise.all(Array.from({ length: 5 }, () => openDb({ databaseUrl: server.url, dataDir: '' })));
    try {
      const opened = await Promise.allSettled(dbs.map((db) => Repository.open(db)));
      expect(opened.filter((o) => o.status === 'rejected').map((o) => String((o as PromiseRejectedResult).reason))).toEqual([]);
      const versions = await dbs[0]!.query<{ version: number }>(`SELECT version FROM schema_migrations ORDER BY version`);
      expect(versions.map((v) => v.version)).toEqual(versions.map((_, i) => i + 1));
    } finally {
      await Promise.all(dbs.map((db) => db.close()));
      await server.drop();
    }
  }
});
