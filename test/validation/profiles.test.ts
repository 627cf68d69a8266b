import { validateResource, withConformanceResources } from '../../src/validation';
import { testProfile } from '../helpers/profiles';

/** A differential-only profile in the shape of the Vietnamese Patient profile: identifier slices. */
const PROFILE = testProfile('Patient', 'vn-patient-test', [
  { id: 'Patient.identifier', path: 'Patient.identifier', min: 1, slicing: { discriminator: [{ type: 'value', path: 'system' }], rules: 'open' } },
  { id: 'Patient.identifier:cccd', path: 'Patient.identifier', sliceName: 'cccd', min: 1, max: '1', constraint: [{ key: 'vn-cccd', severity: 'error', human: 'CCCD có 12 chữ số (12 digits)', expression: "value.matches('^[0-9]{12}$')" }] },
  { id: 'Patient.identifier:cccd.system', path: 'Patient.identifier.system', min: 1, fixedUri: 'http://example.org/sid/cccd' },
  { id: 'Patient.identifier:cccd.value', path: 'Patient.identifier.value', min: 1 },
  { id: 'Patient.gender', path: 'Patient.gender', min: 1 },
  { id: 'Patient.birthDate', path: 'Patient.birthDate', max: '0' },
  { id: 'Patient.maritalStatus', path: 'Patient.maritalStatus', patternCodeableConcept: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus' }] } },
]);

const CCCD = { system: 'http://example.org/sid/cccd', value: '001099012345' };

function errors(patient: Record<string, unknown>, viaMeta = false) {
  const resource = viaMeta ? { ...patient, meta: { profile: [PROFILE.url] } } : patient;
  return withConformanceResources([PROFILE], () => validateResource({ resourceType: 'Patient', ...resource }, viaMeta ? undefined : { profiles: [PROFILE.url] })).filter(
    (i) => i.severity === 'error',
  );
}

describe('profiles (snapshot generated from a differential)', () => {
  it('accepts a conforming resource, by meta.profile or by request', () => {
    expect(errors({ identifier: [CCCD], gender: 'female' })).toEqual([]);
    expect(errors({ identifier: [CCCD], gender: 'female' }, true)).toEqual([]);
  });

  it('reports tightened cardinality and prohibited elements', () => {
    const e = errors({ identifier: [CCCD], birthDate: '1990-01-01' });
    expect(e.map((i) => i.diagnostics)).toEqual([
      expect.stringMatching(/^Patient.gender: minimum required = 1, but only found 0/),
      expect.stringMatching(/^Patient.birthDate: max allowed = 0, but found 1/),
    ]);
  });

  it('matches slices by value and checks what the slice adds', () => {
    const missing = errors({ identifier: [{ system: 'http://example.org/sid/other', value: 'x' }], gender: 'male' });
    expect(missing.map((i) => i.diagnostics)).toEqual([expect.stringContaining("Slice 'Patient.identifier:cccd': a matching slice is required")]);
    const bad = errors({ identifier: [{ ...CCCD, value: '12345' }], gender: 'male' });
    expect(bad).toEqual([expect.objectContaining({ code: 'invariant', expression: 'Patient.identifier[0]' })]);
    expect(bad[0]!.diagnostics).toContain('vn-cccd');
    const twice = errors({ identifier: [CCCD, CCCD], gender: 'male' });
    expect(twice.map((i) => i.diagnostics)).toEqual([expect.stringContaining('Patient.identifier:cccd: max allowed = 1, but found 2')]);
  });

  it('checks pattern values', () => {
    const ok = errors({ identifier: [CCCD], gender: 'male', maritalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus', code: 'M' }] } });
    expect(ok).toEqual([]);
    const bad = errors({ identifier: [CCCD], gender: 'male', maritalStatus: { text: 'married' } });
    expect(bad.map((i) => i.expression)).toEqual(['Patient.maritalStatus']);
  });

  it('reports an unknown requested profile as an error and an unknown meta.profile as a warning', () => {
    const asked = validateResource({ resourceType: 'Patient' }, { profiles: ['http://example.org/none'] });
    expect(asked.filter((i) => i.severity === 'error')).toHaveLength(1);
    const declared = validateResource({ resourceType: 'Patient', meta: { profile: ['http://example.org/none'] } });
    expect(declared.filter((i) => i.severity === 'error')).toHaveLength(0);
    expect(declared.some((i) => i.severity === 'warning' && i.diagnostics.includes('http://example.org/none'))).toBe(true);
  });
});

describe('valueAlternatives', () => {
  // active is required, but may be given as a data-absent-reason instead of a value
  const sd = testProfile('Patient', 'active-or-absent', [
    {
      id: 'Patient.active',
      path: 'Patient.active',
      min: 1,
      extension: [{ url: 'http://hl7.org/fhir/5.0/StructureDefinition/extension-ElementDefinition.valueAlternatives', valueCanonical: 'http://hl7.org/fhir/StructureDefinition/data-absent-reason' }],
    },
  ]);
  const check = (p: Record<string, unknown>) =>
    withConformanceResources([sd], () => validateResource({ resourceType: 'Patient', ...p }, { profiles: [sd.url!] }))
      .filter((i) => i.severity === 'error')
      .map((i) => i.diagnostics);
  const absent = (url: string, valueCode: string) => ({ _active: { extension: [{ url, valueCode }] } });

  it('accepts a value, or the allowed extension in its place', () => {
    expect(check({ active: true })).toEqual([]);
    expect(check(absent('http://hl7.org/fhir/StructureDefinition/data-absent-reason', 'unknown'))).toEqual([]);
  });
  it('refuses another extension in place of the value', () => {
    expect(check(absent('http://hl7.org/fhir/StructureDefinition/iso21090-nullFlavor', 'MSK'))).toEqual([expect.stringMatching(/requires that if a value is not present, the extension '.*data-absent-reason' must be present/)]);
  });
});

describe('elements below a contentReference', () => {
  // Parameters.parameter.part repeats Parameters.parameter: a profile may slice parts by name
  const PROFILE = testProfile('Parameters', 'ket-qua-parameters', [
    { id: 'Parameters.parameter', path: 'Parameters.parameter', min: 1, max: '1' },
    { id: 'Parameters.parameter.part', path: 'Parameters.parameter.part', slicing: { discriminator: [{ type: 'value', path: 'name' }], rules: 'closed' } },
    { id: 'Parameters.parameter.part:ma', path: 'Parameters.parameter.part', sliceName: 'ma', min: 1, max: '1' },
    { id: 'Parameters.parameter.part:ma.name', path: 'Parameters.parameter.part.name', fixedString: 'ma' },
    { id: 'Parameters.parameter.part:ma.value[x]', path: 'Parameters.parameter.part.value[x]', min: 1, type: [{ code: 'code' }] },
    { id: 'Parameters.parameter.part:so', path: 'Parameters.parameter.part', sliceName: 'so', min: 0, max: '1' },
    { id: 'Parameters.parameter.part:so.name', path: 'Parameters.parameter.part.name', fixedString: 'so' },
  ]);
  const params = (...part: Record<string, unknown>[]) => ({ resourceType: 'Parameters', parameter: [{ name: 'ket-qua', part }] });
  const errs = (r: unknown) => withConformanceResources([PROFILE], () => validateResource(r, { profiles: [PROFILE.url] })).filter((i) => i.severity === 'error').map((i) => i.diagnostics);

  it('slices parts by the fixed names the profile gives their children', () => {
    expect(errs(params({ name: 'ma', valueCode: 'A01' }, { name: 'so', valueInteger: 3 }))).toEqual([]);
    expect(errs(params({ name: 'so', valueInteger: 3 }))).toEqual([expect.stringContaining("Slice 'Parameters.parameter.part:ma': a matching slice is required")]);
    expect(errs(params({ name: 'ma' }))).toEqual([expect.stringContaining('inv-1'), expect.stringMatching(/^Parameters.parameter.part.value\[x\]: minimum required = 1/)]);
  });
});
