import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundle, ServiceRequest, Task } from 'fhir/r4';
import { referralId } from '../../src/ingest/ids';
import { mapHl7v2 } from '../../src/ingest/hl7v2/map';
import { parseHl7v2 } from '../../src/ingest/hl7v2/parse';
import { CORPORA } from '../helpers/corpora';
import { STORES, startTestGateway, type TestGateway } from '../helpers/gateway';
import { client } from '../helpers/http';
import { envelope, episode, xml13 } from '../vn-claim/fixtures';

/**
 * Referral letters from the feeds: the claim's XML13 (sent by 79999 to 79001 as CT0001) and an
 * HL7 REF^I12 of the same referral (MSH-4 the sender, MSH-6 the receiver, RF1-6 the number),
 * built from the HL7 v2-to-FHIR converter's corpus message.
 */
const corpus = (name: string) => readFileSync(join(CORPORA, 'fhir-converter', 'input', 'Hl7v2', name), 'latin1');
function ref(name: string, from: string, to: string, number: string, controlId: string): string {
  return corpus(name)
    .replace(/^MSH\|\^~\\&\|GHH\|[^|]*\|RHH\|[^|]*\|/, `MSH|^~\\&|GHH|${from}|RHH|${to}|`)
    .replace('|MSG00112|', `|${controlId}|`)
    .replace('|226839^EPIC|', `|${number}^${from}|`);
}

const ofType = <T>(b: Bundle, t: string): T[] => (b.entry ?? []).map((e) => e.resource!).filter((r) => r.resourceType === t) as T[];

describe('REF^I12–I14 mapping', () => {
  test('the corpus REF^I12 becomes a referral ServiceRequest and a completed Task between MSH-4 and MSH-6', () => {
    const [m] = parseHl7v2(Buffer.from(corpus('REF-I12-01.hl7'), 'latin1')).messages;
    const { bundle, issues } = mapHl7v2(m!);
    expect(issues.filter((i) => i.severity === 'error')).toEqual([]);
    const [sr] = ofType<ServiceRequest>(bundle!, 'ServiceRequest');
    expect(sr).toMatchObject({ id: referralId('ServiceRequest', 'GHHSFacility', '226839'), status: 'completed', intent: 'order', authoredOn: '2022-01-25' });
    expect(sr!.reasonCode!.map((c) => c.coding?.[0]?.code ?? c.text)).toEqual(['K63.3', 'O']);
    const [task] = ofType<Task>(bundle!, 'Task');
    expect(task).toMatchObject({ status: 'completed', focus: { reference: `ServiceRequest/${sr!.id}` }, businessStatus: { coding: [{ code: 'P' }] } });
    // The message's own Provenance names other Organizations too: read the two the Task links.
    const org = (ref?: string) => ofType<{ id: string; identifier?: { value: string }[] }>(bundle!, 'Organization').find((o) => `Organization/${o.id}` === ref)?.identifier?.[0]?.value;
    expect([org(task!.requester?.reference), org(task!.owner?.reference)]).toEqual(['GHHSFacility', 'RHHFacility']);
  });

  test('REF^I14 cancels; a message without RF1-6 is refused with its location', () => {
    const [m] = parseHl7v2(Buffer.from(corpus('REF-I14-01.hl7'), 'latin1')).messages;
    const { bundle } = mapHl7v2(m!);
    expect(ofType<Task>(bundle!, 'Task')[0]!.status).toBe('cancelled');
    expect(ofType<ServiceRequest>(bundle!, 'ServiceRequest')[0]!.status).toBe('revoked');
    const [bad] = parseHl7v2(Buffer.from(corpus('REF-I12-01.hl7').replace('|226839^EPIC|', '||'), 'latin1')).messages;
    const out = mapHl7v2(bad!);
    expect(out.issues.find((i) => i.severity === 'error')).toMatchObject({ expression: 'RF1-6' });
  });
});

describe.each(STORES)('XML13 and REF^I12 of one referral meet in one ServiceRequest (%s store)', (store) => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway(store, { mllpPort: -1, ingestBodyLimit: 2 * 1024 * 1024 });
  }, 120_000);
  afterAll(() => gw.stop());

  test('claim first, then HL7: one ServiceRequest, one completed Task, on the worklist of the receiver', async () => {
    const claim = await fetch(`${gw.url}/ingest/vn-claim`, { method: 'POST', headers: { 'content-type': 'application/xml' }, body: envelope([[...episode('REF1'), { loai: 'XML13', xml: xml13('REF1') }]]) });
    expect(claim.status).toBe(200);
    const hl7 = await fetch(`${gw.url}/ingest/hl7v2`, { method: 'POST', headers: { 'content-type': 'x-application/hl7-v2+er7' }, body: Buffer.from(ref('REF-I12-01.hl7', '79999', '79001', 'CT0001', 'REF-1'), 'latin1') });
    const ack = await hl7.text();
    expect([hl7.status, ack]).toEqual([200, expect.stringContaining('MSA|AA|')]);
    const fhir = client(gw.fhir);
    const srs = await fhir('GET', '/ServiceRequest?category=3457005&identifier=http://fhir.ehealth.gov.vn/core/sid/referral-letter|CT0001');
    expect(srs.body.entry.map((e: any) => e.resource.id)).toEqual([referralId('ServiceRequest', '79999', 'CT0001')]);
    // The HL7 message came second: it is the current version, the claim's the first.
    expect(srs.body.entry[0].resource.meta.versionId).toBe('2');
    const tasks = await fhir('GET', `/Task?focus=ServiceRequest/${referralId('ServiceRequest', '79999', 'CT0001')}`);
    expect(tasks.body.entry.map((e: any) => [e.resource.id, e.resource.status])).toEqual([[referralId('Task', '79999', 'CT0001'), 'completed']]);
    const owner = tasks.body.entry[0].resource.owner.reference;
    const worklist = await fhir('GET', `/Task?owner=${owner}&status=completed`);
    expect(worklist.body.total).toBe(1);
  });
});
