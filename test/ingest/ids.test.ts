import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { v5 as uuidV5, validate, version } from 'uuid';
import { ID_NAMESPACE, deterministicId, useIdScheme } from '../../src/ingest/ids';
import { CORPORA } from '../helpers/corpora';
import { client } from '../helpers/http';
import { STORES, createTestDatabase, startTestGateway, type TestGateway } from '../helpers/gateway';

const V5 = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const adt = readFileSync(join(CORPORA, 'fhir-converter', 'input', 'Hl7v2', 'ADT-A01-01.hl7'), 'latin1');
/** The same admission under another MSH-10, so it is processed again rather than answered as a duplicate. */
const resent = (controlId: string) => adt.replace('|MSG00001|', `|${controlId}|`);

afterEach(() => useIdScheme('v5'));

test('v5 ids are RFC 4122 version-5 UUIDs in the project namespace, and stable', () => {
  useIdScheme('v5');
  const id = deterministicId('79001', 'Patient', 'BN-1');
  expect(id).toMatch(V5);
  expect(validate(id) && version(id)).toBe(5);
  expect(id).toBe(uuidV5('79001\u001fPatient\u001fBN-1', ID_NAMESPACE));
  expect(deterministicId('79001', 'Patient', 'BN-1')).toBe(id);
  expect(deterministicId('79002', 'Patient', 'BN-1')).not.toBe(id);
});

test('the legacy scheme gives the first releases\u2019 ids', () => {
  useIdScheme('legacy');
  expect(deterministicId('79001', 'Patient', 'BN-1')).toBe('ec92b48f-a8b8-56d9-a60c-3d3c8b5d38fa');
});

// The choice is the same SQL on both stores; a restart of the embedded store on disk costs ~30 s here, so one store.
describe.each(STORES.slice(-1))('the id scheme is chosen once per database (%s store)', (store) => {
  let place: { databaseUrl?: string; dataDir: string };
  let drop: () => Promise<void>;
  beforeEach(async () => {
    if (store === 'postgres') {
      const db = await createTestDatabase();
      place = { databaseUrl: db.url, dataDir: '' };
      drop = db.drop;
    } else {
      const dir = mkdtempSync(join(tmpdir(), 'ids-'));
      place = { dataDir: dir };
      drop = async () => rmSync(dir, { recursive: true, force: true });
    }
  });
  afterEach(() => drop());

  const start = () => startTestGateway('embedded', { ...place, mllpPort: -1 });
  const send = (gw: TestGateway, msg: string) =>
    fetch(`${gw.url}/ingest/hl7v2`, { method: 'POST', headers: { 'content-type': 'x-application/hl7-v2+er7' }, body: Buffer.from(msg, 'latin1') });
  const patientIds = async (gw: TestGateway) => ((await client(gw.fhir)('GET', '/Patient')).body.entry ?? []).map((e: { resource: { id: string } }) => e.resource.id);

  test('a new database gets v5 ids, and keeps them across restarts', async () => {
    let gw = await start();
    try {
      expect((await gw.db.query<{ value: string }>(`SELECT value FROM settings WHERE key = 'id_scheme'`))[0]!.value).toBe('v5');
      expect((await send(gw, adt)).status).toBe(200);
      const [id] = await patientIds(gw);
      expect(id).toMatch(V5);
    } finally {
      await gw.close();
    }
    gw = await start();
    try {
      expect(deterministicId('79001', 'Patient', 'BN-1')).toMatch(V5);
      expect((await send(gw, resent('V5-AGAIN'))).status).toBe(200);
      expect(await patientIds(gw)).toHaveLength(1); // the same id again: updated, not duplicated
    } finally {
      await gw.close();
    }
  });

  test('a database holding resources from before the id scheme keeps producing the old ids', async () => {
    // What the first releases left behind: resources under legacy ids and no settings row.
    let gw = await start();
    try {
      await gw.db.query(`DELETE FROM settings`);
      useIdScheme('legacy');
      expect((await send(gw, adt)).status).toBe(200);
    } finally {
      await gw.close();
    }
    useIdScheme('v5');
    gw = await start();
    try {
      const before = await patientIds(gw);
      expect(before).toHaveLength(1);
      expect((await gw.db.query<{ value: string }>(`SELECT value FROM settings WHERE key = 'id_scheme'`))[0]!.value).toBe('legacy');
      expect(deterministicId('79001', 'Patient', 'BN-1')).toBe('ec92b48f-a8b8-56d9-a60c-3d3c8b5d38fa');
      expect((await send(gw, resent('LEGACY-AGAIN'))).status).toBe(200);
      expect(await patientIds(gw)).toEqual(before); // the re-sent admission updated the same Patient
    } finally {
      await gw.close();
    }
  });
});
