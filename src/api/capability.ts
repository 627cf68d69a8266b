import type { CapabilityStatement, CapabilityStatementRestResource, CapabilityStatementRestSecurity } from 'fhir/r4';
import { allResourceTypes } from '../fhir/definitions';
import { searchParamsFor } from '../fhir/search-parameters';
import { OPERATIONS } from '../operations';
import { xmlAvailable } from './format';

/**
 * Built from what the server really does: the interaction list mirrors the router, search
 * parameters come from the same registry the indexer uses, operations from their definitions.
 */
const INTERACTIONS = ['read', 'vread', 'update', 'patch', 'delete', 'history-instance', 'history-type', 'create', 'search-type'] as const;

let cached: { base: string; security?: string; cs: CapabilityStatement } | undefined;

/** `security`: what the security layer advertises (SMART), when it is on. */
export function capabilityStatement(base: string, security?: CapabilityStatementRestSecurity): CapabilityStatement {
  const securityKey = security ? JSON.stringify(security) : undefined;
  if (cached?.base === base && cached.security === securityKey) return cached.cs;
  const resource: CapabilityStatementRestResource[] = [...allResourceTypes()].sort().map((type) => ({
    type: type as CapabilityStatementRestResource['type'],
    versioning: 'versioned-update',
    readHistory: true,
    updateCreate: true,
    conditionalCreate: true,
    conditionalRead: 'not-supported',
    conditionalUpdate: true,
    conditionalDelete: 'single',
    referencePolicy: ['literal', 'logical', 'local'],
    interaction: INTERACTIONS.map((code) => ({ code })),
    searchInclude: ['*'],
    searchRevInclude: ['*'],
    searchParam: [
      { name: '_id', type: 'token' },
      { name: '_lastUpdated', type: 'date' },
      ...[...searchParamsFor(type).values()].filter((sp) => !sp.code.includes(':')).map((sp) => ({ name: sp.code, type: sp.type })),
    ],
    operation: OPERATIONS.filter((o) => o.definition.type || o.definition.instance)
      .filter((o) => o.definition.resource?.includes('Resource') || (o.definition.resource as string[] | undefined)?.includes(type))
      .map((o) => ({ name: o.definition.code, definition: o.definition.url! })),
  }));
  const systemOperations = OPERATIONS.filter((o) => o.definition.system).map((o) => ({ name: o.definition.code, definition: o.definition.url! }));
  const cs: CapabilityStatement = {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString().slice(0, 10),
    kind: 'instance',
    software: { name: 'fhir-gateway', version: '0.1.0' },
    implementation: { description: 'FHIR R4 interoperability gateway', url: base },
    fhirVersion: '4.0.1',
    format: xmlAvailable() ? ['json', 'xml'] : ['json'],
    patchFormat: ['application/json-patch+json'],
    rest: [
      {
        mode: 'server',
        ...(security ? { security } : {}),
        resource,
        interaction: [{ code: 'transaction' }, { code: 'batch' }, { code: 'history-system' }, { code: 'search-system' }],
        // FHIR forbids empty arrays: no system-level operation, no element.
        ...(systemOperations.length ? { operation: systemOperations } : {}),
      },
    ],
  };
  cached = { base, ...(securityKey ? { security: securityKey } : {}), cs };
  return cs;
}
