import type { Bundle, OperationDefinition, Patient } from 'fhir/r4';
import { badRequest, FhirError } from '../fhir/outcome';
import type { Grade, MatchResult } from '../mpi/score';
import type { FhirOperation } from './operation';

/**
 * `Patient/$match` (FHIR R4): the MPI's candidates for a Patient that need not be stored, best
 * first, with `search.score` (0–1) and the `match-grade` extension. `onlyCertainMatches` keeps
 * the deterministic (CCCD/BHXH) matches only.
 */
const definition: OperationDefinition = {
  resourceType: 'OperationDefinition',
  id: 'Patient-match',
  url: 'http://hl7.org/fhir/OperationDefinition/Patient-match',
  name: 'PatientMatch',
  status: 'active',
  kind: 'operation',
  code: 'match',
  resource: ['Patient'],
  system: false,
  type: true,
  instance: false,
  parameter: [
    { name: 'resource', use: 'in', min: 1, max: '1', type: 'Resource' },
    { name: 'onlyCertainMatches', use: 'in', min: 0, max: '1', type: 'boolean' },
    { name: 'count', use: 'in', min: 0, max: '1', type: 'integer' },
    { name: 'return', use: 'out', min: 1, max: '1', type: 'Bundle' },
  ],
};

const MATCH_GRADE = 'http://hl7.org/fhir/StructureDefinition/match-grade';

/** Log-odds weight → a 0–1 score: 1 for a deterministic match, a logistic curve otherwise. */
function score(m: MatchResult): number {
  if (m.score === Infinity) return 1;
  return Math.round((1 / (1 + 2 ** (-(m.score - 8) / 3))) * 1000) / 1000;
}

export const matchOperation: FhirOperation = {
  definition,
  async handle(input, { resources, linker }) {
    if (input.resourceType !== 'Patient') throw badRequest('$match is defined on Patient only');
    if (!linker) throw new FhirError(501, 'the master patient index is turned off (MPI=off)', 'not-supported');
    const patient = (input.params.get('resource')?.[0] ?? input.bodyResource) as Patient | undefined;
    if (!patient || patient.resourceType !== 'Patient') throw badRequest('$match needs a Patient as the "resource" parameter', 'resource');
    resources.prepare(patient, { facility: 'match', feed: 'match' }, 'Patient', 'Parameters.parameter[0].resource.'); // 422 on an invalid Patient
    const count = Number(input.params.get('count')?.[0] ?? 10);
    if (!Number.isInteger(count) || count < 1 || count > 100) throw badRequest('count must be between 1 and 100', 'count');
    const certainOnly = input.params.get('onlyCertainMatches')?.[0] === true;
    const found = (await linker.candidates(patient)).filter((c) => !certainOnly || c.match.grade === 'certain').slice(0, count);
    const base = input.base ?? '';
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'searchset',
      total: found.length,
      entry: found.map((c) => ({
        fullUrl: `${base}/Patient/${c.patient.id}`,
        resource: c.patient,
        search: { mode: 'match', score: score(c.match), extension: [{ url: MATCH_GRADE, valueCode: c.match.grade as Grade }] },
      })),
    };
    return { resource: bundle };
  },
};
