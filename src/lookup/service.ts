import { randomUUID } from 'node:crypto';
import type { Bundle, Coverage, Patient } from 'fhir/r4';
import { LRUCache } from 'lru-cache';
import { patientsOf } from '../auth/rules';
import type { LookupConfig } from '../config';
import { FhirError, issue, type Issue } from '../fhir/outcome';
import { lookup as concept } from '../fhir/conceptmap';
import { CS } from '../ingest/vn-claim/context';
import type { Logger } from '../logger';
import type { ResourceService } from '../service/resources';
import type { AnyResource } from '../store/types';
import { lookupKey, type CachedAnswer, type LookupCache } from './cache';
import { IDENTIFIER_SYSTEM, cardResources, eligibilityResponse, inForce, localEligibility, lookupBundle, outcomeOf, visitEncounters, type LookupQuery, type PortalAnswer } from './map';
import { PortalConfigError, PortalError, type VssClient } from './vss-client';

export interface LookupResult {
  /** The answer, a collection Bundle, as JSON text. */
  json: string;
  /** The patients it names, for the request's AuditEvent. */
  patients: string[];
  /** Seconds since the portal gave this answer, when it came from the cache (the `Age` header). */
  ageSeconds?: number;
}

/** Where the kept cards are written from: the portal, through the same road as every write. */
const WRITE_CONTEXT = { facility: 'vss', feed: 'vss-lookup' };
const KEEP_LINGER_MS = 200;
/**
 * While portal calls are in flight the writes wait (up to this long, or this many resources):
 * on the embedded store they run on the thread that answers, and a burst of new cards at the
 * desk matters more than having them searchable a few seconds sooner.
 */
const KEEP_MAX_DEFER_MS = 5000;
const KEEP_MAX_PENDING = 3000;

/**
 * Stands for the answer's time in a memoised rendering (random per process, so no text from the
 * portal can contain it); each request joins the parts with its own time.
 */
const NOW = `now-${randomUUID()}`;
/** Rendered answers kept, in UTF-16 code units (about 5 kB per card: some 3,000 cards). */
const RENDERED_MAX_CHARS = 16 * 1024 * 1024;

interface Rendered {
  parts: string[];
  patients: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function age(seconds: number): string {
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86_400)} days`;
}

/**
 * The card lookup: fresh cache → portal (one call per card however many ask at once) → on
 * portal failure a stale cached answer, else 503. Without a portal configured, the cards the
 * gateway holds answer, marked as local.
 */
export class CardLookupService {
  private readonly inflight = new Map<string, Promise<CachedAnswer>>();
  private readonly pending = new Map<string, AnyResource>();
  /**
   * The same card asked again renders the same Bundle but for its time: kept rendered, a cached
   * lookup costs a string join instead of mapping and serialising (a large share of its CPU in
   * a profile of bench:lookup, see the README's Insurance card lookup section).
   */
  private readonly rendered = new LRUCache<string, Rendered>({ maxSize: RENDERED_MAX_CHARS, sizeCalculation: (r) => r.parts.reduce((n, p) => n + p.length, 0) + 1 });
  private writing: Promise<void> | undefined;
  private closing = false;

  constructor(
    private readonly deps: { client?: VssClient; cache: LookupCache; resources: ResourceService; config: LookupConfig; log: Logger },
  ) {}

  async close(): Promise<void> {
    this.closing = true;
    await this.flush();
    this.deps.client?.close();
    await this.deps.cache.close();
  }

  async lookup(q: LookupQuery): Promise<LookupResult> {
    const { client, cache, config } = this.deps;
    if (!client) return this.local(q);
    const key = lookupKey(q, config.cacheKey);
    const cached = await cache.get(key);
    const ageOf = (c: CachedAnswer) => Math.max(0, (Date.now() - c.fetchedAt) / 1000);
    if (cached && ageOf(cached) < config.freshSeconds && (!q.history || cached.answer.visits)) return this.answer(q, cached, ageOf(cached), []);
    try {
      return this.answer(q, await this.coalesced(key, q, client), undefined, []);
    } catch (e) {
      if (e instanceof PortalConfigError) {
        this.deps.log.error({ failure: 'configuration' }, 'the insurance portal refuses the gateway account');
        throw new FhirError(502, [issue('error', 'exception', `${e.message}: the gateway's portal account is not accepted. The operator must fix VSS_USERNAME / VSS_PASSWORD and the officer registered with VSS (VSS_OFFICER_NAME, VSS_OFFICER_CCCD).`)]);
      }
      const why = e instanceof PortalError ? e.message : 'the portal call failed';
      const kind = e instanceof PortalError ? e.kind : 'unknown';
      // While the circuit is open every lookup would say so; the failures that opened it were logged.
      this.deps.log[kind === 'circuit-open' ? 'debug' : 'warn']({ failure: kind }, 'insurance portal lookup failed');
      if (cached && ageOf(cached) < config.staleSeconds) {
        const a = ageOf(cached);
        const notes = [issue('warning', 'transient', `Stale answer: the insurance portal could not answer (${why}); this is the portal's answer of ${new Date(cached.fetchedAt).toISOString()}, ${age(a)} old, from the gateway's cache.`)];
        if (q.history && !cached.answer.visits) notes.push(issue('warning', 'incomplete', 'The visit history is not in the cached answer.'));
        return this.answer(q, cached, a, notes);
      }
      throw new FhirError(503, [issue('error', 'transient', `The insurance portal could not answer (${why}) and no earlier answer for this card is cached; try again shortly.`)]);
    }
  }

  /** One portal call per (card, name, birth date, history) at a time; its answer is cached and kept once. */
  private coalesced(key: string, q: LookupQuery, client: VssClient): Promise<CachedAnswer> {
    const k = `${key}:${q.history ? 'h' : ''}`;
    let p = this.inflight.get(k);
    if (!p) {
      p = (async () => {
        const answer = await client.lookup(q);
        const entry = { answer, fetchedAt: Date.now() };
        this.keep(q, answer);
        await this.deps.cache.put(key, entry, this.deps.config.staleSeconds);
        return entry;
      })().finally(() => this.inflight.delete(k));
      this.inflight.set(k, p);
    }
    return p;
  }

  /**
   * The card as Coverage (with its Patient and branch), upserted by deterministic id through the
   * write road, so summaries and claims see it. Written after the answer, in batches: the
   * reception desk does not wait for the store, and many lookups share one transaction.
   */
  private keep(q: LookupQuery, answer: PortalAnswer): void {
    const res = cardResources(q, answer.card, inForce(outcomeOf(answer.card.maKetQua)) ? 'active' : 'cancelled');
    if (res.coverages.length === 0) return;
    for (const r of [res.payor, res.patient, ...res.coverages]) if (r) this.pending.set(`${r.resourceType}/${r.id}`, r as unknown as AnyResource);
    this.drain();
  }

  private drain(): void {
    if (this.writing) return;
    this.writing = (async () => {
      while (this.pending.size > 0) {
        // Linger so that the cards of many lookups share one transaction and its fixed cost
        // (measured: 3 resources ~40 ms, 33 resources ~140 ms on the embedded store).
        const since = Date.now();
        await sleep(KEEP_LINGER_MS);
        while (this.inflight.size > 0 && this.pending.size < KEEP_MAX_PENDING && Date.now() - since < KEEP_MAX_DEFER_MS && !this.closing) await sleep(50);
        const batch = [...this.pending.values()].slice(0, 300);
        for (const r of batch) this.pending.delete(`${r.resourceType}/${r.id}`);
        const writes = [];
        for (const r of batch) {
          try {
            writes.push({ method: 'update' as const, resourceType: r.resourceType, id: r.id!, resource: this.deps.resources.prepare(r, WRITE_CONTEXT).resource });
          } catch (e) {
            this.deps.log.warn({ status: (e as FhirError).status, resourceType: r.resourceType }, 'a looked-up card did not pass validation');
          }
        }
        // The answer went out already; a card not kept now is kept at its next lookup.
        if (writes.length) await this.deps.resources.commit(writes).catch((e: unknown) => this.deps.log.warn({ status: (e as FhirError).status, resources: writes.length }, 'could not keep looked-up cards'));
      }
    })().finally(() => {
      this.writing = undefined;
      if (this.pending.size > 0) this.drain();
    });
  }

  /** Resolves once every looked-up card so far is in the store. */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private answer(q: LookupQuery, entry: CachedAnswer, ageSeconds: number | undefined, notes: Issue[]): LookupResult {
    const source = ageSeconds === undefined ? 'portal' : 'cache';
    // The portal's answer is named by its query and the time it was fetched; the notes carry a stale answer's age.
    const memo = [q.identifier, q.name, q.birthdate, q.history, entry.fetchedAt, source, notes.length ? JSON.stringify(notes) : ''].join('\u001f');
    let r = this.rendered.get(memo);
    if (!r) {
      r = render(q, entry, source, notes);
      this.rendered.set(memo, r);
    }
    return { json: r.parts.join(new Date().toISOString()), patients: r.patients, ...(ageSeconds !== undefined ? { ageSeconds: Math.floor(ageSeconds) } : {}) };
  }

  /** No portal configured: the Coverage resources the gateway holds (claims' XML1 cards, earlier lookups). */
  private async local(q: LookupQuery): Promise<LookupResult> {
    const { resources } = this.deps;
    const criteria: [string, string][] = q.kind === 'bhyt' ? [['identifier', `${IDENTIFIER_SYSTEM.bhyt}|${q.identifier}`]] : [['beneficiary:Patient.identifier', `${IDENTIFIER_SYSTEM[q.kind]}|${q.identifier}`]];
    const found = await resources.search('Coverage', [...criteria, ['_sort', '-_lastUpdated'], ['_count', '20']]);
    const coverages = found.matches as unknown as Coverage[];
    const ref = coverages.find((c) => c.beneficiary?.reference?.startsWith('Patient/'))?.beneficiary?.reference;
    let patient: Patient | undefined;
    if (ref) patient = (await resources.repo.read('Patient', ref.slice('Patient/'.length)))?.resource as unknown as Patient | undefined;
    const now = new Date();
    const today = new Date(now.getTime() + 7 * 3600_000).toISOString().slice(0, 10); // the cards' dates are Vietnam dates
    const eligibility = localEligibility(q, coverages, patient, today, now.toISOString());
    const notes = [issue('information', 'informational', 'Local answer: no insurance portal is configured (VSS_BASE_URL); these are the cards the gateway already holds.')];
    return serialise(lookupBundle({ eligibility, resources: { coverages, ...(patient ? { patient } : {}) }, notes, source: 'local' }));
  }
}

function serialise(bundle: Bundle): { json: string; patients: string[] } {
  return { json: JSON.stringify(bundle), patients: [...new Set((bundle.entry ?? []).flatMap((e) => patientsOf(e.resource as AnyResource | undefined)))] };
}

/** The answer Bundle for a portal answer, with NOW where its time goes. */
function render(q: LookupQuery, entry: CachedAnswer, source: 'portal' | 'cache', given: Issue[]): Rendered {
  const { card, visits } = entry.answer;
  const notes = [...given];
  const outcome = outcomeOf(card.maKetQua);
  const resources = cardResources(q, card, inForce(outcome) ? 'active' : 'cancelled');
  const eligibility = eligibilityResponse(q, card, resources, NOW);
  if (outcome === 'in-force-check-papers') {
    notes.unshift(issue('warning', 'business-rule', `maKetQua ${card.maKetQua}: ${concept(`${CS}/vn-vss-card-lookup-result`, card.maKetQua)?.display ?? ''}. The card is in force; check the patient's ID papers before accepting it.`));
  }
  const patientRef = resources.patient ? { reference: `Patient/${resources.patient.id}` } : undefined;
  const encounters = q.history && visits ? visitEncounters(visits, patientRef) : [];
  const { json, patients } = serialise(lookupBundle({ eligibility, resources, encounters, notes, source }));
  return { parts: json.split(NOW), patients };
}
