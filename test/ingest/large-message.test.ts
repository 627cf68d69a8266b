import { createHash } from 'node:crypto';
import { STORES, startTestGateway, type TestGateway } from '../helpers/gateway';

/**
 * A large message is kept and can be read back. On the embedded store it is a file named by its
 * sha256 rather than a bytea that would pass through PGlite's WASM heap (scripts/bench/intake-memory.ts
 * measures the memory).
 */
describe.each(STORES)('a 30 MB message (%s store)', (store) => {
  let gw: TestGateway;
  beforeAll(async () => (gw = await startTestGateway(store)));
  afterAll(() => gw.stop());

  test('is stored, answered, and readable back byte for byte via GET /ingest/messages/{id}/raw', async () => {
    const body = Buffer.alloc(30 * 1024 * 1024, 'GIAMDINHHS ');
    const sum = createHash('sha256').update(body).digest('hex');
    const r = await fetch(`${gw.url}/ingest/vn-claim`, { method: 'POST', headers: { 'content-type': 'application/xml' }, body });
    expect(r.status).toBe(422);
    expect(r.headers.get('x-ingest-status')).toBe('rejected');
    const id = r.headers.get('x-ingest-message-id')!;
    const raw = await fetch(`${gw.url}/ingest/messages/${id}/raw`);
    expect(raw.status).toBe(200);
    const back = Buffer.from(await raw.arrayBuffer());
    expect(back.length).toBe(body.length);
    expect(createHash('sha256').update(back).digest('hex')).toBe(sum);
    const [row] = await gw.db.query<{ in_row: boolean; raw_file: string | null }>(`SELECT raw IS NOT NULL AS in_row, raw_file FROM ingest_messages WHERE id = $1`, [id]);
    if (store === 'embedded') expect(row).toEqual({ in_row: false, raw_file: sum });
    else expect(row).toEqual({ in_row: true, raw_file: null });
    // a small one stays in the row
    const small = await fetch(`${gw.url}/ingest/vn-claim`, { method: 'POST', headers: { 'content-type': 'application/xml' }, body: '<not-a-claim/>' });
    const [srow] = await gw.db.query<{ in_row: boolean }>(`SELECT raw IS NOT NULL AS in_row FROM ingest_messages WHERE id = $1`, [small.headers.get('x-ingest-message-id')]);
    expect(srow!.in_row).toBe(true);
  });
});
