import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { OperationDefinition } from 'fhir/r4';
import { LRUCache } from 'lru-cache';
import { v5 as uuidv5 } from 'uuid';
import { badRequest, FhirError, notFound } from '../fhir/outcome';
import { linkedPatientIds, patientsByIdentifier } from '../mpi/links';
import type { ResourceService } from '../service/resources';
import { compartmentResources, referencedResources } from '../store/compartment';
import { compartmentVersions } from '../store/compartment-version';
import type { AnyResource } from '../store/types';
import { buildSummary } from '../summary/build';
import { pickLanguage } from '../summary/i18n';
import { SECTION_TYPES } from '../summary/sections';
import type { Serialised } from '../api/format';
import type { Cache } from '../cache/cache';
import type { FhirOperation, OperationInput } from './operation';

/**
 * IPS `$summary` (hl7.fhir.uv.ips 2.0.0): `Patient/{id}/$summary` or
 * `Patient/$summary?identifier=system|value`. The document spans every Patient record linked
 * to the same person. It is cached per record, language and base URL, tagged with the version of
 * every linked compartment (store/compartment-version.ts): a write anywhere in a linked
 * compartment, or a link or unlink, raises one of them, on every gateway process at once.
 */
const definition = JSON.parse(
  readFileSync(join(dirname(require.resolve('hl7.fhir.uv.ips/package.json')), 'OperationDefinition-summary.json'), 'utf8'),
) as OperationDefinition;

const IPS_BUNDLE = 'http://hl7.org/fhir/uv/ips/StructureDefinition/Bundle-uv-ips';
/** Namespace of the summaries' uuid v5 document ids. */
const DOCUMENT_NS = '6f1d2c9e-8a6b-5d3e-9a4f-2b7c1e0d4a58';

/** The record an `identifier=system|value` names. */
async function findPatient(resources: ResourceService, input: OperationInput): Promise<string> {
  const identifier = input.params.get('identifier')?.[0] as string | undefined;
  if (identifier === undefined) throw badRequest('Patient/$summary needs an identifier (system|value)', 'identifier');
  const matches = await patientsByIdentifier(resources, identifier, 'identifier');
  if (matches.length === 0) throw notFound(`no Patient has identifier ${identifier}`);
  // Several records are fine when they are one person (linked); otherwise the caller must choose.
  const first = matches[0]!;
  const same = new Set(await linkedPatientIds(resources, first.id!));
  if (matches.some((m) => !same.has(m.id!))) throw new FhirError(409, `identifier ${identifier} names ${matches.length} Patient records that are not linked to one person`, 'multiple-matches');
  return first.id!;
}

/**
 * A cached summary is two entries: its head, under the request's key (the linked records, the
 * compartment versions it was built from, and the id of that build), and the document, under its
 * build id. A hit reads only the small head, and the document when this process does not
 * already hold it compressed.
 */
interface CachedHead {
  ids: string[];
  versions: number[];
  build: string;
}

/** A head; an entry of another shape (written by an earlier release into a shared Redis) is a miss. */
function parseHead(payload: string): CachedHead | undefined {
  try {
    const head = JSON.parse(payload) as Partial<CachedHead>;
    return Array.isArray(head.ids) && Array.isArray(head.versions) && typeof head.build === 'string' ? (head as CachedHead) : undefined;
  } catch {
    return undefined;
  }
}

const documentKey = (build: string) => `summary-document/${build}`;

/**
 * The gzip form of the summaries this process has built or served, by build: compressed once,
 * so a cached summary goes out at about a ninth of its size at no cost per hit. Bounded by bytes.
 */
const compressed = new LRUCache<string, Buffer>({ maxSize: 32 * 1024 * 1024, sizeCalculation: (b) => b.length });
const gzipAsync = promisify(gzip);

/** A build's document: compressed from this process's memory, or from the cache (compressed for next time, off the request's path). */
async function cachedDocument(cache: Cache, build: string): Promise<Serialised | undefined> {
  const gz = compressed.get(build);
  if (gz) return { gzip: gz };
  const doc = await cache.get(documentKey(build));
  if (!doc) return undefined;
  void gzipAsync(doc.payload).then((b) => compressed.set(build, b), () => undefined);
  return { json: doc.payload };
}

export const summaryOperation: FhirOperation = {
  definition,
  async handle(input, { resources }) {
    if (input.resourceType !== 'Patient') throw badRequest('$summary is defined on Patient only');
    const profile = input.params.get('profile')?.[0];
    if (profile !== undefined && profile !== IPS_BUNDLE) throw badRequest(`only the IPS profile ${IPS_BUNDLE} is supported`, 'profile');
    if (input.id && input.params.get('identifier') !== undefined) throw badRequest('give either a Patient id or an identifier, not both', 'identifier');
    const id = input.id ?? (await findPatient(resources, input));
    const lang = pickLanguage(input.acceptLanguage);
    const base = input.base ?? '';
    const db = resources.repo.db;
    const { cache } = resources;
    const cacheKey = `summary/${id}/${lang}/${createHash('sha256').update(base).digest('base64url')}`;

    // The hit path: the head and this record's compartment version in one round trip; the
    // other linked records' versions (when there are any) in a second.
    const [hit, [own]] = await Promise.all([cache.get(cacheKey), compartmentVersions(db, cache, [id], SUMMARY_TTL_SECONDS)]);
    if (hit) {
      const head = parseHead(hit.payload);
      const others = head?.ids.filter((x) => x !== id) ?? [];
      const now = others.length ? await compartmentVersions(db, cache, others, SUMMARY_TTL_SECONDS) : [];
      const current = head?.ids.map((x) => (x === id ? own! : now[others.indexOf(x)]!));
      const document = head && current!.every((v, i) => v === head.versions[i]) ? await cachedDocument(cache, head.build) : undefined;
      if (document) return document;
    }

    // Versions are read before what they vouch for: a write landing in between leaves the
    // entry tagged older than its data, which costs a rebuild, never a stale answer. A change
    // of links is a Person write, which raises the version of every record it links or unlinks.
    const patient = JSON.parse((await resources.read('Patient', id)).json) as AnyResource;
    const patientIds = await linkedPatientIds(resources, id);
    const versions = await compartmentVersions(db, cache, patientIds, SUMMARY_TTL_SECONDS);
    // this record's as read before its links were
    versions[patientIds.indexOf(id)] = own!;
    const documentId = uuidv5(`${id}|${patientIds.join(',')}|${lang}|${versions.join(',')}`, DOCUMENT_NS);
    const data = await compartmentResources(db, patientIds, SECTION_TYPES);
    const referenced = await referencedResources(db, [patient, ...data], new Set());
    const timestamp = [patient, ...data].map((r) => r.meta?.lastUpdated ?? '').reduce((a, b) => (b > a ? b : a), '') || new Date(0).toISOString();
    const bundle = buildSummary({ patient, patientIds, resources: data, referenced, lang, base, documentId, timestamp, now: Date.now() });
    const json = JSON.stringify(bundle);
    const head: CachedHead = { ids: patientIds, versions, build: randomUUID() };
    // Compressed now, while the caller waits for a build anyway, so the hits that follow have it.
    const gz = await gzipAsync(json);
    compressed.set(head.build, gz);
    // The document before the head that names it, so a head never names a missing document.
    await cache.put(documentKey(head.build), 1, json, SUMMARY_TTL_SECONDS);
    await cache.put(cacheKey, own!, JSON.stringify(head), SUMMARY_TTL_SECONDS);
    return { json, gzip: gz };
  },
};

/** Versions make a stale entry unusable at once; the TTL bounds how long an unused one stays, and time-based rules (a year of medications). */
const SUMMARY_TTL_SECONDS = 3600;
