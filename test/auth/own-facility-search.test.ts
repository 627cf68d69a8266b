import { FACILITY_TAG_SYSTEM } from '../../src/service/provenance';
import { openTestStore, STORES } from '../helpers/gateway';

/** AUTH_READ=own-facility: a search counts and pages only what the client may see. */
describe.each(STORES)('search limited to a facility (%s store)', (store) => {
  let s: Awaited<ReturnType<typeof openTestStore>>;
  const tagged = (id: string, facility?: string) => ({
    method: 'create' as const,
    resourceType: 'Patient',
    id,
    resource: { resourceType: 'Patient', id, name: [{ family: 'Tổng', given: [id] }], ...(facility ? { meta: { tag: [{ system: FACILITY_TAG_SYSTEM, code: facility }, { system: 'urn:other', code: facility === '20001' ? '79999' : '20001' }] } } : {}) },
  });
  beforeAll(async () => {
    s = await openTestStore(store);
    await s.repo.write([tagged('a1', '20001'), tagged('a2', '20001'), tagged('b1', '79999'), tagged('b2', '79999'), tagged('b3', '79999'), tagged('n1')]);
  }, 120_000);
  afterAll(() => s.close());

  const search = async (facility: string | undefined, params: [string, string][]) => {
    const q = s.repo.parse('Patient', [['family', 'Tổng'], ...params]);
    if (facility) q.facility = { system: FACILITY_TAG_SYSTEM, code: facility };
    const r = await s.repo.search(q);
    return { total: r.total, ids: r.matches.map((m) => m.id).sort(), hasMore: r.hasMore };
  };

  test('total, matches and paging count only the facility\'s own and untagged resources', async () => {
    expect(await search(undefined, [])).toEqual({ total: 6, ids: ['a1', 'a2', 'b1', 'b2', 'b3', 'n1'], hasMore: false });
    expect(await search('20001', [])).toEqual({ total: 3, ids: ['a1', 'a2', 'n1'], hasMore: false });
    expect(await search('79999', [['_count', '2']])).toEqual({ total: 4, ids: expect.any(Array), hasMore: true });
    // A tag of another system with the same code does not count as the facility's.
    expect((await search('79999', [['_count', '10']])).ids).toEqual(['b1', 'b2', 'b3', 'n1']);
    expect((await search('20001', [['_summary', 'count']])).total).toBe(3);
  });
});
