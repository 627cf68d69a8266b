import { validateResource, withConformanceResources } from '../../src/validation';
import { testProfile } from '../helpers/profiles';

/** The validator's policy options (named as the Java validator's), and their defaults. */
const errors = (resource: unknown, options?: Parameters<typeof validateResource>[1]) =>
  validateResource(resource, options)
    .filter((i) => i.severity === 'error')
    .map((i) => `${i.expression}: ${i.diagnostics}`);

describe('assumeValidRestReferences', () => {
  const SUBJECT = testProfile('Observation', 'obs-subject-patient', [
    { id: 'Observation.subject', path: 'Observation.subject', type: [{ code: 'Reference', targetProfile: ['http://hl7.org/fhir/StructureDefinition/Patient'] }] },
  ]);
  const obs = (reference: string) => ({ resourceType: 'Observation', status: 'final', code: { text: 'Mạch' }, subject: { reference } });
  const withProfile = (r: unknown, assume?: boolean) =>
    withConformanceResources([SUBJECT], () => errors(r, { profiles: [SUBJECT.url], assumeValidRestReferences: assume }));

  it('by default takes the type from a RESTful URL and checks it against the targets', () => {
    expect(errors({ ...obs('Group/1'), subject: { reference: 'Medication/1' } })).toEqual([
      expect.stringContaining("The type 'Medication' implied by the reference URL Medication/1 is not a valid Target"),
    ]);
    expect(withProfile(obs('Group/1'))).toEqual([expect.stringContaining("The type 'Group' implied by the reference URL Group/1")]);
  });

  it('when switched off, leaves an unresolved RESTful reference unchecked', () => {
    expect(errors({ ...obs('Group/1'), subject: { reference: 'Medication/1' } }, { assumeValidRestReferences: false })).toEqual([]);
    expect(withProfile(obs('Group/1'), false)).toEqual([]);
  });

  it('still checks what resolves inside the resource, off or on', () => {
    const contained = { ...obs('#g'), contained: [{ resourceType: 'Group', id: 'g', type: 'person', actual: true }] };
    expect(withProfile(contained, false)).toEqual([expect.stringContaining("The type 'Group' implied by the reference URL #g")]);
  });
});

describe('allowExampleUrls', () => {
  const doc = { resourceType: 'DocumentReference', status: 'current', content: [{ attachment: { url: 'http://repository.example.org/fhir/Binary/1' } }] };

  it('accepts the reserved example domains by default', () => {
    expect(errors(doc)).toEqual([]);
  });

  it('when switched off, rejects them in uri, url and canonical values, and only them', () => {
    expect(errors(doc, { allowExampleUrls: false })).toEqual(['DocumentReference.content[0].attachment.url: Example URLs are not allowed in this context (http://repository.example.org/fhir/Binary/1)']);
    const real = { ...doc, content: [{ attachment: { url: 'https://pacs.benhvien.vn/example.org/1' } }] };
    expect(errors(real, { allowExampleUrls: false })).toEqual([]);
  });

  it('when switched off, makes an unknown extension on an example domain an error, not a warning', () => {
    const ext = { resourceType: 'Basic', code: { text: 'x' }, extension: [{ url: 'http://example.org/fhir/StructureDefinition/something', valueString: 'x' }] };
    expect(errors(ext)).toEqual([]);
    expect(errors(ext, { allowExampleUrls: false }).sort()).toEqual([
      'Basic.extension[0].url: Example URLs are not allowed in this context (http://example.org/fhir/StructureDefinition/something)',
      'Basic.extension[0]: The extension http://example.org/fhir/StructureDefinition/something could not be found so is not allowed here',
    ]);
  });
});

describe('validateContained', () => {
  const condition = {
    resourceType: 'Condition',
    subject: { reference: 'Patient/bn-1' },
    contained: [{ resourceType: 'Practitioner', id: 'x'.repeat(65), name: [{ family: 'Nguyễn' }] }],
  };

  it('by default validates contained resources and requires each to be referenced', () => {
    expect(errors(condition)).toEqual([expect.stringContaining('is not a valid id'), expect.stringContaining('dom-3')]);
  });

  it('when switched off, leaves them alone', () => {
    expect(errors(condition, { validateContained: false })).toEqual([]);
  });
});

describe('htmlInMarkdown', () => {
  const comm = { resourceType: 'Communication', status: 'completed', note: [{ text: 'Gửi theo mẫu <resource type>\\<id>' }] };
  const issues = (htmlInMarkdown?: 'ignore' | 'warning' | 'error') =>
    validateResource(comm, { htmlInMarkdown }).filter((i) => i.diagnostics.includes('embedded HTML')).map((i) => `${i.severity} ${i.expression}`);

  it('is a warning by default, and can be an error or nothing', () => {
    expect(issues()).toEqual(['warning Communication.note[0].text']);
    expect(issues('error')).toEqual(['error Communication.note[0].text']);
    expect(issues('ignore')).toEqual([]);
  });

  it('leaves markdown without tags alone', () => {
    expect(validateResource({ ...comm, note: [{ text: 'Huyết áp < 90 mmHg, **theo dõi**' }] }).filter((i) => i.diagnostics.includes('embedded HTML'))).toEqual([]);
  });
});

describe('bundleRules', () => {
  const NAMED = testProfile('Patient', 'patient-named', [{ id: 'Patient.name', path: 'Patient.name', min: 1 }]);
  const bundle = {
    resourceType: 'Bundle',
    type: 'collection',
    entry: [
      { fullUrl: 'urn:uuid:8f0c2f4e-0b7a-4d3e-9d55-0c5a3f1e2b01', resource: { resourceType: 'Organization', name: 'BV Đa khoa tỉnh' } },
      { fullUrl: 'urn:uuid:8f0c2f4e-0b7a-4d3e-9d55-0c5a3f1e2b02', resource: { resourceType: 'Patient', gender: 'male' } },
      { fullUrl: 'urn:uuid:8f0c2f4e-0b7a-4d3e-9d55-0c5a3f1e2b03', resource: { resourceType: 'Patient', name: [{ family: 'Trần' }] } },
    ],
  };
  const run = (rule: string) =>
    withConformanceResources([NAMED], () => errors(bundle, { bundleRules: [{ rule, profile: NAMED.url }] })).map((e) => e.replace(/\/\*.*\*\//, ''));

  it('checks the entries a rule names against its profile', () => {
    expect(run('Patient:0')).toEqual([expect.stringMatching(/^Bundle\.entry\[1\]\.resource.*Patient\.name: minimum required = 1/)]);
    expect(run('Patient:1')).toEqual([]);
    expect(run('Patient')).toHaveLength(1);
    expect(run('1')).toHaveLength(1);
    expect(run('Organization:0')).toEqual([expect.stringContaining('is for Patient resources, not Organization')]);
  });

  it('adds nothing without rules', () => {
    expect(errors(bundle)).toEqual([]);
  });
});

describe('resolveReference', () => {
  // a profile whose linked patients must conform to it too, so two instances may link in a circle
  const CIRCLE = testProfile('Patient', 'patient-circle', [
    { id: 'Patient.gender', path: 'Patient.gender', fixedCode: 'other' },
    { id: 'Patient.link.other', path: 'Patient.link.other', type: [{ code: 'Reference', targetProfile: ['http://example.org/StructureDefinition/patient-circle'] }] },
  ]);
  const patient = (id: string, gender: string, other: string) => ({ resourceType: 'Patient', id, gender, link: [{ other: { reference: `Patient/${other}` }, type: 'seealso' }] });
  const run = (source: unknown, targets: Record<string, unknown>) =>
    withConformanceResources([CIRCLE], () => errors(source, { profiles: [CIRCLE.url], resolveReference: (ref) => targets[ref] }));

  it('requires a resolved target to be valid against one of the allowed profiles', () => {
    expect(run(patient('a', 'other', 'b'), { 'Patient/b': patient('b', 'male', 'a') })).toEqual([
      'Patient.link[0].other: Unable to find a profile match for Patient/b among choices: http://example.org/StructureDefinition/patient-circle',
    ]);
  });

  it("accepts a valid target without following the target's own references (circles end)", () => {
    expect(run(patient('a', 'other', 'b'), { 'Patient/b': patient('b', 'other', 'a') })).toEqual([]);
    expect(run(patient('a', 'male', 'b'), { 'Patient/b': patient('b', 'other', 'a') })).toEqual([expect.stringContaining("Value is 'male' but is fixed to 'other'")]);
  });

  it('checks type only when the target cannot be found', () => {
    expect(run(patient('a', 'other', 'b'), {})).toEqual([]);
  });
});
