import { loadConfig, type Config } from '../../src/config';
import { makeClient, tokenFor, writeClientsFile } from '../helpers/auth';
import { STORES, startTestGateway, type TestGateway } from '../helpers/gateway';
import { client, type Call } from '../helpers/http';

/**
 * A referral between two facilities through the REST API: a district hospital (Ba Vì, 01016)
 * refers a patient to a central one (Xanh Pôn, 01003). Without AUTH the writing facility is the
 * X-Facility-Code header; under AUTH=smart it is the client's.
 */
const PC = 'http://fhir.ehealth.gov.vn/core/sid/provider-code';
const DISTRICT = '01016';
const CENTRAL = '01003';

async function seed(as: (f: string) => Call) {
  const org = async (code: string) => (await as(code)('PUT', `/Organization/org-${code}`, { resourceType: 'Organization', id: `org-${code}`, identifier: [{ system: PC, value: code }], name: code })).body;
  await org(DISTRICT);
  await org(CENTRAL);
  const patient = (await as(DISTRICT)('POST', '/Patient', { resourceType: 'Patient', name: [{ family: 'Nguyễn', given: ['Văn', 'An'] }], gender: 'male' })).body;
  const sr = await as(DISTRICT)('POST', '/ServiceRequest', {
    resourceType: 'ServiceRequest',
    status: 'active',
    intent: 'order',
    category: [{ coding: [{ system: 'http://snomed.info/sct', code: '3457005', display: 'Patient referral' }] }],
    subject: { reference: `Patient/${patient.id}` },
    requester: { reference: `Organization/org-${DISTRICT}` },
    performer: [{ reference: `Organization/org-${CENTRAL}` }],
    reasonCode: [{ coding: [{ system: 'http://hl7.org/fhir/sid/icd-10', code: 'I21.0' }] }],
  });
  expect(sr.status).toBe(201);
  return { patient, sr: sr.body };
}

const task = (patientId: string, srId: string, extra: Record<string, unknown> = {}) => ({
  resourceType: 'Task',
  status: 'requested',
  intent: 'order',
  focus: { reference: `ServiceRequest/${srId}` },
  for: { reference: `Patient/${patientId}` },
  requester: { reference: `Organization/org-${DISTRICT}` },
  owner: { reference: `Organization/org-${CENTRAL}` },
  ...extra,
});

async function move(call: Call, t: any, status: string) {
  return call('PUT', `/Task/${t.id}`, { ...t, status, meta: undefined });
}

describe.each(STORES)('referral workflow without AUTH (%s store)', (store) => {
  let gw: TestGateway;
  const as = (f: string) => (m: string, p: string, b?: unknown, h: Record<string, string> = {}) => client(gw.fhir)(m, p, b, { 'x-facility-code': f, ...h });
  beforeAll(async () => {
    gw = await startTestGateway(store, { mllpPort: -1 });
  }, 120_000);
  afterAll(() => gw.stop());

  test('refer, receive, accept, start, communicate with an attachment, complete', async () => {
    const { patient, sr } = await seed(as);
    const created = await as(DISTRICT)('POST', '/Task', task(patient.id, sr.id));
    expect(created.status).toBe(201);
    let t = created.body;
    const worklist = await as(CENTRAL)('GET', `/Task?owner=Organization/org-${CENTRAL}&status=requested`);
    expect(worklist.body.entry.map((e: any) => e.resource.id)).toContain(t.id);
    const inbox = await as(CENTRAL)('GET', `/ServiceRequest?performer=Organization/org-${CENTRAL}&category=3457005&_include=ServiceRequest:subject`);
    expect(inbox.body.entry.map((e: any) => `${e.search.mode}:${e.resource.resourceType}`).sort()).toEqual(['include:Patient', 'match:ServiceRequest']);

    for (const status of ['received', 'accepted', 'in-progress']) {
      const r = await move(as(CENTRAL), t, status);
      expect([status, r.status]).toEqual([status, 200]);
      t = r.body;
    }
    const pdf = Buffer.from('%PDF-1.4 ket qua sieu am').toString('base64');
    const binary = await as(CENTRAL)('POST', '/Binary', { resourceType: 'Binary', contentType: 'application/pdf', data: pdf });
    expect(binary.status).toBe(201);
    const comm = await as(CENTRAL)('POST', '/Communication', {
      resourceType: 'Communication',
      status: 'completed',
      partOf: [{ reference: `Task/${t.id}` }],
      subject: { reference: `Patient/${patient.id}` },
      sender: { reference: `Organization/org-${CENTRAL}` },
      recipient: [{ reference: `Organization/org-${DISTRICT}` }],
      payload: [{ contentString: 'Tiếp tục điều trị theo phác đồ' }, { contentAttachment: { contentType: 'application/pdf', url: `Binary/${binary.body.id}`, title: 'siêu âm tim' } }],
    });
    expect(comm.status).toBe(201);
    const thread = await as(DISTRICT)('GET', `/Communication?part-of=Task/${t.id}`);
    expect(thread.body.entry).toHaveLength(1);
    const att = thread.body.entry[0].resource.payload[1].contentAttachment;
    const stored = await as(DISTRICT)('GET', `/${att.url}`);
    expect(Buffer.from(stored.body.data, 'base64').toString()).toBe('%PDF-1.4 ket qua sieu am');

    const done = await move(as(CENTRAL), t, 'completed');
    expect(done.status).toBe(200);
    expect(done.body.status).toBe('completed');
    const history = await as(DISTRICT)('GET', `/Task/${t.id}/_history`);
    expect(history.body.entry.map((e: any) => e.resource.status)).toEqual(['completed', 'in-progress', 'accepted', 'received', 'requested']);
  });

  test('forbidden transitions: 409 naming the allowed ones; the wrong side: 403', async () => {
    const { patient, sr } = await seed(as);
    const t = (await as(DISTRICT)('POST', '/Task', task(patient.id, sr.id))).body;
    const skip = await move(as(CENTRAL), t, 'in-progress');
    expect(skip.status).toBe(409);
    expect(skip.body.issue[0].diagnostics).toBe("Task status cannot go from 'requested' to 'in-progress'; allowed from 'requested': received (by the owner), cancelled (by the requester)");
    expect(skip.body.issue[0].expression).toEqual(['Task.status']);
    const selfAccept = await move(as(DISTRICT), t, 'received');
    expect(selfAccept.status).toBe(403);
    expect(selfAccept.body.issue[0].diagnostics).toContain(`only the owner (facility ${CENTRAL})`);
    const ownerCancels = await move(as(CENTRAL), t, 'cancelled');
    expect(ownerCancels.status).toBe(403);
    const third = await move(as('79999'), t, 'requested');
    expect(third.status).toBe(403);
    const born = await as(DISTRICT)('POST', '/Task', task(patient.id, sr.id, { status: 'accepted' }));
    expect(born.status).toBe(409);
    const received = (await move(as(CENTRAL), t, 'received')).body;
    const rejected = await move(as(CENTRAL), received, 'rejected');
    expect(rejected.status).toBe(200);
    const after = await move(as(CENTRAL), rejected.body, 'accepted');
    expect(after.status).toBe(409);
    expect(after.body.issue[0].diagnostics).toContain('none: the task is finished');
    const repoint = await as(DISTRICT)('PUT', `/Task/${t.id}`, { ...rejected.body, owner: { reference: `Organization/org-${DISTRICT}` }, meta: undefined });
    expect(repoint.status).toBe(409);

    const t2 = (await as(DISTRICT)('POST', '/Task', task(patient.id, sr.id))).body;
    const cancel = await move(as(DISTRICT), t2, 'cancelled');
    expect(cancel.status).toBe(200);
  });

  test('a conditional update or create is held to the same table and sides as a plain one', async () => {
    const { patient, sr } = await seed(as);
    const key = `urn:test:conditional|${sr.id}`;
    const t = (await as(DISTRICT)('POST', '/Task', task(patient.id, sr.id, { identifier: [{ system: 'urn:test:conditional', value: sr.id }] }))).body;
    const byKey = (f: string, status: string) => as(f)('PUT', `/Task?identifier=${encodeURIComponent(key)}`, { ...t, id: undefined, status, meta: undefined });
    const skip = await byKey(CENTRAL, 'in-progress');
    expect([skip.status, skip.body.issue[0].diagnostics]).toEqual([409, expect.stringContaining("cannot go from 'requested' to 'in-progress'")]);
    expect((await byKey(DISTRICT, 'received')).status).toBe(403);
    expect((await byKey(CENTRAL, 'received')).status).toBe(200);
    const born = await as(DISTRICT)('POST', '/Task', task(patient.id, sr.id, { status: 'accepted' }), { 'if-none-exist': 'identifier=urn:test:conditional|none-such' });
    expect(born.status).toBe(409);
  });

  test('a teleconsultation is the same pair with category consultation', async () => {
    const { patient, sr } = await seed(as);
    const consult = await as(DISTRICT)('PUT', `/ServiceRequest/${sr.id}`, { ...sr, category: [{ coding: [{ system: 'http://snomed.info/sct', code: '11429006', display: 'Consultation' }] }], meta: undefined });
    expect(consult.status).toBe(200);
    const t = (await as(DISTRICT)('POST', '/Task', task(patient.id, sr.id))).body;
    expect((await move(as(CENTRAL), t, 'received')).status).toBe(200);
    const list = await as(CENTRAL)('GET', `/ServiceRequest?performer=Organization/org-${CENTRAL}&category=11429006`);
    expect(list.body.entry.map((e: any) => e.resource.id)).toEqual([sr.id]);
  });
});

describe('referral workflow under AUTH=smart', () => {
  const store = STORES[STORES.length - 1]!;
  let gw: TestGateway;
  const tok: Record<string, string> = {};
  beforeAll(async () => {
    const district = await makeClient('his-01016', DISTRICT, 'system/*.cruds');
    const central = await makeClient('his-01003', CENTRAL, 'system/*.cruds');
    const file = writeClientsFile([district, central]);
    const cfg: Partial<Config> = { mllpPort: -1, security: { ...loadConfig({}).security, mode: 'smart', clientsFile: file } };
    gw = await startTestGateway(store, cfg);
    tok[DISTRICT] = await tokenFor(gw.url, district);
    tok[CENTRAL] = await tokenFor(gw.url, central);
  }, 120_000);
  afterAll(() => gw.stop());
  const as = (f: string) => (m: string, p: string, b?: unknown) => client(gw.fhir)(m, p, b, { authorization: `Bearer ${tok[f]}` });

  test("the receiving facility's client moves the sender's Task; the sender's client may not accept it, nor name the other facility", async () => {
    const { patient, sr } = await seed(as);
    const t = (await as(DISTRICT)('POST', '/Task', task(patient.id, sr.id))).body;
    expect((await move(as(DISTRICT), t, 'received')).status).toBe(403);
    const headerTrick = await client(gw.fhir)('PUT', `/Task/${t.id}`, { ...t, status: 'received', meta: undefined }, { authorization: `Bearer ${tok[DISTRICT]}`, 'x-facility-code': CENTRAL });
    expect(headerTrick.status).toBe(403);
    const received = await move(as(CENTRAL), t, 'received');
    expect(received.status).toBe(200);
    expect((await move(as(CENTRAL), received.body, 'cancelled')).status).toBe(403);
    expect((await move(as(DISTRICT), received.body, 'cancelled')).status).toBe(200);
  });

  test("a conditional update, create or delete cannot touch another facility's resources either", async () => {
    const { patient } = await seed(as);
    const key = encodeURIComponent(`urn:test:cond-facility|${patient.id}`);
    const obs = await as(DISTRICT)('POST', '/Observation', { resourceType: 'Observation', status: 'final', code: { text: 'Mạch' }, subject: { reference: `Patient/${patient.id}` }, identifier: [{ system: 'urn:test:cond-facility', value: patient.id }], valueQuantity: { value: 80, unit: '/min' } });
    expect(obs.status).toBe(201);
    const overwrite = await as(CENTRAL)('PUT', `/Observation?identifier=${key}`, { ...obs.body, id: undefined, meta: undefined, valueQuantity: { value: 200, unit: '/min' } });
    expect(overwrite.status).toBe(403);
    expect((await as(CENTRAL)('DELETE', `/Observation?identifier=${key}`)).status).toBe(403);
    expect((await as(DISTRICT)('GET', `/Observation/${obs.body.id}`)).body.valueQuantity.value).toBe(80);
    const spoof = await client(gw.fhir)('POST', '/Observation', { ...obs.body, id: undefined, meta: undefined, identifier: [{ system: 'urn:test:cond-facility', value: 'new' }] }, { authorization: `Bearer ${tok[DISTRICT]}`, 'x-facility-code': CENTRAL, 'if-none-exist': 'identifier=urn:test:cond-facility|new' });
    expect(spoof.status).toBe(403);
  });
});
