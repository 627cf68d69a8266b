import { validateResource } from '../../src/validation';

function errors(resource: unknown, profiles?: string[]) {
  return validateResource(resource, profiles ? { profiles } : undefined).filter((i) => i.severity === 'error' || i.severity === 'fatal');
}
function at(resource: unknown) {
  return errors(resource).map((i) => i.expression);
}

describe('issues on hand-made bad resources', () => {
  it('accepts a minimal valid Patient', () => {
    expect(errors({ resourceType: 'Patient', id: 'p1', gender: 'female', name: [{ family: 'Nguyễn', given: ['Thị', 'Lan'] }] })).toEqual([]);
  });

  it('points at the empty string inside a repeating primitive', () => {
    const e = errors({ resourceType: 'Patient', name: [{ given: ['Lan', ''] }] });
    expect(e.map((i) => i.expression)).toEqual(['Patient.name[0].given[1]', 'Patient.name[0].given[1]']);
    expect(e.map((i) => i.diagnostics)).toEqual(['value cannot be empty', expect.stringContaining('ele-1')]);
  });

  it('rejects unknown elements, wrong JSON types and arrays where single values belong', () => {
    expect(at({ resourceType: 'Patient', foo: 1 })).toEqual(['Patient.foo']);
    expect(at({ resourceType: 'Patient', active: 'yes' })).toEqual(['Patient.active']);
    expect(at({ resourceType: 'Patient', gender: ['male'] })).toEqual(['Patient.gender']);
    expect(at({ resourceType: 'Patient', name: { family: 'x' } })).toEqual(['Patient.name']);
    expect(at({ resourceType: 'Patient', name: [] })).toEqual(['Patient.name']);
  });

  it('checks required bindings, primitive formats and cardinality', () => {
    expect(errors({ resourceType: 'Patient', gender: 'mail' })[0]).toMatchObject({ code: 'code-invalid', expression: 'Patient.gender' });
    expect(at({ resourceType: 'Patient', birthDate: '2020-13-01' })).toEqual(['Patient.birthDate']);
    expect(at({ resourceType: 'Observation', status: 'final' })).toEqual(['Observation']);
    expect(errors({ resourceType: 'Observation', status: 'final' })[0]!.diagnostics).toMatch(/^Observation.code: minimum required = 1, but only found 0/);
  });

  it('warns on a code outside an extensible binding, from the value set\'s own system', () => {
    const cat = (code: string, system = 'http://terminology.hl7.org/CodeSystem/condition-category') => ({ resourceType: 'Condition', subject: { reference: 'Patient/1' }, category: [{ coding: [{ system, code }] }] });
    const warned = validateResource(cat('nonsense')).filter((i) => i.code === 'code-invalid');
    expect(warned).toEqual([expect.objectContaining({ severity: 'warning', expression: 'Condition.category[0]' })]);
    expect(validateResource(cat('encounter-diagnosis')).filter((i) => i.code === 'code-invalid')).toEqual([]);
    expect(validateResource(cat('x', 'http://example.org/local')).filter((i) => i.code === 'code-invalid')).toEqual([]);
  });

  it('allows one value[x] only', () => {
    const e = errors({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, valueString: 'a', valueBoolean: true });
    expect(e.map((i) => i.expression)).toEqual(['Observation']);
  });

  it('evaluates FHIRPath invariants at the element', () => {
    const e = errors({ resourceType: 'Patient', contact: [{ gender: 'male' }] });
    expect(e).toEqual([expect.objectContaining({ code: 'invariant', expression: 'Patient.contact[0]' })]);
    expect(e[0]!.diagnostics).toContain('pat-1');
  });

  it('checks extension shape (ext-1) and primitive companions', () => {
    expect(at({ resourceType: 'Patient', extension: [{ url: 'http://x.org/e' }] })).toEqual(['Patient.extension[0]']);
    expect(at({ resourceType: 'Patient', extension: [{ url: 'relative', valueString: 'a' }] })).toEqual(['Patient.extension[0]']);
    // an unknown extension of someone else's is a warning; one in HL7's own namespace, which is known in full, an error
    const unknown = validateResource({ resourceType: 'Patient', extension: [{ url: 'http://fhir.benhvien.vn/StructureDefinition/no-such', valueString: 'a' }] });
    expect(unknown.filter((i) => i.expression === 'Patient.extension[0]')).toEqual([expect.objectContaining({ severity: 'warning' })]);
    const unknownHl7 = validateResource({ resourceType: 'Patient', extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/no-such', valueString: 'a' }] });
    expect(unknownHl7.filter((i) => i.expression === 'Patient.extension[0]')).toEqual([expect.objectContaining({ severity: 'error', diagnostics: expect.stringContaining('could not be found') })]);
    const badType = errors({ resourceType: 'Patient', extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-birthPlace', valueString: 'Huế' }] });
    expect(badType.map((i) => i.expression)).toEqual(['Patient.extension[0].valueString']);
    const badContext = errors({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-birthPlace', valueAddress: { city: 'Huế' } }] });
    expect(badContext[0]!.diagnostics).toContain('is not allowed to be used at this point');
    expect(at({ resourceType: 'Patient', extension: [{ valueString: 'a' }] })).toEqual(['Patient.extension[0]', 'Patient.extension[0]']);
    expect(errors({ resourceType: 'Patient', birthDate: '1970-01-01', _birthDate: { extension: [{ url: 'http://x.org/e', valueString: 'a' }] } })).toEqual([]);
    expect(at({ resourceType: 'Patient', _birthDate: 'x' })).toEqual(['Patient.birthDate']);
  });

  it('checks reference target types', () => {
    const e = errors({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'Medication/1' } });
    expect(e).toEqual([expect.objectContaining({ expression: 'Observation.subject' })]);
  });

  it('validates contained resources with their own location', () => {
    const e = errors({ resourceType: 'Patient', contained: [{ resourceType: 'Organization', id: 'o', name: 'BV', active: 'x' }], managingOrganization: { reference: '#o' } });
    expect(e.map((i) => i.expression)).toEqual(['Patient.contained[0]/*Organization/o*/.active']);
  });

  it('resolves urn:uuid references inside a bundle', () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: 'urn:uuid:9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d', resource: { resourceType: 'Patient' }, request: { method: 'POST', url: 'Patient' } },
        {
          fullUrl: 'urn:uuid:1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed',
          resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'urn:uuid:00000000-0000-4000-8000-000000000000' } },
          request: { method: 'POST', url: 'Observation' },
        },
      ],
    };
    expect(at(bundle)).toEqual(['Bundle.entry[1].resource/*Observation/null*/.subject']);
  });

  it('rejects non-resources and unknown resource types', () => {
    expect(errors(null)).toHaveLength(1);
    expect(errors([1, 2])).toHaveLength(1);
    expect(errors({ resourceType: 'Dragon' })[0]!.diagnostics).toContain("Unknown resource type 'Dragon'");
    expect(errors({ id: 'x' })[0]!.diagnostics).toContain('resourceType');
  });
});
