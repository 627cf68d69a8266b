import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { STORES, startTestGateway, type TestGateway } from '../helpers/gateway';

/**
 * Mutated corpus messages that once answered 500 (a NUL in MSH-3, NULs inside DICOM values
 * written to text and jsonb columns). Each must now get a 4xx or an ACK, and be logged.
 */
const DIR = join(__dirname, 'fuzz-regressions');
const CONTENT_TYPE: Record<string, string> = { hl7v2: 'x-application/hl7-v2+er7', dicom: 'application/dicom', 'vn-claim': 'application/xml' };

describe.each(STORES)('inputs that once gave 5xx (%s store)', (store) => {
  let gw: TestGateway;
  beforeAll(async () => (gw = await startTestGateway(store)));
  afterAll(() => gw.stop());

  test.each(readdirSync(DIR))('%s', async (file) => {
    const feed = file.split('-').slice(0, -1).join('-');
    const r = await fetch(`${gw.url}/ingest/${feed}`, { method: 'POST', headers: { 'content-type': CONTENT_TYPE[feed]! }, body: readFileSync(join(DIR, file)) });
    await r.arrayBuffer();
    expect(r.status).toBeLessThan(500);
    expect(r.headers.get('x-ingest-status')).toMatch(/accepted|quarantined|rejected/);
  });
});
