import type { Bundle, OperationDefinition, Parameters, ParametersParameter } from 'fhir/r4';
import { FhirError, hasErrors, issue, toOperationOutcome, type Issue } from '../fhir/outcome';
import { convertDicom } from '../ingest/dicom';
import { convertHl7v2, type Explanation } from '../ingest/hl7v2';
import { convertClaim } from '../ingest/vn-claim';
import type { FhirOperation } from './operation';

/**
 * `$convert-data` (system level), with the parameters FHIR-Converter users know: the source
 * text in `inputData`, its kind in `inputDataType`. Answers the Bundle the gateway would store,
 * without storing it; `explain=true` answers Parameters with the Bundle and, per HL7 v2 field,
 * the element it went to or why it was dropped. `rootTemplate` is accepted and ignored: the
 * message type comes from the message itself.
 */
const definition: OperationDefinition = {
  resourceType: 'OperationDefinition',
  id: 'convert-data',
  url: 'http://fhir.ehealth.gov.vn/core/OperationDefinition/convert-data',
  name: 'ConvertData',
  status: 'active',
  kind: 'operation',
  code: 'convert-data',
  system: true,
  type: false,
  instance: false,
  parameter: [
    { name: 'inputData', use: 'in', min: 1, max: '1', type: 'string', documentation: 'HL7 v2 message text, VN claim XML, or DICOM (JSON text, or base64 of Part 10 bytes)' },
    { name: 'inputDataType', use: 'in', min: 1, max: '1', type: 'string', documentation: 'Hl7v2 | VnClaim | Dicom' },
    { name: 'rootTemplate', use: 'in', min: 0, max: '1', type: 'string', documentation: 'accepted for compatibility; the message type is read from the message' },
    { name: 'templateCollectionReference', use: 'in', min: 0, max: '1', type: 'string', documentation: 'accepted for compatibility; mappings are built in' },
    { name: 'explain', use: 'in', min: 0, max: '1', type: 'boolean', documentation: 'HL7 v2: also return where each non-empty field went' },
    { name: 'return', use: 'out', min: 1, max: '1', type: 'Bundle' },
  ],
};

const TYPES = ['Hl7v2', 'VnClaim', 'Dicom'] as const;

async function convertClaimText(text: string): Promise<{ bundle?: Bundle; issues: Issue[] }> {
  const bundles: Bundle[] = [];
  const issues: Issue[] = [];
  for await (const c of convertClaim(Buffer.from(text, 'utf8'))) {
    if (c.bundle) bundles.push(c.bundle);
    issues.push(...c.issues);
  }
  // One episode (HOSO) is the usual case; a file of several answers a collection of their Bundles.
  if (bundles.length <= 1) return { bundle: bundles[0], issues };
  return { bundle: { resourceType: 'Bundle', type: 'collection', entry: bundles.map((b) => ({ resource: b })) }, issues };
}

function convertDicomText(text: string): { bundle?: Bundle; issues: Issue[] } {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) return convertDicom(Buffer.from(text, 'utf8'), 'application/dicom+json', { facility: '' });
  return convertDicom(Buffer.from(text, 'base64'), 'application/dicom', { facility: '' });
}

function explainParameters(bundle: Bundle, issues: Issue[], e: Explanation): Parameters {
  const fields: ParametersParameter[] = e.fields.map((f) => ({
    name: 'field',
    part: [{ name: 'field', valueString: f.field }, f.element ? { name: 'element', valueString: f.element } : { name: 'dropped', valueString: f.dropped ?? '' }],
  }));
  return {
    resourceType: 'Parameters',
    parameter: [
      { name: 'return', resource: bundle },
      { name: 'outcome', resource: toOperationOutcome(issues.length ? issues : [issue('information', 'informational', 'Converted without issues')]) },
      { name: 'nonEmptyFields', valueInteger: e.nonEmpty },
      { name: 'mappedFields', valueInteger: e.mapped },
      ...fields,
    ],
  };
}

export const convertDataOperation: FhirOperation = {
  definition,
  async handle(input) {
    const data = input.params.get('inputData')![0];
    const type = input.params.get('inputDataType')![0];
    const explain = input.params.get('explain')?.[0] === true;
    if (typeof data !== 'string' || !data.trim()) throw new FhirError(400, [issue('error', 'required', 'inputData is empty', 'inputData')]);
    if (!TYPES.includes(type as (typeof TYPES)[number])) throw new FhirError(400, [issue('error', 'not-supported', `inputDataType '${String(type)}' is not one of ${TYPES.join(', ')}`, 'inputDataType')]);
    let result: { bundle?: Bundle; issues: Issue[]; explanation?: Explanation };
    if (type === 'Hl7v2') result = convertHl7v2(Buffer.from(data, 'utf8'), {}, { explain });
    else if (type === 'VnClaim') result = await convertClaimText(data);
    else result = convertDicomText(data);
    // The message could not be converted: say where and why, as intake would.
    if (!result.bundle || hasErrors(result.issues)) throw new FhirError(422, result.issues.length ? result.issues : [issue('error', 'processing', 'nothing converted', 'inputData')]);
    if (explain && result.explanation) return { resource: explainParameters(result.bundle, result.issues, result.explanation) };
    return { resource: result.bundle };
  },
};
