import type { Measure } from 'fhir/r4';
import { validateResource, withConformanceResources } from '../../src/validation';

/** A MeasureReport is checked against its Measure when that Measure is known. */
const POP = 'http://terminology.hl7.org/CodeSystem/measure-population';
const concept = (code: string) => ({ coding: [{ system: POP, code }] });
const measure: Measure = {
  resourceType: 'Measure',
  url: 'http://example.org/Measure/tiem-chung-du-mui',
  status: 'active',
  group: [{ population: [{ code: concept('initial-population'), criteria: { language: 'text/cql', expression: 'Trẻ dưới 2 tuổi' } }, { code: concept('numerator'), criteria: { language: 'text/cql', expression: 'Đủ mũi' } }] }],
};
const report = (group: Record<string, unknown>[], type = 'summary') => ({
  resourceType: 'MeasureReport',
  status: 'complete',
  type,
  measure: measure.url,
  period: { start: '2026-01-01', end: '2026-06-30' },
  group,
});
const errors = (r: Record<string, unknown>, assumeValidRestReferences?: boolean) =>
  withConformanceResources([measure], () => validateResource(r, { assumeValidRestReferences })).filter((i) => i.severity === 'error').map((i) => `${i.expression}: ${i.diagnostics}`);

test("a report that uses the Measure's populations passes", () => {
  expect(errors(report([{ population: [{ code: concept('initial-population'), count: 120 }, { code: concept('numerator'), count: 97 }] }]))).toEqual([]);
});

test('a population the Measure does not define is named', () => {
  expect(errors(report([{ population: [{ code: concept('denominator'), count: 120 }] }]))).toEqual([
    'MeasureReport.group[0].population[0]: The code for this group population has no match in the measure definition',
  ]);
});

test('two groups against a one-group Measure must say which group they are', () => {
  const e = errors(report([{ population: [{ code: concept('initial-population'), count: 1 }] }, { population: [{ code: concept('initial-population'), count: 2 }] }]));
  expect(e).toEqual([
    'MeasureReport.group[0]: Group should have a code that matches the group definition in the measure',
    'MeasureReport.group[1]: Group should have a code that matches the group definition in the measure',
    "MeasureReport: The MeasureReport does not include a group for the group with code ''",
  ]);
});

test('only a subject-list report lists subjects', () => {
  const group = [{ population: [{ code: concept('initial-population'), count: 1, subjectResults: { reference: 'List/ds-tre' } }] }];
  expect(errors(report(group))).toEqual(["MeasureReport.group[0].population[0]: Reports where type is not 'subject-list' don't have subjects listed"]);
  expect(errors(report(group, 'subject-list'))).toEqual([]);
});

test("a population's count must match the subjects it lists", () => {
  const population = (count: number, reference: string) => [{ population: [{ code: concept('initial-population'), count, subjectResults: { reference } }] }];
  const withList = (group: Record<string, unknown>[], entries: number) => ({
    ...report(group, 'subject-list'),
    contained: [{ resourceType: 'List', id: 'ds', status: 'current', mode: 'snapshot', entry: Array.from({ length: entries }, (_, i) => ({ item: { reference: `Patient/bn-${i}` } })) }],
  });
  expect(errors(withList(population(2, '#ds'), 2))).toEqual([]);
  expect(errors(withList(population(3, '#ds'), 2))).toEqual(['MeasureReport.group[0].population[0]: Mismatch between count 3 and number of subjects 2']);
  // one subject named directly (which by default is also the wrong target type); a List held
  // elsewhere cannot be counted here
  const mismatch = 'MeasureReport.group[0].population[0]: Mismatch between count 500 and number of subjects 1';
  expect(errors(report(population(500, 'Patient/bn-1'), 'subject-list'), false)).toEqual([mismatch]);
  expect(errors(report(population(500, 'Patient/bn-1'), 'subject-list'))).toEqual([expect.stringContaining("The type 'Patient' implied"), mismatch]);
  expect(errors(report(population(500, 'List/ds-tre'), 'subject-list'))).toEqual([]);
});
