import { client, type Call } from '../helpers/http';
import { STORES, startTestGateway, type TestGateway } from '../helpers/gateway';

/** IHE PIXm `Patient/$ihe-pix`: a facility's id → the same person's ids and records elsewhere, from the MPI. */
const SID = 'http://fhir.ehealth.gov.vn/core/sid';
const CCCD = `${SID}/national_id`;
const MA_BN = `${SID}/patient-internal-id`;
const BHYT = `${SID}/insurance_number`;
const q = (s: string) => encodeURIComponent(s);
const out = (body: any, name: string) => (body.parameter ?? []).filter((p: any) => p.name === name).map((p: any) => p.valueIdentifier ?? p.valueReference.reference);

describe.each(STORES)('Patient/$ihe-pix (%s store)', (store) => {
  let gw: TestGateway;
  let call: Call;
  let hcm: string;
  let hn: string;
  beforeAll(async () => {
    gw = await startTestGateway(store);
    call = client(gw.fhir);
    const post = async (r: Record<string, unknown>, facility: string) => {
      const res = await call('POST', '/Patient', r, { 'x-facility-code': facility });
      if (res.status !== 201) throw new Error(JSON.stringify(res.body));
      return res.body.id as string;
    };
    const name = [{ family: 'Võ', given: ['Thị Lan'] }];
    hcm = await post({ resourceType: 'Patient', name, gender: 'female', birthDate: '1971-02-03', identifier: [{ system: CCCD, value: '079171000321' }, { system: MA_BN, value: 'HCM-5' }] }, '79001');
    hn = await post({ resourceType: 'Patient', name, gender: 'female', birthDate: '1971-02-03', identifier: [{ system: CCCD, value: '079171000321' }, { system: MA_BN, value: 'HN-9' }, { system: BHYT, value: 'HT2790171000321' }] }, '01002');
    await post({ resourceType: 'Patient', name: [{ family: 'Lê', given: ['Văn Tám'] }], gender: 'male', birthDate: '1980-01-01', identifier: [{ system: MA_BN, value: 'HCM-6' }] }, '79001');
  }, 300_000);
  afterAll(() => gw.stop());

  test('one facility\'s id gives the person\'s identifiers and records at every facility', async () => {
    const r = await call('GET', `/Patient/$ihe-pix?sourceIdentifier=${q(`${MA_BN}|HCM-5`)}`);
    expect(r.status).toBe(200);
    expect(r.body.resourceType).toBe('Parameters');
    expect(out(r.body, 'targetIdentifier')).toEqual(expect.arrayContaining([{ system: CCCD, value: '079171000321' }, { system: MA_BN, value: 'HN-9' }, { system: BHYT, value: 'HT2790171000321' }]));
    expect(out(r.body, 'targetIdentifier')).toHaveLength(3);
    expect(out(r.body, 'targetId').sort()).toEqual([`Patient/${hcm}`, `Patient/${hn}`].sort());
  });

  test('targetSystem keeps that system\'s identifiers and the records carrying them', async () => {
    const r = await call('GET', `/Patient/$ihe-pix?sourceIdentifier=${q(`${CCCD}|079171000321`)}&targetSystem=${q(BHYT)}`);
    expect(r.status).toBe(200);
    expect(out(r.body, 'targetIdentifier')).toEqual([{ system: BHYT, value: 'HT2790171000321' }]);
    expect(out(r.body, 'targetId')).toEqual([`Patient/${hn}`]);
    // POST with Parameters, and a system nobody carries yet under VN Core: no cross-reference, not an error
    const none = await call('POST', '/Patient/$ihe-pix', { resourceType: 'Parameters', parameter: [{ name: 'sourceIdentifier', valueString: `${MA_BN}|HCM-6` }, { name: 'targetSystem', valueUri: CCCD }] });
    expect(none.status).toBe(200);
    expect(none.body.parameter).toBeUndefined();
  });

  test('unknown identifier 404, unknown target system 403, malformed or missing source 400', async () => {
    expect((await call('GET', `/Patient/$ihe-pix?sourceIdentifier=${q(`${MA_BN}|KHONG-CO`)}`)).status).toBe(404);
    const forbidden = await call('GET', `/Patient/$ihe-pix?sourceIdentifier=${q(`${MA_BN}|HCM-5`)}&targetSystem=${q('urn:oid:1.2.3.4')}`);
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.issue[0].diagnostics).toContain('urn:oid:1.2.3.4');
    const bad = await call('GET', '/Patient/$ihe-pix?sourceIdentifier=HCM-5');
    expect(bad.status).toBe(400);
    expect(bad.body.issue[0].expression).toEqual(['sourceIdentifier']);
    expect((await call('GET', '/Patient/$ihe-pix')).status).toBe(400);
  });
});
