import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { indexResource } from '../../src/store/index-rows';
import { criteriaQuery } from '../../src/store/outbox';
import { matchInMemory } from '../../src/subscriptions/match';
import { client } from '../helpers/http';
import { startTestGateway, type TestGateway } from '../helpers/gateway';

/**
 * A Subscription's criteria decided in memory must agree with the search it stands for: the
 * HL7 R4 examples of five types are stored, criteria are drawn from their own values (codes,
 * identifiers, references, names, with and without modifiers), and for every stored resource
 * the in-memory answer is compared with whether the search lists it.
 */
const TYPES = ['Patient', 'Observation', 'Condition', 'Encounter', 'Task'];
const EXAMPLES = dirname(require.resolve('hl7.fhir.r4.examples/package.json'));

type Res = Record<string, any>;

/** Criteria built from one resource's values: what subscribers ask for in practice. */
function criteriaFrom(r: Res): string[] {
  const t = r.resourceType as string;
  const out: string[] = [`${t}?_id=${r.id}`];
  const enc = encodeURIComponent;
  const coding = (r.code ?? r.type?.[0] ?? r.class)?.coding?.[0] ?? (r.class?.code ? r.class : undefined);
  if (coding?.code && t !== 'Encounter') {
    out.push(`${t}?code=${enc(`${coding.system ?? ''}|${coding.code}`)}`, `${t}?code=${enc(coding.code)}`, `${t}?code:not=${enc(coding.code)}`, `${t}?code=${enc(`${coding.system ?? ''}|`)}`, `${t}?code=${enc(`|${coding.code}`)}`);
  }
  if (r.status) out.push(`${t}?status=${enc(r.status)}`, `${t}?status:not=${enc(r.status)}`);
  const ident = r.identifier?.[0];
  if (ident?.value) out.push(`${t}?identifier=${enc(`${ident.system ?? ''}|${ident.value}`)}`, `${t}?identifier=${enc(ident.value)}`);
  const subject = r.subject?.reference ?? r.for?.reference ?? r.patient?.reference;
  if (typeof subject === 'string' && subject.includes('/')) {
    const param = t === 'Task' ? 'patient' : 'subject';
    const [type, id] = subject.split('/');
    out.push(`${t}?${param}=${enc(subject)}`, `${t}?${param}:${type}=${enc(id!)}`, `${t}?${param}=${enc(id!)}`);
  }
  if (t === 'Task' && r.owner?.reference) out.push(`Task?owner=${enc(r.owner.reference)}`);
  const family = r.name?.[0]?.family;
  if (family) out.push(`Patient?family=${enc(family.slice(0, 3).toLowerCase())}`, `Patient?family:exact=${enc(family)}`, `Patient?name:contains=${enc(family.slice(1, 4))}`, `Patient?family:exact=${enc(family.toLowerCase())}`);
  if (r.gender) out.push(`Patient?gender=${r.gender}`, `Patient?gender=${r.gender}&family=${enc(family ?? 'x')}`);
  return out;
}

describe('Subscription criteria decided in memory agree with the search', () => {
  let gw: TestGateway;
  const stored: Res[] = [];
  beforeAll(async () => {
    gw = await startTestGateway('embedded');
    const call = client(gw.fhir);
    for (const f of readdirSync(EXAMPLES).filter((n) => TYPES.some((t) => n.startsWith(`${t}-`)))) {
      const r = JSON.parse(readFileSync(join(EXAMPLES, f), 'utf8')) as Res;
      if (!TYPES.includes(r.resourceType) || !r.id) continue;
      // Some examples break our stricter rules; those are simply not part of the comparison.
      const res = await call('PUT', `/${r.resourceType}/${r.id}`, r);
      if (res.status === 200 || res.status === 201) stored.push(res.body);
    }
  }, 120_000);
  afterAll(() => gw?.stop());

  test('every stored example, every criterion drawn from the examples: the same answer', async () => {
    expect(stored.length).toBeGreaterThan(60);
    const call = client(gw.fhir);
    const criteria = [...new Set(stored.flatMap(criteriaFrom))];
    let decided = 0;
    let matches = 0;
    const disagreements: string[] = [];
    for (const c of criteria) {
      const q = criteriaQuery(c)!;
      expect(q).not.toBeNull();
      const candidates = stored.filter((r) => r.resourceType === q.type);
      const inMemory = candidates.map((r) => matchInMemory(q, r.id, indexResource(r)));
      if (inMemory.every((m) => m === undefined)) continue;
      const res = await call('GET', `/${c}${c.includes('?') ? '&' : '?'}_count=1000&_elements=id`);
      expect(res.status).toBe(200);
      const listed = new Set<string>((res.body.entry ?? []).map((e: any) => e.resource.id));
      candidates.forEach((r, i) => {
        if (inMemory[i] === undefined) return;
        decided++;
        if (inMemory[i]) matches++;
        if (inMemory[i] !== listed.has(r.id)) disagreements.push(`${c} on ${r.resourceType}/${r.id}: in memory ${inMemory[i]}, search ${listed.has(r.id)}`);
      });
    }
    expect(disagreements).toEqual([]);
    // the comparison is about something: many decisions, both ways
    expect(decided).toBeGreaterThan(2000);
    expect(matches).toBeGreaterThan(200);
    expect(decided - matches).toBeGreaterThan(1000);
  });

  test('what memory cannot decide is left to the database', () => {
    const r = stored.find((x) => x.resourceType === 'Observation')!;
    for (const c of ['Observation?date=ge2000', 'Observation?subject.name=x', 'Observation?code:text=glucose', 'Observation?code:below=http://loinc.org|15', 'Observation?value-quantity=5', 'Observation?status:missing=true']) {
      expect([c, matchInMemory(criteriaQuery(c)!, r.id, indexResource(r))]).toEqual([c, undefined]);
    }
  });
});
