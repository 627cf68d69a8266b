import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundle, FhirResource, Observation, ServiceRequest } from 'fhir/r4';
import { convertHl7v2 } from '../../src/ingest/hl7v2';
import { validateResource } from '../../src/validation';
import { CONVERTER } from './corpus';

// OBX fields and segments that reach the output since the coverage work: read from the
// FHIR-Converter corpus in place, each assertion naming the v2 field it checks.

const corpus = (name: string) => convertHl7v2(readFileSync(join(CONVERTER, 'input/Hl7v2', name)), {}, { explain: true });
const all = (b: Bundle) => (b.entry ?? []).map((e) => e.resource as FhirResource);
const of = <T extends FhirResource>(b: Bundle, t: T['resourceType']) => all(b).filter((r) => r.resourceType === t) as T[];
const byRef = <T extends FhirResource>(b: Bundle, ref: string | undefined) => all(b).find((r) => `${r.resourceType}/${r.id}` === ref) as T | undefined;
const errorsOf = (b: Bundle) => all(b).flatMap((r) => validateResource(r).filter((i) => i.severity === 'error').map((i) => `${r.resourceType} ${i.expression} ${i.diagnostics}`));

describe('OBX under an order → Observation in ServiceRequest.supportingInfo (IG ORM_O01 / OML_O21)', () => {
  test('OML^O21: an ask-at-order-entry answer (OBX-29 QST) is supporting information of the order', () => {
    const c = corpus('MDHHS-OML-O21-1.hl7');
    const [sr] = of<ServiceRequest>(c.bundle!, 'ServiceRequest');
    expect(sr!.supportingInfo).toHaveLength(1);
    const obs = byRef<Observation>(c.bundle!, sr!.supportingInfo![0]!.reference)!;
    expect(obs.code.coding![0]!.code).toBe('AOE15'); // OBX-3
    expect(obs.valueDateTime).toBe('2015-08-18T06:06:05-05:00'); // OBX-5 (TS)
    expect(obs.effectiveDateTime).toBe('2016-03-08T10:06:05-05:00'); // OBX-14
    expect(obs.category![0]!.coding![0]).toMatchObject({ system: 'http://terminology.hl7.org/CodeSystem/v2-0936', code: 'QST' }); // OBX-29
    expect(obs.subject!.reference).toBe(sr!.subject.reference);
    expect(c.explanation!.fields.filter((f) => f.field.startsWith('OBX') && f.dropped?.startsWith('segment OBX'))).toEqual([]);
    expect(errorsOf(c.bundle!)).toEqual([]);
  });

  test('ORM^O01 and OMG^O19: every order OBX becomes an Observation the order points at', () => {
    for (const name of ['ORM-O01-01.hl7', 'OMG-O19-01.hl7']) {
      const c = corpus(name);
      const obx = c.message!.segments.filter((s) => s.id === 'OBX').length;
      const infos = of<ServiceRequest>(c.bundle!, 'ServiceRequest').flatMap((sr) => sr.supportingInfo ?? []);
      expect(obx).toBeGreaterThan(0);
      expect(infos.length).toBe(of<Observation>(c.bundle!, 'Observation').length);
      expect(infos.every((r) => byRef<Observation>(c.bundle!, r.reference)?.resourceType === 'Observation')).toBe(true);
      expect(errorsOf(c.bundle!)).toEqual([]);
    }
  });
});
