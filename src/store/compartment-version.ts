import type { Cache } from '../cache/cache';
import { patientCompartmentParams } from '../fhir/compartment';
import type { Queryable } from './db';

/**
 * A version per Patient compartment, raised in the transaction of every write that adds,
 * changes or removes a member of it (the Patient itself, anything referencing it through a
 * compartment parameter — before or after the write — and a Person linking it). Whatever is
 * derived from a compartment (a `$summary`) is tagged with these versions and checked against
 * them with one cache read instead of queries. After commit the writer's caller publishes the new
 * versions as cache markers (`compartmentKey`), like resource versions, so every gateway
 * instance sees them at once, and a lost publication raises the cache epoch.
 */
export const compartmentKey = (patientId: string) => `compartment/Patient/${patientId}`;

let pairSet: Set<string> | undefined;
function inCompartment(type: string, param: string): boolean {
  pairSet ??= new Set(patientCompartmentParams().map(([t, p]) => `${t}|${p}`));
  return pairSet.has(`${type}|${param}`);
}

/**
 * The audit trail names the patient of every audited read: counting it would make each read of
 * a summary invalidate that summary. Nothing derived from a compartment reads it.
 */
const UNTRACKED = new Set(['AuditEvent']);

/** A reference index row as the writer builds it: type, id, param, target type, target id, url. */
type ReferenceRow = unknown[];

/** The Patients whose compartment the new versions of written resources belong to. */
export function compartmentsOf(resourceType: string, id: string, referenceRows: ReferenceRow[]): string[] {
  const out = new Set<string>();
  if (UNTRACKED.has(resourceType)) return [];
  if (resourceType === 'Patient') out.add(id);
  for (const r of referenceRows) {
    if (r[3] === 'Patient' && typeof r[4] === 'string' && inCompartment(String(r[0]), String(r[2]))) out.add(r[4]);
  }
  return [...out];
}

/**
 * Raises the version of every compartment the written set touches: `added` from the new versions,
 * plus those the replaced versions' index rows still name (run before those rows are replaced).
 * Keys are taken in sorted order so two writers on overlapping compartments cannot deadlock.
 * Returns the new version of each compartment.
 */
export async function bumpCompartments(tx: Queryable, added: string[], replacedAll: { t: string; i: string }[]): Promise<Map<string, number>> {
  const replaced = replacedAll.filter((k) => !UNTRACKED.has(k.t));
  if (added.length === 0 && replaced.length === 0) return new Map();
  const pairs = patientCompartmentParams();
  const rows = await tx.query<{ patient_id: string; version: string | number }>(
    `INSERT INTO compartment_versions (patient_id, version)
       SELECT pid, 1 FROM (
         SELECT unnest($1::text[]) AS pid
         UNION
         SELECT x.target_id FROM sp_reference x
          WHERE x.target_type = 'Patient' AND x.target_id IS NOT NULL
            AND x.id = ANY($3::text[]) AND (x.resource_type, x.id) IN (SELECT * FROM unnest($2::text[], $3::text[]))
            AND (x.resource_type, x.param) IN (SELECT * FROM unnest($4::text[], $5::text[]))
         UNION
         SELECT k.i FROM unnest($2::text[], $3::text[]) AS k(t, i) WHERE k.t = 'Patient'
       ) touched ORDER BY pid
     ON CONFLICT (patient_id) DO UPDATE SET version = compartment_versions.version + 1
     RETURNING patient_id, version`,
    [added, replaced.map((k) => k.t), replaced.map((k) => k.i), pairs.map(([t]) => t), pairs.map(([, p]) => p)],
  );
  return new Map(rows.map((r) => [r.patient_id, Number(r.version)]));
}

/**
 * The current versions of some compartments, from the cache when it knows them, else from the
 * database (and then remembered). A compartment never written has version 0.
 */
export async function compartmentVersions(db: Queryable, cache: Cache, patientIds: string[], ttlSeconds: number): Promise<number[]> {
  const hits = await Promise.all(patientIds.map((id) => cache.get(compartmentKey(id))));
  const missing = patientIds.filter((_, i) => !hits[i]);
  if (missing.length === 0) return hits.map((h) => h!.version);
  const rows = await db.query<{ patient_id: string; version: string | number }>(`SELECT patient_id, version FROM compartment_versions WHERE patient_id = ANY($1::text[])`, [missing]);
  const found = new Map(rows.map((r) => [r.patient_id, Number(r.version)]));
  await Promise.all(missing.map((id) => cache.put(compartmentKey(id), found.get(id) ?? 0, 'v', ttlSeconds)));
  return patientIds.map((id, i) => hits[i]?.version ?? found.get(id) ?? 0);
}
