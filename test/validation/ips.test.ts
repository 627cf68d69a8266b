import { validateResource } from '../../src/validation';

/** The IPS profiles come from the hl7.fhir.uv.ips 2.0.0 package and are known without asking. */
const IPS_PATIENT = 'http://hl7.org/fhir/uv/ips/StructureDefinition/Patient-uv-ips';
const errors = (r: Record<string, unknown>, profiles?: string[]) =>
  validateResource(r, profiles ? { profiles } : undefined).filter((i) => i.severity === 'error').map((i) => i.diagnostics);

test('a Patient that meets the IPS Patient profile passes it, by request or by meta.profile', () => {
  const patient = { resourceType: 'Patient', name: [{ family: 'Nguyễn', given: ['Văn A'] }], gender: 'male', birthDate: '1980-01-15' };
  expect(errors(patient, [IPS_PATIENT])).toEqual([]);
  expect(errors({ ...patient, meta: { profile: [IPS_PATIENT] } })).toEqual([]);
});

test('the IPS Patient profile requires a name and a birth date', () => {
  const e = errors({ resourceType: 'Patient', gender: 'male' }, [IPS_PATIENT]);
  expect(e).toEqual([expect.stringMatching(/Patient\.name: minimum required = 1.*Patient-uv-ips/), expect.stringMatching(/Patient\.birthDate: minimum required = 1.*Patient-uv-ips/)]);
});

test('extensions of the HL7 extension pack are known by their definitions', () => {
  // patient-sexParameterForClinicalUse is in the pack, not in core R4, and is a complex extension
  const ext = (url: string) => ({ resourceType: 'Patient', extension: [{ url: `http://hl7.org/fhir/StructureDefinition/${url}`, valueString: 'x' }] });
  expect(errors(ext('patient-sexParameterForClinicalUse'))).toContainEqual(expect.stringMatching(/Extension\.value\[x\]: max allowed = 0/));
  // and one that is in neither, in HL7's namespace, cannot be
  expect(errors(ext('khong-co-dinh-nghia'))).toEqual([expect.stringMatching(/could not be found so is not allowed here/)]);
});
