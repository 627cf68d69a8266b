import { patientCompartmentParams, patientCompartmentTypes } from '../fhir/compartment';
import { MAX_TIME, MIN_TIME } from '../fhir/dates';
import type { Queryable } from './db';
import { Params } from './search/sql';
import type { AnyResource } from './types';

/**
 * Patient-compartment reads for `$everything` and `$summary`: which resources are in the
 * compartments of a set of Patients (linked records of one person), and what they reference.
 */
export interface CompartmentQuery {
  patientIds: string[];
  /** Only these types (`_type`). */
  types?: string[];
  /** Only resources changed at or after this instant (`_since`). */
  since?: string;
  /** Care dates (`start`/`end`) in epoch ms: a resource with a care date outside them is left out. */
  careFrom?: number;
  careTo?: number;
  count: number;
  offset: number;
}

/** Date parameters that carry a resource's care date; a resource without any is kept whatever the period. */
const CARE_DATE_PARAMS = ['date', 'onset-date', 'authoredon', 'created', 'effective-time', 'started', 'period', 'effective', 'occurrence'];

function members(q: Pick<CompartmentQuery, 'patientIds'>, p: Params): string {
  const pairs = patientCompartmentParams();
  const ids = p.add(q.patientIds);
  return `SELECT x.resource_type, x.id FROM sp_reference x
      WHERE x.target_type = 'Patient' AND x.target_id = ANY(${ids}::text[])
        AND (x.resource_type, x.param) IN (SELECT * FROM unnest(${p.add(pairs.map(([t]) => t))}::text[], ${p.add(pairs.map(([, c]) => c))}::text[]))
      UNION SELECT 'Patient', unnest(${ids}::text[])`;
}

function filters(q: CompartmentQuery, p: Params): string {
  const conds = ['r.deleted = false'];
  if (q.types) conds.push(`r.resource_type = ANY(${p.add(q.types)}::text[])`);
  if (q.since) conds.push(`r.last_updated >= ${p.add(q.since)}::timestamptz`);
  if (q.careFrom !== undefined || q.careTo !== undefined) {
    const params = p.add(CARE_DATE_PARAMS);
    const lo = p.add(new Date(q.careFrom ?? MIN_TIME).toISOString());
    const hi = p.add(new Date(q.careTo ?? MAX_TIME).toISOString());
    conds.push(`(NOT EXISTS (SELECT 1 FROM sp_date d WHERE d.resource_type = r.resource_type AND d.id = r.id AND d.param = ANY(${params}::text[]))
      OR EXISTS (SELECT 1 FROM sp_date d WHERE d.resource_type = r.resource_type AND d.id = r.id AND d.param = ANY(${params}::text[]) AND d.lo < ${hi}::timestamptz AND d.hi > ${lo}::timestamptz))`);
  }
  return conds.join(' AND ');
}

/** One page of the compartment, Patients first, then by type and id (a stable order for paging). */
export async function compartmentPage(db: Queryable, q: CompartmentQuery): Promise<{ resources: AnyResource[]; total: number }> {
  const p = new Params();
  const from = `FROM (${members(q, p)}) m JOIN resources r ON r.resource_type = m.resource_type AND r.id = m.id WHERE ${filters(q, p)}`;
  const countParams = [...p.values];
  const [rows, n] = await Promise.all([
    db.query<{ content: AnyResource }>(
      `SELECT r.content ${from} ORDER BY r.resource_type <> 'Patient', r.resource_type, r.id LIMIT ${p.add(q.count)} OFFSET ${p.add(q.offset)}`,
      p.values,
    ),
    db.query<{ n: number }>(`SELECT count(*)::int AS n ${from}`, countParams),
  ]);
  return { resources: rows.map((r) => r.content), total: n[0]?.n ?? 0 };
}

/** Every current resource of the given types in the compartment (for `$summary`, which selects in memory). */
export async function compartmentResources(db: Queryable, patientIds: string[], types: string[]): Promise<AnyResource[]> {
  const p = new Params();
  const rows = await db.query<{ content: AnyResource }>(
    `SELECT r.content FROM (${members({ patientIds }, p)}) m JOIN resources r ON r.resource_type = m.resource_type AND r.id = m.id
      WHERE r.deleted = false AND r.resource_type = ANY(${p.add(types)}::text[]) ORDER BY r.resource_type, r.id`,
    p.values,
  );
  return rows.map((r) => r.content);
}

/** Resources the given ones reference that are not themselves patient data (Practitioner, Organization, Medication, …). */
export async function referencedResources(db: Queryable, from: AnyResource[], exclude: Set<string>): Promise<AnyResource[]> {
  if (from.length === 0) return [];
  const p = new Params();
  const rows = await db.query<{ content: AnyResource }>(
    `SELECT DISTINCT ON (r.resource_type, r.id) r.content FROM sp_reference x
       JOIN resources r ON r.resource_type = x.target_type AND r.id = x.target_id AND r.deleted = false
      WHERE x.id = ANY(${p.add(from.map((f) => f.id))}::text[])
        AND (x.resource_type, x.id) IN (SELECT * FROM unnest(${p.add(from.map((f) => f.resourceType))}::text[], ${p.add(from.map((f) => f.id))}::text[]))
        AND NOT (x.target_type = ANY(${p.add([...patientCompartmentTypes()])}::text[]))
      ORDER BY r.resource_type, r.id`,
    p.values,
  );
  return rows.map((r) => r.content).filter((r) => !exclude.has(`${r.resourceType}/${r.id}`));
}
