import type { Identifier, OperationDefinition, Parameters, ParametersParameter, Patient } from 'fhir/r4';
import { badRequest, FhirError, notFound } from '../fhir/outcome';
import { linkedPatientIds, patientsByIdentifier } from '../mpi/links';
import type { FhirOperation } from './operation';

/**
 * IHE PIXm "Mobile Patient Identifier Cross-reference Query" (ITI-83): `Patient/$ihe-pix?
 * sourceIdentifier=system|value[&targetSystem=…]` → the identifiers (`targetIdentifier`) and
 * the Patient records (`targetId`) of the same person at every facility, from the MPI's links
 * (level3/4). Codes per ITI-83: 404 when no record has the source identifier, 403 when a
 * target system is not one this gateway knows (VN Core `…/sid/` systems, or one the person's
 * records carry).
 */
const definition: OperationDefinition = {
  resourceType: 'OperationDefinition',
  id: 'IHE.PIXm.pix',
  url: 'https://profiles.ihe.net/ITI/PIXm/OperationDefinition/IHE.PIXm.pix',
  name: 'IHE_PIXm_pix',
  status: 'active',
  kind: 'operation',
  code: 'ihe-pix',
  resource: ['Patient'],
  system: false,
  type: true,
  instance: false,
  parameter: [
    { name: 'sourceIdentifier', use: 'in', min: 1, max: '1', type: 'string', searchType: 'token' },
    { name: 'targetSystem', use: 'in', min: 0, max: '*', type: 'uri' },
    { name: 'targetIdentifier', use: 'out', min: 0, max: '*', type: 'Identifier' },
    { name: 'targetId', use: 'out', min: 0, max: '*', type: 'Reference' },
  ],
};

const VN_SID = 'http://fhir.ehealth.gov.vn/core/sid/';

export const ihePixOperation: FhirOperation = {
  definition,
  async handle(input, { resources }) {
    if (input.resourceType !== 'Patient') throw badRequest('$ihe-pix is defined on Patient only');
    const source = String(input.params.get('sourceIdentifier')![0]);
    const targets = (input.params.get('targetSystem') ?? []).map(String);
    const found = await patientsByIdentifier(resources, source, 'sourceIdentifier');
    if (found.length === 0) throw notFound(`no Patient has identifier ${source}`);
    const ids = new Set<string>();
    for (const p of found) for (const id of await linkedPatientIds(resources, p.id!)) ids.add(id);
    const records = (await resources.search('Patient', [['_id', [...ids].join(',')], ['_count', String(ids.size)]])).matches as unknown as Patient[];

    const carried = new Set(records.flatMap((r) => (r.identifier ?? []).map((i) => i.system)));
    const unknown = targets.filter((t) => !t.startsWith(VN_SID) && !carried.has(t));
    if (unknown.length) throw new FhirError(403, `targetSystem ${unknown.join(', ')} is not a system this gateway knows`, 'forbidden');

    const wanted = (i: Identifier) => !!i.system && !!i.value && `${i.system}|${i.value}` !== source && (targets.length === 0 || targets.includes(i.system));
    const out: ParametersParameter[] = [];
    const seen = new Set<string>();
    for (const r of [...records].sort((a, b) => String(a.id).localeCompare(String(b.id)))) {
      const mine = (r.identifier ?? []).filter(wanted);
      for (const i of mine) {
        if (seen.has(`${i.system}|${i.value}`)) continue;
        seen.add(`${i.system}|${i.value}`);
        out.push({ name: 'targetIdentifier', valueIdentifier: { ...(i.use ? { use: i.use } : {}), system: i.system, value: i.value, ...(i.assigner ? { assigner: i.assigner } : {}) } });
      }
      if (targets.length === 0 || mine.length > 0) out.push({ name: 'targetId', valueReference: { reference: `Patient/${r.id}` } });
    }
    const result: Parameters = { resourceType: 'Parameters', ...(out.length ? { parameter: out } : {}) };
    return { resource: result };
  },
};
