import type { Bundle, Coverage, CoverageEligibilityResponse, Encounter, OperationOutcome, Patient } from 'fhir/r4';
import { FAKE_PASSWORD, FakeVss, TIMEOUT_MS, lookupConfig, person, type FakePerson } from '../helpers/fake-vss';
import { startTestGateway, type TestGateway } from '../helpers/gateway';
import { client, type Call } from '../helpers/http';
import { inner, setField } from '../vn-claim/fixtures';

const SID = 'http://fhir.ehealth.gov.vn/core/sid';
const SD = 'http://fhir.ehealth.gov.vn/core/StructureDefinition';

const q = (p: FakePerson, by: 'cccd' | 'card' | 'bhxh' = 'cccd', extra = '') => {
  const id = by === 'cccd' ? p.cccd : by === 'card' ? p.maThe : p.maThe.slice(5);
  const [d, m, y] = p.ngaySinh.split('/');
  return `/Coverage/$lookup?identifier=${id}&name=${encodeURIComponent(p.hoTen)}&birthdate=${y}-${m}-${d}${extra}`;
};

const of = <T>(b: Bundle, type: string): T[] => (b.entry ?? []).map((e) => e.resource!).filter((r) => r.resourceType === type) as T[];
const eligibility = (b: Bundle) => b.entry![0]!.resource as CoverageEligibilityResponse;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Cards are kept after the answer goes out: search until the card is there. */
async function kept(call: Call, card: string): Promise<Coverage[]> {
  for (let i = 0; i < 100; i++) {
    const r = await call('GET', `/Coverage?identifier=${SID}/insurance_number|${card}`);
    if (r.body.entry?.length) return r.body.entry.map((e: { resource: Coverage }) => e.resource);
    await sleep(50);
  }
  return [];
}

let n = 0;
/** A new person for each test, so answers cached by one test never serve another. */
const fresh = (fake: FakeVss, over: Partial<FakePerson> = {}) => {
  const p = person(++n, over);
  fake.persons.push(p);
  return p;
};

describe('Coverage/$lookup against the VSS portal (fake on loopback, JSON bodies)', () => {
  const fake = new FakeVss();
  let gw: TestGateway;
  let call: Call;

  beforeAll(async () => {
    await fake.start();
    gw = await startTestGateway('embedded', { lookup: lookupConfig(fake.url) });
    call = client(gw.fhir);
  });
  afterAll(async () => {
    await gw?.stop();
    await fake.stop();
  });
  beforeEach(() => fake.reset());

  it('a card in force: eligibility first, then the Coverage with every card field, the Patient; the card is kept as Coverage', async () => {
    const p = fresh(fake);
    const r = await call('GET', q(p));
    expect(r.status).toBe(200);
    const b = r.body as Bundle;
    expect(b.type).toBe('collection');
    expect(b.meta?.tag?.[0]?.code).toBe('portal');
    const cer = eligibility(b);
    expect(cer.resourceType).toBe('CoverageEligibilityResponse');
    expect(cer.outcome).toBe('complete');
    expect(cer.disposition).toMatch(/^Thẻ còn giá trị sử dụng/);
    expect(cer.insurance![0]!.inforce).toBe(true);
    expect(cer.error).toBeUndefined();
    const [cov] = of<Coverage>(b, 'Coverage');
    expect(b.entry![1]!.resource!.resourceType).toBe('Coverage');
    expect(cov!.identifier).toEqual([{ system: `${SID}/insurance_number`, value: p.maThe }]);
    expect(cov!.status).toBe('active');
    expect(cov!.period).toEqual({ start: '2026-01-01', end: '2026-12-31' });
    expect(cov!.class).toEqual([
      expect.objectContaining({ value: '4', name: '80%' }),
      expect.objectContaining({ value: 'HC' }),
    ]);
    expect(cov!.costToBeneficiary![0]!.valueQuantity).toMatchObject({ value: 20, code: '%' });
    const ext = (url: string) => cov!.extension!.find((e) => e.url === `${SD}/${url}`);
    expect(ext('vn-registered-facility')!.valueReference!.identifier!.value).toBe('79010');
    expect(ext('vn-living-area')!.valueCoding!.code).toBe('K2');
    expect(ext('vn-five-years-continuous')!.valueDate).toBe('2024-01-01');
    expect(ext('vn-issuing-province')!.valueCoding!.code).toBe('79');
    expect(cov!.payor![0]!.display).toBe('BHXH Thành phố Hồ Chí Minh');
    const [pat] = of<Patient>(b, 'Patient');
    expect(pat!.gender).toBe('female');
    expect(pat!.birthDate).toBe('1985-03-15');
    expect(pat!.name![0]).toMatchObject({ family: 'Nguyễn', given: ['Thị', 'Lan'] });
    expect(pat!.address![0]!.text).toBe(p.diaChi);
    expect(pat!.identifier).toEqual(expect.arrayContaining([
      { use: 'official', system: `${SID}/national_id`, value: p.cccd },
      { system: `${SID}/social_insurance_number`, value: p.maThe.slice(5) },
    ]));
    expect(fake.formats).toEqual(['lookup:json']);
    // Kept through the write road: searchable, with the same deterministic id.
    const stored = await kept(call, p.maThe);
    expect(stored.map((c) => c.id)).toEqual([cov!.id]);
    expect(stored[0]!.meta!.source).toBe('urn:fhir-gateway:vss-lookup:vss');
    expect((await call('GET', `/Patient/${pat!.id}`)).body.identifier).toEqual(pat!.identifier);
    const again = await call('GET', q(p, 'card'));
    expect(again.status).toBe(200);
    await sleep(300);
    expect(await kept(call, p.maThe)).toHaveLength(1);
  });

  it('card code and BHXH number work too; the token is reused; a fresh answer comes from the cache with an Age header', async () => {
    const p = fresh(fake);
    expect((await call('GET', q(p, 'card'))).status).toBe(200);
    const cached = await call('GET', q(p, 'card'));
    expect(cached.status).toBe(200);
    expect(cached.headers.get('age')).toMatch(/^\d+$/);
    expect(cached.body.meta.tag[0].code).toBe('cache');
    expect(fake.calls.lookup).toBe(1);
    const byNumber = await call('GET', q(p, 'bhxh'));
    expect(byNumber.status).toBe(200);
    expect(of<Coverage>(byNumber.body, 'Coverage')[0]!.subscriberId).toBe(p.maThe);
    expect(fake.calls.token).toBe(0);
  });

  it('a malformed identifier or birth date is a 400 naming the expected shapes', async () => {
    for (const id of ['abc', '12345', 'HC91234567890123', 'HC9791234567890', '07912345678', '']) {
      const r = await call('GET', `/Coverage/$lookup?identifier=${id}&name=A&birthdate=1990`);
      expect([r.status, r.body.issue[0].diagnostics]).toEqual([400, expect.stringContaining('12-digit CCCD, a 15-character BHYT card code')]);
    }
    for (const d of ['15/03/1985', '1985-13', '1985-02-30', '85']) {
      const r = await call('GET', `/Coverage/$lookup?identifier=079112345678&name=A&birthdate=${d}`);
      expect([r.status, r.body.issue[0].diagnostics]).toEqual([400, 'birthdate must be YYYY-MM-DD, YYYY-MM or YYYY']);
    }
    expect((await call('GET', '/Coverage/$lookup?identifier=079112345678&birthdate=1990')).status).toBe(400);
    expect((await call('GET', '/Patient/$lookup?identifier=079112345678&name=A&birthdate=1990')).status).toBe(404);
    expect(fake.calls.lookup).toBe(0);
  });

  it('POST with Parameters; partial birth dates reach the portal as MM/yyyy and yyyy', async () => {
    const p = fresh(fake, { ngaySinh: '00/03/1985' });
    const body = { resourceType: 'Parameters', parameter: [{ name: 'identifier', valueString: p.cccd }, { name: 'name', valueString: p.hoTen }, { name: 'birthdate', valueDate: '1985-03' }] };
    const r = await call('POST', '/Coverage/$lookup', body);
    expect(r.status).toBe(200);
    expect(eligibility(r.body).insurance![0]!.inforce).toBe(true);
    const y = fresh(fake, { ngaySinh: '1970' });
    expect(eligibility((await call('GET', `/Coverage/$lookup?identifier=${y.cccd}&name=${encodeURIComponent(y.hoTen)}&birthdate=1970`)).body).insurance![0]!.inforce).toBe(true);
  });

  it('maKetQua 000 and 004 are in force; 001/002 in force with a warning to check ID papers', async () => {
    for (const code of ['004', '001', '002']) {
      const p = fresh(fake);
      fake.codes.set(p.maThe, code);
      const b = (await call('GET', q(p))).body as Bundle;
      const cer = eligibility(b);
      expect([code, cer.outcome, cer.insurance![0]!.inforce, cer.error![0]!.code.coding![0]!.code]).toEqual([code, 'complete', true, code]);
      const warn = of<OperationOutcome>(b, 'OperationOutcome')[0]?.issue[0];
      if (code === '004') expect(warn).toBeUndefined();
      else expect(warn).toMatchObject({ severity: 'warning', diagnostics: expect.stringContaining('check the patient\'s ID papers') });
    }
  });

  it('the "invalid card" codes answer not in force with the code and the portal\'s text; the card is kept as cancelled', async () => {
    const codes = ['003', '010', '050', '051', '052', '053', '060', '061', '070', '110', '120', '121', '122', '123', '124', '130'];
    for (const code of codes) {
      const p = fresh(fake);
      fake.codes.set(p.maThe, code);
      const r = await call('GET', q(p));
      const cer = eligibility(r.body);
      expect([code, r.status, cer.outcome, cer.insurance![0]!.inforce]).toEqual([code, 200, 'error', false]);
      expect(cer.error![0]!.code.coding![0]).toMatchObject({ system: 'http://fhir.ehealth.gov.vn/core/CodeSystem/vn-vss-card-lookup-result', code });
      expect(cer.error![0]!.code.text).toBe(cer.disposition);
    }
    const p = fresh(fake);
    fake.codes.set(p.maThe, '010');
    await call('GET', q(p));
    expect((await kept(call, p.maThe))[0]!.status).toBe('cancelled');
    // Unknown person: no card to show, still an answer.
    const nobody = await call('GET', '/Coverage/$lookup?identifier=079199999999&name=Ai%20Do&birthdate=1990');
    expect(eligibility(nobody.body).insurance![0]).toEqual({ coverage: { identifier: { system: `${SID}/national_id`, value: '079199999999' } }, inforce: false });
    expect(of(nobody.body, 'Coverage')).toHaveLength(0);
  });

  it('054, 055 and 401 are a 502 telling the operator to fix the configuration, with no secret in the body', async () => {
    for (const code of ['054', '055', '401']) {
      const p = fresh(fake);
      fake.codes.set(p.maThe, code);
      const tokens = fake.calls.token;
      const r = await call('GET', q(p));
      expect([code, r.status]).toEqual([code, 502]);
      expect(r.body.issue[0].diagnostics).toMatch(/operator must fix VSS_USERNAME/);
      expect(r.text).not.toContain(FAKE_PASSWORD);
      expect(r.text).not.toMatch(/[0-9A-F]{32}|token=|password=/);
      // 401 means the token: renewed once, then it is the account.
      expect(fake.calls.token - tokens).toBe(code === '401' ? 1 : 0);
    }
  });

  it('100/101 with nothing cached: 503 transient; with an answer cached: that answer, stale, with Age and a warning saying how old', async () => {
    for (const code of ['100', '101']) {
      const p = fresh(fake);
      fake.codes.set(p.maThe, code);
      const r = await call('GET', q(p));
      expect([code, r.status, r.body.issue[0].code]).toEqual([code, 503, 'transient']);
      expect(r.body.issue[0].diagnostics).toContain(`maKetQua ${code}`);
    }
    const p = fresh(fake);
    expect((await call('GET', q(p))).status).toBe(200);
    await sleep(1100); // past LOOKUP_FRESH_SECONDS
    fake.codes.set(p.maThe, '101');
    const r = await call('GET', q(p));
    expect(r.status).toBe(200);
    expect(Number(r.headers.get('age'))).toBeGreaterThanOrEqual(1);
    expect(eligibility(r.body).insurance![0]!.inforce).toBe(true);
    const oo = of<OperationOutcome>(r.body, 'OperationOutcome')[0]!;
    expect(oo.issue[0]).toMatchObject({ severity: 'warning', code: 'transient', diagnostics: expect.stringMatching(/^Stale answer: .*maKetQua 101.*, \d+ s old/) });
  });

  it.each([
    ['500', 2],
    ['reset', 2],
    ['malformed', 1],
    ['slow', 1],
  ] as const)('portal fault %s: stale answer when cached, 503 within the time budget when not (portal calls: %i, retries only for 5xx and connection failures)', async (fault, expectedCalls) => {
    fake.slowMs = 5000;
    const warm = fresh(fake);
    expect((await call('GET', q(warm))).status).toBe(200);
    await sleep(1100);
    fake.reset();
    fake.slowMs = 5000;
    fake.fault = fault;
    let t = Date.now();
    const stale = await call('GET', q(warm));
    expect(stale.status).toBe(200);
    expect(Date.now() - t).toBeLessThan(TIMEOUT_MS + 1000);
    expect(stale.headers.get('age')).not.toBeNull();
    expect(of<OperationOutcome>(stale.body, 'OperationOutcome')[0]!.issue[0]!.diagnostics).toMatch(/^Stale answer/);
    expect(fake.calls.lookup).toBe(expectedCalls);
    fake.fault = 'none';
    expect((await call('GET', q(fresh(fake)))).status).toBe(200); // a success between keeps the breaker closed
    fake.fault = fault;
    const cold = fresh(fake);
    t = Date.now();
    const r = await call('GET', q(cold));
    expect([r.status, r.body.issue[0].code]).toEqual([503, 'transient']);
    expect(Date.now() - t).toBeLessThan(TIMEOUT_MS + 1000);
    expect(r.text).not.toMatch(/127\.0\.0\.1|token|password/);
    fake.fault = 'none';
    expect((await call('GET', q(fresh(fake)))).status).toBe(200);
  });

  it('an expired (revoked) token is renewed once and the lookup succeeds', async () => {
    const p = fresh(fake);
    fake.fault = 'expired-token';
    fake.faultCount = 1;
    const r = await call('GET', q(p));
    expect(r.status).toBe(200);
    expect(fake.calls.token).toBe(1);
    expect(fake.calls.lookup).toBe(2);
  });

  it('concurrent lookups of the same card are one portal call', async () => {
    const p = fresh(fake);
    fake.latencyMs = 150;
    const rs = await Promise.all(Array.from({ length: 10 }, () => call('GET', q(p))));
    expect(rs.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(fake.calls.lookup).toBe(1);
  });

  it('history=true adds the visits (Lskcb2025, sent as a form) as Encounters', async () => {
    const p = fresh(fake);
    const b = (await call('GET', q(p, 'cccd', '&history=true'))).body as Bundle;
    const enc = of<Encounter>(b, 'Encounter');
    expect(enc).toHaveLength(2);
    expect(enc[0]).toMatchObject({
      status: 'finished',
      subject: { reference: `Patient/${of<Patient>(b, 'Patient')[0]!.id}` },
      period: { start: '2025-11-03T08:15:00+07:00', end: '2025-11-05T10:00:00+07:00' },
      reasonCode: [{ text: 'Viêm phổi' }],
      serviceProvider: { identifier: { value: '79010' } },
    });
    expect(enc[0]!.extension!.find((e) => e.url === `${SD}/vn-treatment-outcome`)!.valueCodeableConcept!.coding![0]!.code).toBe('1');
    expect(fake.formats).toEqual(['lookup:json', 'history:form']);
    // Without history the cached answer serves; asking for history again then also comes from the cache.
    expect(of((await call('GET', q(p))).body, 'Encounter')).toHaveLength(0);
    expect(of((await call('GET', q(p, 'cccd', '&history=true'))).body, 'Encounter')).toHaveLength(2);
    expect(fake.calls.lookup).toBe(1);
  });

  it('a new card (maTheMoi) comes as a second Coverage with its own period and facility', async () => {
    const p = fresh(fake, { maTheMoi: 'HC2790000009999', gtTheTuMoi: '01/01/2027', gtTheDenMoi: '31/12/2027', maDKBDMoi: '79024', tenDKBDMoi: 'Bệnh viện Quận 3' });
    fake.codes.set(p.maThe, '004');
    const covs = of<Coverage>((await call('GET', q(p))).body, 'Coverage');
    expect(covs.map((c) => c.subscriberId)).toEqual([p.maThe, 'HC2790000009999']);
    expect(covs[1]!.period).toEqual({ start: '2027-01-01', end: '2027-12-31' });
    expect(covs[1]!.extension![0]!.valueReference).toMatchObject({ identifier: { value: '79024' }, display: 'Bệnh viện Quận 3' });
    expect(covs[1]!.class![0]).toMatchObject({ value: '2', name: '100%' });
  });

  it('the CapabilityStatement lists the operation on Coverage', async () => {
    const cs = (await call('GET', '/metadata')).body;
    const cov = cs.rest[0].resource.find((r: { type: string }) => r.type === 'Coverage');
    expect(cov.operation).toContainEqual({ name: 'lookup', definition: 'http://fhir.ehealth.gov.vn/core/OperationDefinition/Coverage-lookup' });
    const pat = cs.rest[0].resource.find((r: { type: string }) => r.type === 'Patient');
    expect(pat.operation.map((o: { name: string }) => o.name)).not.toContain('lookup');
  });
});

describe('Coverage/$lookup with form bodies, a short stale window, the portal down', () => {
  const fake = new FakeVss();
  let gw: TestGateway;
  let call: Call;

  beforeAll(async () => {
    await fake.start();
    gw = await startTestGateway('embedded', { lookup: lookupConfig(fake.url, { body: 'form', staleSeconds: 2 }) });
    call = client(gw.fhir);
  });
  afterAll(async () => {
    await gw?.stop();
    await fake.stop().catch(() => undefined);
  });

  it('sends the lookup as a form; an answer older than LOOKUP_STALE_SECONDS is not served; a stopped portal is a quick 503', async () => {
    const p = fresh(fake);
    expect((await call('GET', q(p))).status).toBe(200);
    expect(fake.formats).toEqual(['lookup:form']);
    await sleep(2100);
    await fake.stop();
    const t = Date.now();
    const r = await call('GET', q(p));
    expect([r.status, r.body.issue[0].code]).toEqual([503, 'transient']);
    expect(Date.now() - t).toBeLessThan(TIMEOUT_MS + 1000);
  });
});

describe('Coverage/$lookup without VSS_BASE_URL: the cards the gateway holds', () => {
  let gw: TestGateway;
  let call: Call;

  beforeAll(async () => {
    gw = await startTestGateway('embedded', { lookup: lookupConfig(undefined) });
    call = client(gw.fhir);
  });
  afterAll(async () => gw?.stop());

  it('a card from an ingested claim (XML1 MA_THE_BHYT / GT_THE_TU / GT_THE_DEN) answers, by card code and by CCCD, marked local', async () => {
    const xml = setField(inner(1), 'GT_THE_DEN', '20301231');
    const ing = await fetch(`${gw.url}/ingest/vn-claim`, { method: 'POST', headers: { 'content-type': 'application/xml' }, body: xml });
    expect(ing.status).toBe(200);
    for (const id of ['DN4799900000001', '079090000001', '9900000001']) {
      const r = await call('GET', `/Coverage/$lookup?identifier=${id}&name=Nguyen&birthdate=1990-01-15`);
      expect([id, r.status]).toEqual([id, 200]);
      const b = r.body as Bundle;
      expect(b.meta!.tag![0]!.code).toBe('local');
      const cer = eligibility(b);
      expect([id, cer.insurance![0]!.inforce, cer.outcome]).toEqual([id, true, 'complete']);
      expect(cer.disposition).toMatch(/^Local answer: card DN4799900000001 is valid 2024-01-01 – 2030-12-31/);
      expect(of<Coverage>(b, 'Coverage')[0]!.subscriberId).toBe('DN4799900000001');
      expect(of<OperationOutcome>(b, 'OperationOutcome')[0]!.issue[0]!.diagnostics).toMatch(/^Local answer/);
    }
    const none = await call('GET', '/Coverage/$lookup?identifier=079199999999&name=Ai&birthdate=1990');
    expect(eligibility(none.body)).toMatchObject({ outcome: 'error', insurance: [{ inforce: false }] });
  });
});
