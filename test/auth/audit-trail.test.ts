import { auditEvent, AuditTrail } from '../../src/auth/audit';
import { parseAuditSearch } from '../../src/auth/audit-search';
import { createLogger } from '../../src/logger';
import { countAuditRows, insertAuditRows, readAuditRow, searchAuditRows, type AuditRow } from '../../src/store/audit-events';
import { openTestStore, STORES } from '../helpers/gateway';

/** The audit table (append-only, batched) and its AuditEvent search, on both stores. */
const principal = (clientId: string, facility: string) => ({ clientId, facility, admin: false, grant: [], scope: '', ownFacilityOnly: false });
const facts = (clientId: string, facility: string, recorded: string, extra: Record<string, unknown> = {}) => ({
  interaction: 'read',
  action: 'R' as const,
  status: 200,
  principal: principal(clientId, facility),
  patients: ['Patient/p1'],
  target: 'Patient/p1',
  recorded,
  ...extra,
});

describe('AuditTrail: batches, retries, never drops', () => {
  const log = createLogger('silent');

  test('a failing batch stays queued, is counted and written on the next try', async () => {
    const written: AuditRow[] = [];
    let fail = 2;
    const trail = new AuditTrail(async (rows) => {
      if (fail-- > 0) throw new Error('database away');
      written.push(...rows);
    }, 100, log, 10, 3);
    for (let i = 0; i < 7; i++) trail.record(facts('his-20001', '20001', `2026-12-01T00:00:0${i}.000Z`));
    await trail.flush();
    expect(trail.failures).toBeGreaterThanOrEqual(1);
    await trail.close(10);
    expect(trail.pending).toBe(0);
    expect(written.map((r) => r.recorded)).toEqual(Array.from({ length: 7 }, (_, i) => `2026-12-01T00:00:0${i}.000Z`));
    expect(trail.written).toBe(7);
    expect(new Set(written.map((r) => r.id)).size).toBe(7);
  });

  test('a full batch is written without waiting for the timer', async () => {
    const batches: number[] = [];
    const trail = new AuditTrail(async (rows) => void batches.push(rows.length), 100, log, 60_000, 4);
    for (let i = 0; i < 4; i++) trail.record(facts('a', '20001', '2026-12-01T00:00:00.000Z'));
    await new Promise((r) => setTimeout(r, 20));
    expect(batches).toEqual([4]);
    await trail.close();
  });

  test('a steady stream against a slow store: one statement per batch, not one per few rows that came while the last ran', async () => {
    const sizes: number[] = [];
    // 20 ms a statement, whatever its size (a busy store: the round trip dominates)
    const trail = new AuditTrail(async (rows) => {
      sizes.push(rows.length);
      await new Promise((r) => setTimeout(r, 20));
    }, 100_000, log, 100, 100);
    // 2,000 rows over about 400 ms: 5 a millisecond
    for (let i = 0; i < 80; i++) {
      for (let j = 0; j < 25; j++) trail.record(facts('a', '20001', '2026-12-01T00:00:00.000Z'));
      await new Promise((r) => setTimeout(r, 5));
    }
    await trail.close();
    expect(trail.written).toBe(2000);
    // 20 full batches at least would do; writing whatever had come while the last statement ran took about 80
    expect(sizes.length).toBeLessThanOrEqual(30);
    expect(sizes.slice(0, -1).every((n) => n >= 100)).toBe(true);
  });

  test('the AuditEvent built from a row: who, what, when, outcome, patient, facility', () => {
    const ae = auditEvent({ id: 'x1', recorded: '2026-12-01T08:00:00.000Z', interaction: 'search-type', action: 'E', status: 403, clientId: 'central-01', facility: '01001', patients: ['Patient/p9'], target: 'Observation', query: 'patient=p9' });
    expect(ae).toMatchObject({ id: 'x1', recorded: '2026-12-01T08:00:00.000Z', action: 'E', outcome: '4', outcomeDesc: 'HTTP 403', subtype: [{ code: 'search-type' }] });
    expect(ae.agent[0]!.who!.reference).toBe('Device/central-01');
    expect(ae.agent[1]!.who!.identifier!.value).toBe('01001');
    expect(ae.entity!.map((e) => e.what?.reference ?? e.what?.display ?? Buffer.from(e.query!, 'base64').toString())).toEqual(['Patient/p9', 'Observation', 'patient=p9']);
  });
});

describe('parseAuditSearch', () => {
  test('parameters become filters; bad values are 400s naming the parameter', () => {
    const s = parseAuditSearch([['date', 'ge2026-12-01'], ['date', 'lt2026-12-02'], ['agent', 'Device/his-20001,lab-20001'], ['patient', 'p1'], ['outcome', '4,8'], ['facility', 'urn:x|20001'], ['_sort', 'date'], ['_count', '5']]);
    expect(s.filter).toMatchObject({ recorded: [{ lo: Date.UTC(2026, 11, 1) }, { hi: Date.UTC(2026, 11, 2) }], clientIds: ['his-20001', 'lab-20001'], patients: ['Patient/p1'], statuses: [[400, 500], [500, 600]], facilities: ['20001'] });
    expect(s).toMatchObject({ count: 5, newestFirst: false });
    expect(() => parseAuditSearch([['date', 'yesterday']])).toThrow(/date/);
    expect(() => parseAuditSearch([['outcome', '3']])).toThrow(/outcome/);
    expect(() => parseAuditSearch([['_sort', 'agent']])).toThrow(/_sort/);
    expect(parseAuditSearch([['colour', 'red']]).ignored).toEqual(['colour']);
    expect(() => parseAuditSearch([['colour', 'red']], true)).toThrow(/colour/);
  });
});

describe.each(STORES)('audit table (%s store)', (store) => {
  let s: Awaited<ReturnType<typeof openTestStore>>;
  beforeAll(async () => {
    s = await openTestStore(store);
    const row = (id: string, clientId: string, facility: string, recorded: string, extra: Partial<AuditRow> = {}): AuditRow => ({ id, recorded, interaction: 'read', action: 'R', status: 200, clientId, facility, patients: [], ...extra });
    await insertAuditRows(s.db, [
      row('a1', 'his-20001', '20001', '2026-12-01T01:00:00.000Z', { patients: ['Patient/p1'], target: 'Patient/p1', remoteAddress: '10.0.0.1' }),
      row('a2', 'his-20001', '20001', '2026-12-01T02:00:00.000Z', { interaction: 'create', action: 'C', status: 201, patients: ['Patient/p2'] }),
      row('a3', 'central-01', '01001', '2026-12-02T03:00:00.000Z', { interaction: 'search-type', action: 'E', patients: ['Patient/p1', 'Patient/p2'], target: 'Observation', query: 'patient=p1' }),
      row('a4', 'central-01', '01001', '2026-12-03T04:00:00.000Z', { interaction: 'create', action: 'C', status: 403, target: 'Patient' }),
      row('a5', 'his-79999', '79999', '2026-12-03T05:00:00.000Z', { interaction: 'import', action: 'C', status: 200, patients: ['Patient/p3'], target: 'vn-claim' }),
    ]);
    // The same batch again (a retried flush whose first try did commit): no duplicates.
    await insertAuditRows(s.db, [row('a1', 'his-20001', '20001', '2026-12-01T01:00:00.000Z')]);
  }, 120_000);
  afterAll(() => s.close());

  const ids = async (params: [string, string][], page = { count: 50, offset: 0 }) => {
    const q = parseAuditSearch(params);
    return (await searchAuditRows(s.db, q.filter, { ...page, newestFirst: q.newestFirst })).rows.map((r) => r.id);
  };

  test('rows come back as written', async () => {
    expect(await readAuditRow(s.db, 'a1')).toEqual({ id: 'a1', recorded: '2026-12-01T01:00:00.000Z', interaction: 'read', action: 'R', status: 200, clientId: 'his-20001', facility: '20001', remoteAddress: '10.0.0.1', patients: ['Patient/p1'], target: 'Patient/p1' });
    expect(await readAuditRow(s.db, 'nope')).toBeUndefined();
    expect(await countAuditRows(s.db, { recorded: [] })).toBe(5);
  });

  test('search by date, agent, facility, patient, entity, action, outcome, subtype, type; newest first; paging', async () => {
    expect(await ids([])).toEqual(['a5', 'a4', 'a3', 'a2', 'a1']);
    expect(await ids([['_sort', 'date']])).toEqual(['a1', 'a2', 'a3', 'a4', 'a5']);
    expect(await ids([['date', '2026-12-01']])).toEqual(['a2', 'a1']);
    expect(await ids([['date', 'gt2026-12-01'], ['date', 'le2026-12-03T04:00']])).toEqual(['a4', 'a3']);
    expect(await ids([['date', 'ne2026-12-03']])).toEqual(['a3', 'a2', 'a1']);
    expect(await ids([['agent', 'Device/central-01']])).toEqual(['a4', 'a3']);
    expect(await ids([['facility', '20001']])).toEqual(['a2', 'a1']);
    expect(await ids([['patient', 'Patient/p1']])).toEqual(['a3', 'a1']);
    expect(await ids([['patient', 'p2,p3']])).toEqual(['a5', 'a3', 'a2']);
    expect(await ids([['entity', 'Observation']])).toEqual(['a3']);
    expect(await ids([['action', 'C']])).toEqual(['a5', 'a4', 'a2']);
    expect(await ids([['outcome', '4']])).toEqual(['a4']);
    expect(await ids([['subtype', 'http://hl7.org/fhir/restful-interaction|create']])).toEqual(['a4', 'a2']);
    expect(await ids([['type', '110107']])).toEqual(['a5']);
    expect(await ids([['type', 'rest'], ['agent', 'his-79999']])).toEqual([]);
    expect(await ids([], { count: 2, offset: 2 })).toEqual(['a3', 'a2']);
    expect(await countAuditRows(s.db, parseAuditSearch([['agent', 'central-01'], ['outcome', '0']]).filter)).toBe(1);
  });
});
