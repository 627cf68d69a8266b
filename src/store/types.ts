import type { Resource } from 'fhir/r4';

export type AnyResource = Resource & Record<string, unknown>;

/** A version of a resource as the store keeps it. `resource` is absent for a deletion. */
export interface StoredVersion {
  resourceType: string;
  id: string;
  versionId: number;
  lastUpdated: string;
  deleted: boolean;
  resource?: AnyResource;
}

export type WriteMethod = 'create' | 'update' | 'delete';

export interface WriteResult {
  method: WriteMethod;
  /** false for an update that created the resource, or a delete of something already gone. */
  existed: boolean;
  version: StoredVersion;
  /** The Patient compartments this write changed, with their new versions (store/compartment-version.ts). */
  compartments?: [patientId: string, version: number][];
}
