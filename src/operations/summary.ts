import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { OperationDefinition } from 'fhir/r4';
import { v5 as uuidv5 } from 'uuid';
import { badRequest, FhirError, notFound } from '../fhir/outcome';
import { SYSTEMS } from '../mpi/features';
import { linkedPatientIds } from '../mpi/links';
import type { ResourceService } from '../service/resources';
import { compartmentFingerprint, compartmentResources, referencedResources } from '../store/compartment';
import type { AnyResource } from '../store/types';
import { buildSummary } from '../summary/build';
import { pickLanguage } from '../summary/i18n';
import { SECTION_TYPES } from '../summary/sections';
import type { FhirOperation, OperationInput } from './operation';

/**
 * IPS `$summary` (hl7.fhir.uv.ips 2.0.0): `Patient/{id}/$summary` or
 * `Patient/$summary?identifier=system|value`. The document spans every Patient record linked
 * to the same person. It is cached per person, language and compartment fingerprint: a write
 * anywhere in a linked compartment changes the fingerprint, so no gateway process can serve
 * a stale summary and no invalidation message is needed.
 */
const definition = JSON.parse(
  readFileSync(join(dirname(require.resolve('hl7.fhir.uv.ips/package.json')), 'OperationDefinition-summary.json'), 'utf8'),
) as OperationDefinition;

const IPS_BUNDLE = 'http://hl7.org/fhir/uv/ips/StructureDefinition/Bundle-uv-ips';
/** Namespace of the summaries' uuid v5 document ids. */
const DOCUMENT_NS = '6f1d2c9e-8a6b-5d3e-9a4f-2b7c1e0d4a58';

async function findPatient(resources: ResourceService, input: OperationInput): Promise<AnyResource> {
  const identifier = input.params.get('identifier')?.[0] as string | undefined;
  if (input.id) {
    if (identifier !== undefined) throw badRequest('give either a Patient id or an identifier, not both', 'identifier');
    return JSON.parse((await resources.read('Patient', input.id)).json) as AnyResource;
  }
  if (identifier === undefined) throw badRequest('Patient/$summary needs an identifier (system|value)', 'identifier');
  if (!identifier.includes('|') || identifier.endsWith('|')) throw badRequest(`identifier '${identifier}' must be system|value`, 'identifier');
  let matches = (await resources.search('Patient', [['identifier', identifier], ['_count', '20']])).matches;
  // A BHYT card changes with the beneficiary group; its last 10 characters (the BHXH number) do not.
  const [system, value] = [identifier.slice(0, identifier.indexOf('|')), identifier.slice(identifier.indexOf('|') + 1)];
  if (matches.length === 0 && system === SYSTEMS.bhyt && value.length >= 10) {
    matches = (await resources.search('Patient', [['identifier', `${SYSTEMS.bhxh}|${value.slice(-10)}`], ['_count', '20']])).matches;
  }
  if (matches.length === 0) throw notFound(`no Patient has identifier ${identifier}`);
  // Several records are fine when they are one person (linked); otherwise the caller must choose.
  const first = [...matches].sort((a, b) => String(a.id).localeCompare(String(b.id)))[0]!;
  const same = new Set(await linkedPatientIds(resources, first.id!));
  if (matches.some((m) => !same.has(m.id!))) throw new FhirError(409, `identifier ${identifier} names ${matches.length} Patient records that are not linked to one person`, 'multiple-matches');
  return first;
}

export const summaryOperation: FhirOperation = {
  definition,
  async handle(input, { resources }) {
    if (input.resourceType !== 'Patient') throw badRequest('$summary is defined on Patient only');
    const profile = input.params.get('profile')?.[0];
    if (profile !== undefined && profile !== IPS_BUNDLE) throw badRequest(`only the IPS profile ${IPS_BUNDLE} is supported`, 'profile');
    const patient = await findPatient(resources, input);
    const patientIds = await linkedPatientIds(resources, patient.id!);
    const lang = pickLanguage(input.acceptLanguage);
    const base = input.base ?? '';
    const db = resources.repo.db;
    const { fingerprint, newest } = await compartmentFingerprint(db, patientIds);
    const documentId = uuidv5(`${patient.id}|${patientIds.join(',')}|${lang}|${fingerprint}`, DOCUMENT_NS);
    const cacheKey = `summary/${createHash('sha256').update(`${documentId}|${base}`).digest('base64url')}`;
    const hit = await resources.cache.get(cacheKey);
    if (hit?.payload) return { json: hit.payload };
    const data = await compartmentResources(db, patientIds, SECTION_TYPES);
    const referenced = await referencedResources(db, [patient, ...data], new Set());
    const bundle = buildSummary({ patient, patientIds, resources: data, referenced, lang, base, documentId, timestamp: newest, now: Date.now() });
    const json = JSON.stringify(bundle);
    await resources.cache.put(cacheKey, 1, json, SUMMARY_TTL_SECONDS);
    return { json };
  },
};

/** A summary's key changes with its data, so the TTL only bounds how long an unused one occupies the cache. */
const SUMMARY_TTL_SECONDS = 3600;
