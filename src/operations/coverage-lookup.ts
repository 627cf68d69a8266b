import type { OperationDefinition } from 'fhir/r4';
import { FhirError } from '../fhir/outcome';
import { parseLookupQuery, SHAPES } from '../lookup/map';
import type { FhirOperation } from './operation';

/**
 * `Coverage/$lookup`: is this person's health-insurance card in force, asked of the VSS portal
 * by national ID (CCCD), card code or BHXH number. The answer is a collection Bundle: the
 * CoverageEligibilityResponse first, then the card(s), the person and, with `history`, visits.
 */
const definition: OperationDefinition = {
  resourceType: 'OperationDefinition',
  id: 'Coverage-lookup',
  url: 'http://fhir.ehealth.gov.vn/core/OperationDefinition/Coverage-lookup',
  name: 'CoverageLookup',
  title: 'Health-insurance card lookup (VSS)',
  status: 'active',
  kind: 'operation',
  code: 'lookup',
  resource: ['Coverage'],
  system: false,
  type: true,
  instance: false,
  affectsState: true,
  description: 'Checks a BHYT card with the national insurance portal (cached, answered from the cache when the portal fails) and keeps the card as a Coverage.',
  parameter: [
    { name: 'identifier', use: 'in', min: 1, max: '1', type: 'string', documentation: `${SHAPES}` },
    { name: 'name', use: 'in', min: 1, max: '1', type: 'string', documentation: 'Full name as printed on the card' },
    { name: 'birthdate', use: 'in', min: 1, max: '1', type: 'date', documentation: 'YYYY-MM-DD, YYYY-MM or YYYY' },
    { name: 'history', use: 'in', min: 0, max: '1', type: 'boolean', documentation: 'Also return the visit history (Lskcb2025) as Encounters' },
    { name: 'return', use: 'out', min: 1, max: '1', type: 'Bundle' },
  ],
};

export const coverageLookupOperation: FhirOperation = {
  definition,
  fastPath: true,
  async handle(input, { lookup }) {
    if (!lookup) throw new FhirError(501, 'the insurance card lookup is not set up in this gateway', 'not-supported');
    const one = (n: string) => String(input.params.get(n)?.[0] ?? '');
    const q = parseLookupQuery(one('identifier'), one('name'), one('birthdate'), input.params.get('history')?.[0] === true);
    const { json, patients, ageSeconds } = await lookup.lookup(q);
    return { json, patients, ...(ageSeconds !== undefined ? { headers: { Age: String(ageSeconds) } } : {}) };
  },
};
