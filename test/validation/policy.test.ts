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
