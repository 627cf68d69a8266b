import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { examplesDir } from '../../src/fhir/definitions';
import { validateResource } from '../../src/validation';

/**
 * Every instance example of the R4 package validates without errors, except these, which carry
 * real defects of the published examples (each one is an error for the Java validator too).
 */
const KNOWN_INVALID: Record<string, string> = {
  'ActivityDefinition-blood-tubes-supply.json': 'txt-2: narrative div is whitespace only',
  'ActivityDefinition-heart-valve-replacement.json': 'txt-2: narrative div is whitespace only',
  'EventDefinition-example.json': 'txt-2: narrative div is whitespace only',
  'Questionnaire-zika-virus-exposure-assessment.json': 'txt-2: narrative div is whitespace only',
  'Bundle-10bb101f-a121-4264-a920-67be9cb82c74.json': 'fullUrl .../Patient/pat12 on resource Patient/pat2',
  'Bundle-3a0707d3-549e-4467-b8b8-5a2ab3800efe.json': 'fullUrl .../Patient/pat12 on resource Patient/pat2',
  'Bundle-lri-example.json': 'fullUrls .../Observation/lri-* on resources with other ids',
  'DeviceMetric-example.json': 'parent references a DeviceDefinition; only Device is allowed',
  'DeviceUseStatement-example.json': 'reasonReference to a Procedure, not among the allowed targets',
  'MedicationRequest-medrx0301.json': 'dispenseRequest.performer references a Practitioner; only Organization is allowed',
  'Observation-clinical-gender.json': 'performer references an Encounter',
  'Questionnaire-bb.json': "que-7: enableWhen with operator 'exists' and a non-boolean answer",
  'Questionnaire-qs1.json': 'nested items without the mandatory linkId',
  'Bundle-hla-1.json': "hla-genotyping-results-glstring has a sub-extension 'uri'; the definition names it 'url'",
  'Library-zika-virus-intervention-logic.json': "codeFilter.valueSet 'urn:oid:X.Y.Z' is not a valid OID",
  // HL7's extension pack (whose definitions replace core R4's, as in the Java validator) allows
  // cqf-qualityOfEvidence and cqf-strengthOfRecommendation on PlanDefinition.action only.
  'PlanDefinition-low-suicide-risk-order-set.json': 'cqf-* extension on RelatedArtifact.document, outside its context',
  'PlanDefinition-opioidcds-04.json': 'cqf-* extension on RelatedArtifact.document, outside its context',
  'PlanDefinition-opioidcds-05.json': 'cqf-* extension on RelatedArtifact.document, outside its context',
  'PlanDefinition-opioidcds-07.json': 'cqf-* extension on RelatedArtifact.document, outside its context',
  'PlanDefinition-opioidcds-08.json': 'cqf-* extension on RelatedArtifact.document, outside its context',
  'PlanDefinition-opioidcds-10.json': 'cqf-* extension on RelatedArtifact.document, outside its context',
  'PlanDefinition-opioidcds-11.json': 'cqf-* extension on RelatedArtifact.document, outside its context',
};

const CONFORMANCE_TYPES = new Set(
  'SearchParameter ValueSet CodeSystem StructureDefinition ConceptMap OperationDefinition CapabilityStatement CompartmentDefinition NamingSystem ImplementationGuide StructureMap GraphDefinition ExampleScenario MessageDefinition TerminologyCapabilities'.split(' '),
);
const DEFINITION_BUNDLES = new Set(
  'conceptmaps dataelements extensions externals profiles-others registry resources searchParams terminologies types v2-valuesets v3-valuesets valueset-expansions valuesets'.split(' '),
);

function examples(): { file: string; resource: { resourceType: string } }[] {
  const dir = examplesDir();
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json') && f !== 'package.json' && !(f.startsWith('Bundle-') && DEFINITION_BUNDLES.has(f.slice(7, -5))))
    .map((file) => ({ file, resource: JSON.parse(readFileSync(join(dir, file), 'utf8')) as { resourceType: string } }))
    .filter((e) => !CONFORMANCE_TYPES.has(e.resource.resourceType));
}

describe('R4 examples', () => {
  const all = examples();

  it('are the 705 instance examples', () => {
    expect(all).toHaveLength(705);
  });

  it('validate without errors except the known-invalid list', () => {
    const failing: Record<string, string[]> = {};
    for (const { file, resource } of all) {
      const errors = validateResource(resource).filter((i) => i.severity === 'error' || i.severity === 'fatal');
      if (errors.length) failing[file] = errors.map((e) => `${e.expression}: ${e.diagnostics}`);
    }
    expect(Object.keys(failing).sort()).toEqual(Object.keys(KNOWN_INVALID).sort());
  });
});
