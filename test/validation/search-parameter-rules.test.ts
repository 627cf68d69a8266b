import { validateResource } from '../../src/validation';

/** Conformance resources that cite core search parameters must agree with them. */
const errors = (r: Record<string, unknown>) => validateResource(r).filter((i) => i.severity === 'error').map((i) => `${i.expression}: ${i.diagnostics}`);
const derived = (over: Record<string, unknown>) => ({
  resourceType: 'SearchParameter',
  url: 'http://fhir.ehealth.gov.vn/core/SearchParameter/organization-name',
  name: 'VNOrganizationName',
  status: 'active',
  description: 'Tên cơ sở khám chữa bệnh',
  code: 'name',
  derivedFrom: 'http://hl7.org/fhir/SearchParameter/Organization-name',
  base: ['Organization'],
  type: 'string',
  expression: 'Organization.name',
  ...over,
});

test('a SearchParameter keeps the type and resource types of the one it derives from', () => {
  expect(errors(derived({}))).toEqual([]);
  expect(errors(derived({ type: 'token' }))).toEqual([expect.stringMatching(/^SearchParameter: The type token is different to the type string/)]);
  expect(errors(derived({ base: ['Organization', 'Patient'] }))).toEqual([expect.stringMatching(/resource type Patient is not listed as a base/)]);
});

test("a CapabilityStatement's search parameter has the type of its definition", () => {
  const cs = (type: string) => ({
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: '2026-12-02',
    kind: 'instance',
    implementation: { description: 'fhir-gateway' },
    fhirVersion: '4.0.1',
    format: ['json'],
    rest: [{ mode: 'server', resource: [{ type: 'Patient', searchParam: [{ name: 'birthdate', definition: 'http://hl7.org/fhir/SearchParameter/individual-birthdate', type }] }] }],
  });
  expect(errors(cs('date'))).toEqual([]);
  expect(errors(cs('token'))).toEqual([expect.stringMatching(/^CapabilityStatement\.rest\[0\]\.resource\[0\]\.searchParam\[0\]: Type mismatch/)]);
});
