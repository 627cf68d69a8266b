import { validateResource } from '../../src/validation';
import { syntheaBundle, syntheaFiles } from '../helpers/corpora';
import { client, type Call } from '../helpers/http';
import { startTestGateway, STORES, type TestGateway } from '../helpers/gateway';

/** Every shared Synthea patient's `$summary` is a valid IPS document: zero errors against Bundle-uv-ips. */
const IPS_BUNDLE = 'http://hl7.org/fhir/uv/ips/StructureDefinition/Bundle-uv-ips';
const store = STORES.includes('postgres') ? 'postgres' : 'embedded';
const LIMIT = Number(process.env.SYNTHEA_LIMIT ?? Infinity);

describe(`IPS summaries of the Synthea corpus (${store} store)`, () => {
  let gw: TestGateway;
  let call: Call;
  const patients: string[] = [];
  beforeAll(async () => {
    gw = await startTestGateway(store);
    call = client(gw.fhir);
    const files = syntheaFiles();
    for (const f of files.filter((x) => x.kind.startsWith('info')).concat(files.filter((x) => !x.kind.startsWith('info')).slice(0, LIMIT))) {
      const r = await call('POST', '', syntheaBundle(f.file));
      expect(r.status).toBe(200);
      const p = r.body.entry.find((e: any) => e.response.location?.startsWith('Patient/'));
      if (p) patients.push(p.response.location.split('/')[1]);
    }
  }, 900_000);
  afterAll(() => gw.stop());

  test('each summary validates against Bundle-uv-ips with zero errors, with its sections filled from the data', async () => {
    expect(patients.length).toBe(Math.min(LIMIT, 60));
    const failures: unknown[] = [];
    const sectionCounts = new Map<string, number>();
    for (const id of patients) {
      const r = await call('GET', `/Patient/${id}/$summary`);
      expect(r.status).toBe(200);
      const errors = validateResource(r.body, { profiles: [IPS_BUNDLE] }).filter((i) => i.severity === 'error' || i.severity === 'fatal');
      if (errors.length) failures.push({ id, errors: errors.slice(0, 5).map((e) => `${e.expression?.[0]}: ${e.diagnostics}`) });
      for (const s of r.body.entry[0].resource.section) if (s.entry) sectionCounts.set(s.code.coding[0].code, (sectionCounts.get(s.code.coding[0].code) ?? 0) + 1);
    }
    expect(failures).toEqual([]);
    // the corpus has problems, medications, immunizations, results, procedures and vital signs
    for (const code of ['11450-4', '10160-0', '11369-6', '30954-2', '47519-4', '8716-3']) expect(sectionCounts.get(code) ?? 0).toBeGreaterThan(0);
  }, 900_000);
});
