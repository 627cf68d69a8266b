import type { OperationDefinition, OperationDefinitionParameter, Parameters, ParametersParameter, Resource } from 'fhir/r4';
import { badRequest } from '../fhir/outcome';
import type { RawParams } from '../store/search/query';
import type { CardLookupService } from '../lookup/service';
import type { PatientLinker } from '../mpi/linker';
import type { ResourceService } from '../service/resources';
import type { Serialised } from '../api/format';

/**
 * A FHIR operation is one file: its OperationDefinition (which the CapabilityStatement lists
 * and from which its parameters are parsed and checked) and a handler that receives them.
 */
export interface OperationInput {
  /** Values per declared `in` parameter, already checked against the definition. */
  params: Map<string, ParamValue[]>;
  resourceType?: string;
  id?: string;
  /** The POST body when it was a resource rather than Parameters (e.g. `$validate` with a bare resource). */
  bodyResource?: Resource;
  /** The FHIR base URL, for fullUrls and paging links. */
  base?: string;
  /** The request's Accept-Language header (`$summary` narrative language). */
  acceptLanguage?: string;
}

export type ParamValue = string | number | boolean | Resource | Record<string, unknown>;

export interface OperationServices {
  resources: ResourceService;
  lookup?: CardLookupService;
  /** The master patient index, when it runs (`Patient/$match`). */
  linker?: PatientLinker;
}

/** The services an operation gets, from the parts the gateway has (the router and the fast path both). */
export function operationServices(parts: { resources: ResourceService; lookup?: CardLookupService | undefined; linker?: PatientLinker | undefined }): OperationServices {
  return { resources: parts.resources, ...(parts.lookup ? { lookup: parts.lookup } : {}), ...(parts.linker ? { linker: parts.linker } : {}) };
}

export interface FhirOperation {
  definition: OperationDefinition;
  /**
   * Answered in front of Express when asked by a plain GET in JSON (src/api/fast-path.ts): for
   * a type-level operation on a hot path whose answer links nothing back to the gateway (it is
   * given no `base`).
   */
  fastPath?: true;
  /**
   * The answer as a resource, or as its JSON text when the operation already has it (a cached
   * `$summary`), then perhaps with that text gzip-compressed too (see sendResource).
   */
  handle(input: OperationInput, services: OperationServices): Promise<{ status?: number; resource: Resource; headers?: Record<string, string> } | (Serialised & { status?: number; headers?: Record<string, string> })>;
}

function valueOf(p: ParametersParameter, def: OperationDefinitionParameter): ParamValue | undefined {
  if (p.resource) return p.resource;
  for (const [k, v] of Object.entries(p)) if (k.startsWith('value')) return v as ParamValue;
  return def.part ? (p as unknown as Record<string, unknown>) : undefined;
}

function fromQuery(raw: string, def: OperationDefinitionParameter): ParamValue {
  switch (def.type) {
    case 'integer':
    case 'positiveInt':
    case 'unsignedInt': {
      const n = Number(raw);
      if (!Number.isInteger(n)) throw badRequest(`parameter '${def.name}' must be an integer`, def.name);
      return n;
    }
    case 'boolean':
      if (raw !== 'true' && raw !== 'false') throw badRequest(`parameter '${def.name}' must be true or false`, def.name);
      return raw === 'true';
    default:
      return raw;
  }
}

/** Reads the operation's `in` parameters from the query string and/or a Parameters body. */
export function parseOperationInput(op: OperationDefinition, query: RawParams, body: unknown): Pick<OperationInput, 'params' | 'bodyResource'> {
  const ins = (op.parameter ?? []).filter((p) => p.use === 'in');
  const params = new Map<string, ParamValue[]>();
  let bodyResource: Resource | undefined;
  for (const [name, value] of query) {
    const def = ins.find((d) => d.name === name);
    if (!def) {
      if (name.startsWith('_')) continue; // _format and friends
      throw badRequest(`'${name}' is not a parameter of $${op.code}`, name);
    }
    if (def.type && !['string', 'code', 'uri', 'canonical', 'id', 'integer', 'positiveInt', 'unsignedInt', 'boolean', 'date', 'dateTime', 'token', 'reference'].includes(def.type) && def.searchType === undefined) {
      throw badRequest(`parameter '${name}' (${def.type}) cannot be given in the URL`, name);
    }
    params.set(name, [...(params.get(name) ?? []), fromQuery(value, def)]);
  }
  if (body && typeof body === 'object') {
    const b = body as Resource;
    if (b.resourceType === 'Parameters') {
      for (const [i, p] of ((b as Parameters).parameter ?? []).entries()) {
        const def = ins.find((d) => d.name === p.name);
        if (!def) throw badRequest(`'${p.name}' is not a parameter of $${op.code}`, `Parameters.parameter[${i}]`);
        const v = valueOf(p, def);
        if (v === undefined) throw badRequest(`parameter '${p.name}' has no value`, `Parameters.parameter[${i}]`);
        params.set(p.name, [...(params.get(p.name) ?? []), v]);
      }
    } else bodyResource = b;
  }
  for (const def of ins) {
    const n = params.get(def.name)?.length ?? 0;
    if (n < def.min && !(def.type === 'Resource' && bodyResource)) throw badRequest(`parameter '${def.name}' is required by $${op.code}`, def.name);
    if (def.max !== '*' && n > Number(def.max)) throw badRequest(`parameter '${def.name}' may appear at most ${def.max} time(s)`, def.name);
  }
  return { params, ...(bodyResource ? { bodyResource } : {}) };
}
