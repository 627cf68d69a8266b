import type { OperationDefinition, Resource } from 'fhir/r4';
import { badRequest, issue, toOperationOutcome } from '../fhir/outcome';
import { validateResource } from '../validation';
import type { FhirOperation } from './operation';

/** `$validate` (type and instance level): the validator's issues as an OperationOutcome, always 200. */
const definition: OperationDefinition = {
  resourceType: 'OperationDefinition',
  id: 'Resource-validate',
  url: 'http://hl7.org/fhir/OperationDefinition/Resource-validate',
  name: 'Validate',
  status: 'active',
  kind: 'operation',
  code: 'validate',
  resource: ['Resource'],
  system: false,
  type: true,
  instance: true,
  parameter: [
    { name: 'resource', use: 'in', min: 0, max: '1', type: 'Resource' },
    { name: 'mode', use: 'in', min: 0, max: '1', type: 'code' },
    { name: 'profile', use: 'in', min: 0, max: '1', type: 'uri' },
    { name: 'return', use: 'out', min: 1, max: '1', type: 'OperationOutcome' },
  ],
};

const MODES = new Set(['create', 'update', 'delete', 'profile']);

export const validateOperation: FhirOperation = {
  definition,
  async handle(input, { resources }) {
    const mode = input.params.get('mode')?.[0] as string | undefined;
    if (mode !== undefined && !MODES.has(mode)) throw badRequest(`mode must be one of create, update, delete, profile`, 'mode');
    const profile = input.params.get('profile')?.[0] as string | undefined;
    let target = (input.params.get('resource')?.[0] as Resource | undefined) ?? input.bodyResource;
    if (mode === 'delete') {
      // Nothing stops a delete here; say so rather than pretend to check.
      return { resource: toOperationOutcome([issue('information', 'informational', 'No rules prevent deleting this resource')]) };
    }
    if (!target && input.resourceType && input.id) target = JSON.parse((await resources.read(input.resourceType, input.id)).json) as Resource;
    if (!target) throw badRequest('$validate needs a resource (in the body or as the "resource" parameter)', 'resource');
    const issues = validateResource(target, profile ? { profiles: [profile] } : undefined);
    if (input.resourceType && (target as Resource).resourceType !== input.resourceType) {
      issues.unshift(issue('error', 'invalid', `resourceType '${String((target as Resource).resourceType)}' does not match the URL's type '${input.resourceType}'`, 'resourceType'));
    }
    if (mode === 'update' && input.id && (target as Resource).id !== input.id) issues.unshift(issue('error', 'invalid', `resource id does not match the URL's id '${input.id}'`, 'id'));
    return { resource: toOperationOutcome(issues.length ? issues : [issue('information', 'informational', 'No issues detected during validation')]) };
  },
};
