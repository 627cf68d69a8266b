import type { Bundle, OperationDefinition } from 'fhir/r4';
import { dateRange } from '../fhir/dates';
import { isResourceType } from '../fhir/definitions';
import { badRequest } from '../fhir/outcome';
import { linkedPatientIds } from '../mpi/links';
import { compartmentPage, referencedResources } from '../store/compartment';
import { MAX_COUNT } from '../store/search/query';
import type { FhirOperation, OperationInput } from './operation';

/**
 * `Patient/{id}/$everything` (FHIR R4): the Patient compartment of every Patient record linked
 * to the same person, plus the resources they reference (Practitioner, Organization, Location,
 * Medication, …) as `search.mode = include`. Which Patient records were spanned is said in the
 * Bundle's `link` with relation `patient-record` (one per record) — a reader sees whose data it got.
 */
const definition: OperationDefinition = {
  resourceType: 'OperationDefinition',
  id: 'Patient-everything',
  url: 'http://hl7.org/fhir/OperationDefinition/Patient-everything',
  name: 'PatientEverything',
  status: 'active',
  kind: 'operation',
  code: 'everything',
  resource: ['Patient'],
  system: false,
  type: false,
  instance: true,
  parameter: [
    { name: 'start', use: 'in', min: 0, max: '1', type: 'date' },
    { name: 'end', use: 'in', min: 0, max: '1', type: 'date' },
    { name: '_since', use: 'in', min: 0, max: '1', type: 'dateTime' },
    { name: '_type', use: 'in', min: 0, max: '*', type: 'code' },
    { name: '_count', use: 'in', min: 0, max: '1', type: 'integer' },
    { name: '_offset', use: 'in', min: 0, max: '1', type: 'integer', documentation: 'Paging position (the next/previous links carry it).' },
    { name: 'return', use: 'out', min: 1, max: '1', type: 'Bundle' },
  ],
};

const DEFAULT_COUNT = 100;
export const PATIENT_RECORD_RELATION = 'patient-record';

function one(input: OperationInput, name: string): string | undefined {
  const v = input.params.get(name)?.[0];
  return v === undefined ? undefined : String(v);
}

function dateParam(input: OperationInput, name: string, side: 'lo' | 'hi'): number | undefined {
  const v = one(input, name);
  if (v === undefined) return undefined;
  const r = dateRange(v);
  if (!r) throw badRequest(`${name} '${v}' is not a date`, name);
  return r[side];
}

export const everythingOperation: FhirOperation = {
  definition,
  async handle(input, { resources }) {
    if (input.resourceType !== 'Patient') throw badRequest('$everything is defined on Patient only');
    const id = input.id!;
    await resources.read('Patient', id); // 404/410 for an unknown or deleted patient
    const types = (input.params.get('_type') ?? []).flatMap((t) => String(t).split(',')).map((t) => t.trim()).filter(Boolean);
    for (const t of types) if (!isResourceType(t)) throw badRequest(`_type '${t}' is not a resource type`, '_type');
    const since = one(input, '_since');
    if (since !== undefined && Number.isNaN(Date.parse(since))) throw badRequest(`_since '${since}' is not an instant`, '_since');
    const count = Number(one(input, '_count') ?? DEFAULT_COUNT);
    const offset = Number(one(input, '_offset') ?? 0);
    if (count < 1 || count > MAX_COUNT) throw badRequest(`_count must be between 1 and ${MAX_COUNT}`, '_count');
    if (offset < 0) throw badRequest('_offset must not be negative', '_offset');
    const careFrom = dateParam(input, 'start', 'lo');
    const careTo = dateParam(input, 'end', 'hi');

    const patientIds = await linkedPatientIds(resources, id);
    const db = resources.repo.db;
    const page = await compartmentPage(db, {
      patientIds,
      ...(types.length ? { types } : {}),
      ...(since ? { since } : {}),
      ...(careFrom !== undefined ? { careFrom } : {}),
      ...(careTo !== undefined ? { careTo } : {}),
      count,
      offset,
    });
    // The referenced resources of this page only, so each page stays bounded.
    const seen = new Set(page.resources.map((r) => `${r.resourceType}/${r.id}`));
    const referenced = types.length ? [] : await referencedResources(db, page.resources, seen);

    const base = input.base ?? '';
    const query = [
      ...[...input.params].filter(([k]) => k !== '_offset' && k !== '_count').flatMap(([k, vs]) => vs.map((v) => [k, String(v)])),
      ['_count', String(count)],
    ];
    const link = (o: number) => `${base}/Patient/${id}/$everything?${[...query, ['_offset', String(o)]].map(([k, v]) => `${encodeURIComponent(k!)}=${encodeURIComponent(v!)}`).join('&')}`;
    const links: Bundle['link'] = [{ relation: 'self', url: link(offset) }];
    if (offset + count < page.total) links.push({ relation: 'next', url: link(offset + count) });
    if (offset > 0) links.push({ relation: 'previous', url: link(Math.max(0, offset - count)) });
    for (const p of patientIds) links.push({ relation: PATIENT_RECORD_RELATION, url: `${base}/Patient/${p}` });
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'searchset',
      total: page.total,
      link: links,
      entry: [
        ...page.resources.map((r) => ({ fullUrl: `${base}/${r.resourceType}/${r.id}`, resource: r, search: { mode: 'match' as const } })),
        ...referenced.map((r) => ({ fullUrl: `${base}/${r.resourceType}/${r.id}`, resource: r, search: { mode: 'include' as const } })),
      ],
    };
    return { resource: bundle };
  },
};
