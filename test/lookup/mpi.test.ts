import type { Person, PersonLink } from 'fhir/r4';
import { FakeVss, lookupConfig, person } from '../helpers/fake-vss';
import { STORES, startTestGateway, type TestGateway } from '../helpers/gateway';
import { client, type Call } from '../helpers/http';

/** The Patient a lookup keeps goes through the MPI like any other Patient write. */
const SID = 'http://fhir.ehealth.gov.vn/core/sid';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(STORES)('looked-up Patients are linked by the MPI (%s store)', (store) => {
  const fake = new FakeVss();
  let gw: TestGateway;
  let call: Call;
  beforeAll(async () => {
    await fake.start();
    gw = await startTestGateway(store, { lookup: lookupConfig(fake.url) });
    call = client(gw.fhir);
  }, 300_000);
  afterAll(async () => {
    await gw?.stop();
    await fake.stop();
  });

  /** The Person holding a level4 link to `id`, once the kept card has been written and linked. */
  async function personOf(id: string): Promise<Person | undefined> {
    for (let i = 0; i < 100; i++) {
      const found = (await call('GET', `/Person?patient=Patient/${id}`)).body.entry?.map((e: { resource: Person }) => e.resource) ?? [];
      const p = found.find((x: Person) => x.link?.some((l) => l.target.reference === `Patient/${id}` && l.assurance === 'level4'));
      if (p) return p;
      await sleep(50);
    }
    return undefined;
  }
  const linkTo = (p: Person, id: string): PersonLink | undefined => p.link?.find((l) => l.target.reference === `Patient/${id}`);
  const rule = (l: PersonLink) => l.extension?.[0]?.extension?.find((e) => e.url === 'rule')?.valueCode;

  it('by CCCD: the card holder and the facility record of the same CCCD are one Person (level4, rule cccd)', async () => {
    const p = person(9101, { hoTen: 'Lê Thị Mai' });
    fake.persons.push(p);
    const local = await call('POST', '/Patient', { resourceType: 'Patient', name: [{ text: p.hoTen }], gender: 'female', birthDate: '1985-03-15', identifier: [{ system: `${SID}/national_id`, value: p.cccd }] }, { 'x-facility-code': '79001' });
    expect(local.status).toBe(201);
    const r = await call('GET', `/Coverage/$lookup?identifier=${p.cccd}&name=${encodeURIComponent(p.hoTen)}&birthdate=1985-03-15`);
    expect(r.status).toBe(200);
    const looked = r.body.entry.map((e: { resource: { resourceType: string; id: string } }) => e.resource).find((x: { resourceType: string }) => x.resourceType === 'Patient');
    const person_ = await personOf(looked.id);
    expect(person_).toBeDefined();
    expect(linkTo(person_!, local.body.id)?.assurance).toBe('level4');
    expect(rule(linkTo(person_!, looked.id)!) ?? rule(linkTo(person_!, local.body.id)!)).toBe('cccd');
  });

  it('by card code: the BHXH number on the card links it to the facility record carrying that number', async () => {
    const p = person(9102, { hoTen: 'Phạm Thị Hoa' });
    fake.persons.push(p);
    const bhxh = p.maThe.slice(5);
    const local = await call('POST', '/Patient', { resourceType: 'Patient', name: [{ text: p.hoTen }], gender: 'female', birthDate: '1985-03-15', identifier: [{ system: `${SID}/social_insurance_number`, value: bhxh }] }, { 'x-facility-code': '01002' });
    expect(local.status).toBe(201);
    const r = await call('GET', `/Coverage/$lookup?identifier=${p.maThe}&name=${encodeURIComponent(p.hoTen)}&birthdate=1985-03-15`);
    expect(r.status).toBe(200);
    const looked = r.body.entry.map((e: { resource: { resourceType: string; id: string } }) => e.resource).find((x: { resourceType: string }) => x.resourceType === 'Patient');
    const person_ = await personOf(looked.id);
    expect(person_).toBeDefined();
    expect(linkTo(person_!, local.body.id)?.assurance).toBe('level4');
  });
});
