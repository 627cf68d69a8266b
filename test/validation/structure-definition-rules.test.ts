import { validateResource, withConformanceResources } from '../../src/validation';
import { testProfile } from '../helpers/profiles';

/** A profile's differential is checked as far as building its snapshot would fail. */
const errors = (sd: unknown) =>
  validateResource(sd)
    .filter((i) => i.severity === 'error')
    .map((i) => `${i.expression}: ${i.diagnostics}`);

test('a renamed choice element must name one of the choice types', () => {
  expect(errors(testProfile('Observation', 'obs-quantity', [{ id: 'Observation.valueQuantity', path: 'Observation.valueQuantity', min: 1 }]))).toEqual([]);
  expect(errors(testProfile('Observation', 'obs-bla', [{ id: 'Observation.valueQuantity', path: 'Observation.valueBla', min: 1 }]))).toEqual([
    "StructureDefinition: Error generating Snapshot: The path must be 'Observation.value[x]' not 'Observation.valueBla' when the type list is not constrained",
  ]);
});

test("a type's profile must be a profile of that type", () => {
  const typed = (profile: string, code = 'Quantity') =>
    testProfile('Observation', 'obs-typed', [{ id: 'Observation.valueQuantity', path: 'Observation.valueQuantity', type: [{ code, profile: [profile] }] }]);
  expect(errors(typed('http://hl7.org/fhir/StructureDefinition/SimpleQuantity'))).toEqual([]);
  expect(errors(typed('http://hl7.org/fhir/StructureDefinition/Count'))).toEqual([
    'StructureDefinition.differential.element[1].type[0].profile[0]: Profile http://hl7.org/fhir/StructureDefinition/Count is for type Count, but the Observation.valueQuantity element has type Quantity',
  ]);
  // Bundle.entry.resource is of type Resource: a profile of any resource fits
  const entry = testProfile('Bundle', 'bundle-of-observations', [{ id: 'Bundle.entry.resource', path: 'Bundle.entry.resource', type: [{ code: 'Resource', profile: ['http://hl7.org/fhir/StructureDefinition/Observation'] }] }]);
  expect(errors(entry)).toEqual([]);
});

test('a profile cannot change a value its base fixes', () => {
  const base = testProfile('Extension', 'ext-noi-sinh', [{ id: 'Extension.url', path: 'Extension.url', fixedUri: 'http://example.org/StructureDefinition/ext-noi-sinh' }]);
  const derived = (url: string) => ({
    ...testProfile('Extension', 'ext-noi-sinh-tinh', [{ id: 'Extension.url', path: 'Extension.url', fixedUri: url }]),
    baseDefinition: base.url,
    context: [{ type: 'element', expression: 'Patient' }],
  });
  const run = (sd: unknown) => withConformanceResources([base], () => errors(sd));
  expect(run(derived(base.url))).toEqual([]);
  expect(run(derived('http://example.org/StructureDefinition/ext-noi-sinh-tinh'))).toEqual([
    `StructureDefinition.differential.element[1]: Value is 'http://example.org/StructureDefinition/ext-noi-sinh-tinh' but is fixed to '${base.url}' in the profile , because the value must match the fixed value define in '${base.url}'`,
  ]);
});
