import type { Extension, Patient, Person, PersonLink } from 'fhir/r4';
import { FEED_TAG_SYSTEM, type WriteContext } from '../service/provenance';
import type { ResourceService } from '../service/resources';
import type { RawParams } from '../store/search/query';
import type { WriteResult } from '../store/types';
import { features, SYSTEMS, type Features } from './features';
import { compare, DEFAULT_WEIGHTS, type MatchResult, type MatchWeights } from './score';
import { matchingKeys, Turns } from './turns';

/**
 * The MPI's side effects: after every committed Patient write, match it and keep one Person per
 * individual. Person.link[].assurance: level4 deterministic (CCCD/BHXH) or the record itself,
 * level3 automatic probabilistic, level2 possible — listed for review by the tag
 * `urn:fhir-gateway:mpi|review` (`GET Person?_tag=urn:fhir-gateway:mpi|review`).
 * Each automatic link carries why (rule, score, time) in the MATCH extension. An administrator
 * unlinks by editing the Person (removing the link); the removed record is then listed in the
 * NOT_SAME extension and never linked back to that Person automatically.
 */
export const MPI_TAG_SYSTEM = 'urn:fhir-gateway:mpi';
export const MATCH_EXT = 'urn:fhir-gateway:mpi-match';
export const NOT_SAME_EXT = 'urn:fhir-gateway:mpi-not-same';
const MPI_CTX: WriteContext = { facility: 'mpi', feed: 'mpi' };
const LINKED = new Set(['level3', 'level4']);
const CANDIDATES_PER_BLOCK = 50;

const ref = (id: string) => `Patient/${id}`;
const targetId = (l: PersonLink) => /^Patient\/(.+)$/.exec(l.target.reference ?? '')?.[1];
const notSame = (p: Person) => new Set((p.extension ?? []).filter((e) => e.url === NOT_SAME_EXT).map((e) => e.valueReference?.reference));

function why(m: MatchResult, at: string): Extension {
  return {
    url: MATCH_EXT,
    extension: [
      { url: 'rule', valueCode: m.rule },
      { url: 'score', valueDecimal: Number.isFinite(m.score) ? m.score : 100 },
      { url: 'time', valueDateTime: at },
    ],
  };
}

/** The search blocks that bring up candidates: identifiers, then name + birth year, then phone. */
export function blocks(f: Features): RawParams[] {
  const out: RawParams[] = [];
  if (f.cccd) out.push([['identifier', `${SYSTEMS.cccd}|${f.cccd}`]]);
  if (f.cmnd) out.push([['identifier', `${SYSTEMS.cmnd}|${f.cmnd}`]]);
  if (f.bhxh) out.push([['identifier', `${SYSTEMS.bhxh}|${f.bhxh}`]]);
  const year = f.birth ? [['birthdate', `ge${f.birth.y - 1}`], ['birthdate', `le${f.birth.y + 1}`]] : [];
  if (f.words.length >= 2) {
    out.push([['name', f.words[0]!], ...year] as RawParams);
    // the given name as any word: finds records written family-name-last
    out.push([['name', f.words[f.words.length - 1]!], ...year] as RawParams);
  }
  for (const p of f.phones) out.push([['phone', p]]);
  return out.map((b) => [...b, ['_count', String(CANDIDATES_PER_BLOCK)]]);
}

export class PatientLinker {
  private readonly turns: Turns;

  constructor(
    private readonly resources: ResourceService,
    private readonly weights: MatchWeights = DEFAULT_WEIGHTS,
  ) {
    this.turns = new Turns(resources.repo.db);
  }

  /** Called after each committed write (REST, bundle, feed). */
  async afterCommit(results: WriteResult[]): Promise<void> {
    for (const r of results) {
      const res = r.version.resource;
      if (!res || r.version.deleted) continue;
      if (res.meta?.tag?.some((t) => t.system === FEED_TAG_SYSTEM && t.code === 'mpi')) continue;
      if (res.resourceType === 'Patient') await this.link(res as Patient);
      else if (res.resourceType === 'Person' && r.version.versionId > 1) await this.recordUnlinks(res as Person, r.version.versionId);
    }
  }

  async candidates(p: Patient): Promise<{ patient: Patient; match: MatchResult }[]> {
    const f = features(p);
    const seen = new Map<string, Patient>();
    for (const b of blocks(f)) {
      for (const m of (await this.resources.search('Patient', b)).matches) if (m.id !== p.id) seen.set(m.id!, m as Patient);
    }
    return [...seen.values()]
      .map((c) => ({ patient: c, match: compare(f, features(c), this.weights) }))
      .filter((c) => c.match.assurance)
      .sort((a, b) => b.match.score - a.match.score);
  }

  private async personsOf(patientId: string): Promise<Person[]> {
    return (await this.resources.search('Person', [['patient', ref(patientId)], ['_count', '20']])).matches as unknown as Person[];
  }

  /** The Person that holds this record as the same individual (level3/4). */
  private async personOf(patientId: string): Promise<Person | undefined> {
    return (await this.personsOf(patientId)).find((p) => p.link?.some((l) => targetId(l) === patientId && LINKED.has(l.assurance ?? 'level4')));
  }

  private async save(person: Person): Promise<void> {
    const review = person.link?.some((l) => l.assurance === 'level2');
    const tags = (person.meta?.tag ?? []).filter((t) => t.system !== MPI_TAG_SYSTEM);
    if (review) tags.push({ system: MPI_TAG_SYSTEM, code: 'review' });
    const { tag: _t, ...meta } = person.meta ?? {};
    const newMeta = { ...meta, ...(tags.length ? { tag: tags } : {}) };
    const body: Person = { ...person, meta: newMeta };
    if (Object.keys(newMeta).length === 0) delete body.meta;
    if (person.id) await this.resources.update(body, MPI_CTX, 'Person', person.id);
    else await this.resources.create(body, MPI_CTX, 'Person');
  }

  private async leave(person: Person, patientId: string): Promise<void> {
    const rest = (person.link ?? []).filter((l) => targetId(l) !== patientId);
    if (!rest.some((l) => LINKED.has(l.assurance ?? 'level4'))) await this.resources.delete('Person', person.id!);
    else await this.save({ ...person, link: rest });
  }

  /** Matches and links one record, taking turns with any other writer of the same person. */
  link(p: Patient): Promise<void> {
    return this.turns.take(matchingKeys(features(p)), () => this.linkNow(p));
  }

  /**
   * Records the source says are this one (Patient.link replaces / replaced-by from a merge, ADT
   * A40/A47; seealso from A24): the same individual by the sender's word, level4 with rule `source`.
   */
  private async asserted(p: Patient): Promise<{ patient: Patient; match: MatchResult }[]> {
    const out: { patient: Patient; match: MatchResult }[] = [];
    for (const l of p.link ?? []) {
      const other = /^Patient\/(.+)$/.exec(l.other.reference ?? '')?.[1];
      if (!other || other === p.id) continue;
      const found = (await this.resources.search('Patient', [['_id', other]])).matches[0] as Patient | undefined;
      if (found) out.push({ patient: found, match: { score: Infinity, assurance: 'level4', rule: 'source', reasons: [`Patient.link ${l.type}`] } });
    }
    return out;
  }

  private async linkNow(p: Patient): Promise<void> {
    const id = p.id!;
    const now = new Date().toISOString();
    const found = [...(await this.asserted(p)), ...(await this.candidates(p))];
    const current = await this.personOf(id);
    let best: { person?: Person; patient: Patient; match: MatchResult } | undefined;
    for (const c of found.filter((x) => LINKED.has(x.match.assurance!))) {
      const person = await this.personOf(c.patient.id!);
      if (person && notSame(person).has(ref(id))) continue;
      if (current && notSame(current).has(ref(c.patient.id!))) continue;
      best = { ...(person ? { person } : {}), patient: c.patient, match: c.match };
      break;
    }
    const myLink: PersonLink = best
      ? { extension: [why(best.match, now)], target: { reference: ref(id) }, assurance: best.match.assurance! }
      : { target: { reference: ref(id) }, assurance: 'level4' };

    if (best) {
      if (current && best.person?.id === current.id) return; // already together
      if (current) await this.leave(current, id);
      if (best.person) await this.save({ ...best.person, link: [...(best.person.link ?? []).filter((l) => targetId(l) !== id), myLink] });
      else await this.save({ resourceType: 'Person', active: true, link: [{ target: { reference: ref(best.patient.id!) }, assurance: 'level4' }, myLink] });
      return;
    }
    // No automatic match. If a correction broke the match that put it with others, it leaves them.
    if (current) {
      const others = (current.link ?? []).filter((l) => targetId(l) !== id && LINKED.has(l.assurance ?? 'level4'));
      if (others.length === 0) return;
      const mine = features(p);
      let stillMatches = false;
      for (const o of others) {
        const other = (await this.resources.search('Patient', [['_id', targetId(o)!]])).matches[0] as Patient | undefined;
        // The other record still matches, or the source tied them (its Patient.link names this one).
        if (other && (LINKED.has(compare(mine, features(other), this.weights).assurance ?? '') || other.link?.some((x) => x.other.reference === ref(id)))) stillMatches = true;
      }
      if (stillMatches) return;
      await this.leave(current, id);
    }
    const own: Person = { resourceType: 'Person', active: true, link: [myLink] };
    await this.save(own);
    // A possible match: listed on that individual's Person for review, never followed by $everything/$summary.
    const possible = found.find((x) => x.match.assurance === 'level2');
    if (possible) {
      const person = await this.personOf(possible.patient.id!);
      if (person && !notSame(person).has(ref(id)) && !person.link?.some((l) => targetId(l) === id)) {
        await this.save({ ...person, link: [...(person.link ?? []), { extension: [why(possible.match, now)], target: { reference: ref(id) }, assurance: 'level2' }] });
      }
    }
  }

  /** An edited Person: records it no longer lists are marked "not the same" so matching will not bring them back. */
  private async recordUnlinks(person: Person, versionId: number): Promise<void> {
    const before = await this.resources.repo.vread('Person', person.id!, versionId - 1);
    const prev = (before?.resource as Person | undefined)?.link ?? [];
    const now = new Set((person.link ?? []).map((l) => l.target.reference));
    const removed = prev.map((l) => l.target.reference).filter((r): r is string => !!r && !now.has(r) && !notSame(person).has(r));
    if (removed.length === 0) return;
    await this.save({ ...person, extension: [...(person.extension ?? []), ...removed.map((r) => ({ url: NOT_SAME_EXT, valueReference: { reference: r } }))] });
    // the unlinked record needs a Person of its own
    for (const r of removed) {
      const pid = r.slice('Patient/'.length);
      if (!(await this.personOf(pid))) await this.save({ resourceType: 'Person', active: true, link: [{ target: { reference: r }, assurance: 'level4' }] });
    }
  }
}
