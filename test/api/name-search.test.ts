import { NAME_WORD_ROWS } from '../../src/store/migrations';
import { client, type Call } from '../helpers/http';
import { STORES, startTestGateway, type TestGateway } from '../helpers/gateway';

const ids = (r: any) => (r.body.entry ?? []).filter((e: any) => e.search?.mode === 'match').map((e: any) => e.resource.id).sort();

// Vietnamese given names are several words and people are called by the last one.
const ADT = [
  'MSH|^~\\&|HIS|BV01|GW|GW|202401021030||ADT^A04|NAME-1|P|2.5',
  'PID|1||BN-7788^^^BV01^MR||Trần^Thị Thu Hương||19900101|F',
  'PV1|1|O',
].join('\r');

describe.each(STORES)('searching Vietnamese names by any word (%s store)', (store) => {
  let gw: TestGateway;
  let call: Call;

  beforeAll(async () => {
    gw = await startTestGateway(store);
    call = client(gw.fhir);
    // As another system (or an older mapper) sends it: the whole given name in one entry.
    expect((await call('PUT', '/Patient/huong', { resourceType: 'Patient', id: 'huong', name: [{ family: 'Trần', given: ['Thị Thu Hương'] }] })).status).toBe(201);
    expect((await call('PUT', '/Patient/other', { resourceType: 'Patient', id: 'other', name: [{ family: 'Lê', given: ['Văn Thu'] }] })).status).toBe(201);
    expect((await call('PUT', '/Practitioner/bs', { resourceType: 'Practitioner', id: 'bs', name: [{ text: 'Phạm Minh Châu' }] })).status).toBe(201);
    expect((await call('PUT', '/Organization/bv', { resourceType: 'Organization', id: 'bv', name: 'Bệnh viện Bạch Mai' })).status).toBe(201);
  });
  afterAll(() => gw.stop());

  test.each<[string, string[]]>([
    ['Patient?name=huong', ['huong']],
    ['Patient?name=Hương', ['huong']],
    ['Patient?given=thu', ['huong', 'other']],
    ['Patient?given=thi', ['huong']],
    ['Patient?name=thi&name=huong', ['huong']],
    ['Patient?family=tran', ['huong']],
    // a word start, not any substring
    ['Patient?name=uong', []],
    ['Patient?name:contains=uong', ['huong']],
    // :exact stays the whole value
    ['Patient?given:exact=Thị Thu Hương', ['huong']],
    ['Patient?given:exact=Hương', []],
    ['Patient?name:exact=Hương', []],
    ['Patient?given:exact=', []],
    // only people's names are split into words
    ['Organization?name=mai', []],
    ['Organization?name=benh vien', ['bv']],
    // a name given only as text
    ['Practitioner?name=chau', ['bs']],
    ['Practitioner?name:exact=Châu', []],
  ])('%s', async (q, expected) => {
    expect(ids(await call('GET', `/${q}`))).toEqual(expected);
  });

  test('_sort=name orders by the whole name, not by its words', async () => {
    // whole values: "le", "van thu", "le van thu" → min "le"; "tran", "thi thu huong", … → min "thi thu huong"
    const r = await call('GET', '/Patient?_sort=name');
    expect(ids({ body: { entry: r.body.entry } })).toEqual(['huong', 'other']);
    expect(r.body.entry.map((e: any) => e.resource.id)).toEqual(['other', 'huong']);
  });

  test('the HL7 mapper writes PID-5 given names one word per entry, found by each word', async () => {
    const r = await fetch(`${gw.url}/ingest/hl7v2`, { method: 'POST', headers: { 'content-type': 'x-application/hl7-v2+er7' }, body: ADT });
    expect(r.status).toBe(200);
    expect(await r.text()).toMatch(/MSA\|AA/);
    const found = await call('GET', '/Patient?identifier=BN-7788');
    expect(found.body.entry[0].resource.name[0]).toMatchObject({ family: 'Trần', given: ['Thị', 'Thu', 'Hương'] });
    const id = found.body.entry[0].resource.id;
    expect(ids(await call('GET', '/Patient?given=huong'))).toContain(id);
    expect(ids(await call('GET', '/Patient?given:exact=Hương'))).toEqual([id]);
  });

  test('the migration step gives stored names the same word rows a write gives them', async () => {
    const rows = () => gw.db.query<{ resource_type: string; id: string; param: string; norm: string }>(
      `SELECT resource_type, id, param, norm FROM sp_string WHERE exact = '' ORDER BY resource_type, id, param, norm`,
    );
    const written = await rows();
    expect(written).toContainEqual({ resource_type: 'Patient', id: 'huong', param: 'given', norm: 'huong' });
    expect(written).toContainEqual({ resource_type: 'Practitioner', id: 'bs', param: 'name', norm: 'chau' });
    await gw.db.query(`DELETE FROM sp_string WHERE exact = ''`);
    expect(await rows()).toEqual([]);
    await gw.db.query(NAME_WORD_ROWS);
    expect(await rows()).toEqual(written);
  });
});
