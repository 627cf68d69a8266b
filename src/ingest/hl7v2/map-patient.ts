import type { Extension, Identifier, Patient, PatientContact, Provenance, Reference, RelatedPerson } from 'fhir/r4';
import './segments/pid';
import { coding, lookup } from '../../fhir/conceptmap';
import { issue } from '../../fhir/outcome';
import { PROVIDER_CODE_SYSTEM, VN_IDENTIFIER_SYSTEM, type Hl7SourceConfig, type VnIdentifierKind } from './config';
import { compact, MapContext, reps, rep, val, where, type Seg } from './context';
import { address, c, concept, contactPoint, humanName, type Rep } from './datatypes';
import { organization, organizationFromHd, relatedPersonId } from './references';
import { codeV2, translateV2 } from './tables';

// PID (Patient Identification, "thông tin hành chính người bệnh") → Patient; the field table is segments/pid.ts.

const EXT = 'http://hl7.org/fhir/StructureDefinition/';

/** Which configured system a CX repetition belongs to, most specific key first. */
function configuredSystem(cfg: Hl7SourceConfig, cx: Rep): { kind?: VnIdentifierKind; system?: string } {
  const ns = c(cx, 4, 1);
  const uid = c(cx, 4, 2);
  const type = c(cx, 5);
  const table = cfg.identifierAuthorities ?? {};
  for (const key of [ns && type && `${ns}^${type}`, uid && type && `${uid}^${type}`, ns, uid, type && `^${type}`, type]) {
    const hit = key ? table[key] : undefined;
    if (!hit) continue;
    if (hit in VN_IDENTIFIER_SYSTEM) return { kind: hit as VnIdentifierKind, system: VN_IDENTIFIER_SYSTEM[hit as VnIdentifierKind] };
    return { system: hit };
  }
  if (uid && /^\d+(\.\d+)+$/.test(uid)) return { system: `urn:oid:${uid}` };
  return {};
}

/** CX → Identifier; MA_BN is only unique inside its facility, so it names the facility as assigner. */
export function identifier(ctx: MapContext, cx: Rep): { id: Identifier; kind?: VnIdentifierKind } | undefined {
  const value = c(cx, 1);
  if (!value) return undefined;
  const { kind, system } = configuredSystem(ctx.cfg, cx);
  const type = c(cx, 5);
  const authority = c(cx, 4, 1) || c(cx, 4, 2);
  const assigner = kind === 'MA_BN'
    ? { identifier: { system: PROVIDER_CODE_SYSTEM, value: ctx.facility } }
    : authority ? { display: authority } : undefined;
  return {
    kind,
    id: compact<Identifier>({
      use: kind === 'CCCD' ? 'official' : undefined,
      type: type ? { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: type }] } : undefined,
      system,
      value,
      assigner,
    }),
  };
}

/**
 * The key a patient's resource id is derived from: the MA_BN when configured, else the first
 * identifier. DICOM's PatientID carries the same hospital number, so both feeds meet.
 */
function identifiersAndKey(ctx: MapContext, cxs: Rep[]): { identifiers: Identifier[]; key?: string } {
  const mapped = cxs.map((cx) => identifier(ctx, cx)).filter((x): x is NonNullable<typeof x> => !!x);
  const key = (mapped.find((m) => m.kind === 'MA_BN') ?? mapped[0])?.id.value;
  return { identifiers: mapped.map((m) => m.id), key };
}

export function patientResourceId(ctx: MapContext, key: string): string {
  return ctx.id('Patient', key);
}

function contact(ctx: MapContext, nk1: Seg): PatientContact | undefined {
  const name = reps(nk1, 2).map(humanName).find(Boolean);
  const rel = rep(nk1, 3);
  const relCode = translateV2('v2-0063-to-contact-relationship', c(rel, 1));
  const relationship = [concept(rel), relCode && { coding: [relCode] }].filter((x) => !!x);
  const telecom = [...reps(nk1, 5), ...reps(nk1, 6)].map(contactPoint).filter((x) => !!x);
  const addr = reps(nk1, 4).map(address).find(Boolean);
  // NK1-13 organization name (a contact that is an employer, a school, a nursing home): the IG's contact.organization.
  const org = organization(ctx, rep(nk1, 13));
  if (!name && !telecom.length && !addr && !org) return undefined;
  return compact<PatientContact>({
    relationship: relationship as PatientContact['relationship'],
    name,
    telecom: telecom as PatientContact['telecom'],
    address: addr,
    organization: org,
  });
}

/** Patient from a PID (and the NK1s after it); returns the reference every other resource uses. */
export function mapPatient(ctx: MapContext, pid: Seg): Reference | undefined {
  const { identifiers, key } = identifiersAndKey(ctx, [...reps(pid, 3), ...reps(pid, 2), ...(reps(pid, 3).length ? [] : reps(pid, 4))]);
  // PID-4 (alternate id) and the PID-19/20 national numbers are identifiers too, never the key.
  for (const cx of reps(pid, 3).length ? reps(pid, 4) : []) {
    const alt = identifier(ctx, cx)?.id;
    if (alt && !identifiers.some((i) => i.value === alt.value)) identifiers.push(alt);
  }
  const ssn = val(pid, 19);
  if (ssn) identifiers.push({ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'SS' }] }, value: ssn });
  const dln = rep(pid, 20);
  if (c(dln, 1)) {
    const expires = ctx.dateTime(c(dln, 3), where(pid, 20, 1, 3))?.slice(0, 10);
    identifiers.push(compact<Identifier>({ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'DL' }] }, value: c(dln, 1), assigner: c(dln, 2) ? { display: c(dln, 2) } : undefined, period: expires ? { end: expires } : undefined }));
  }
  if (!key) {
    ctx.issues.push(issue('error', 'required', 'PID-3 (patient identifier list) has no identifier', where(pid, 3)));
    return undefined;
  }
  const id = patientResourceId(ctx, key);
  const names = [...reps(pid, 5), ...reps(pid, 9)].map(humanName).filter((x) => !!x);
  const sex = val(pid, 8);
  const gender = codeV2('v2-0001-to-administrative-gender', sex) as Patient['gender'];
  if (sex && !gender) ctx.issues.push(issue('warning', 'code-invalid', `PID-8 sex '${sex}' is not in HL7 table 0001`, where(pid, 8)));
  const birthDate = ctx.dateTime(val(pid, 7), where(pid, 7))?.slice(0, 10);
  const addresses = reps(pid, 11).map(address).filter((x) => !!x);
  const county = val(pid, 12);
  if (county && addresses.length === 1 && !addresses[0]!.district) addresses[0]!.district = county;
  const telecom = [...reps(pid, 13), ...reps(pid, 14), ...reps(pid, 40)].map(contactPoint).filter((x) => !!x);
  const languages = [concept(rep(pid, 15))].filter((x) => !!x);
  const extension: Extension[] = [];
  const maiden = c(rep(pid, 6), 1);
  if (maiden) extension.push({ url: `${EXT}patient-mothersMaidenName`, valueString: maiden });
  const religion = concept(rep(pid, 17));
  if (religion) extension.push({ url: `${EXT}patient-religion`, valueCodeableConcept: religion });
  const birthPlace = val(pid, 23);
  if (birthPlace) extension.push({ url: `${EXT}patient-birthPlace`, valueAddress: { text: birthPlace } });
  for (const cit of reps(pid, 26).map(concept).filter((x) => !!x)) extension.push({ url: `${EXT}patient-citizenship`, extension: [{ url: 'code', valueCodeableConcept: cit }] });
  // PID-39 tribal citizenship: the IG's second patient-citizenship.
  for (const cit of reps(pid, 39).map(concept).filter((x) => !!x)) extension.push({ url: `${EXT}patient-citizenship`, extension: [{ url: 'code', valueCodeableConcept: cit }] });
  const ethnic = ethnicGroup(ctx, pid);
  if (ethnic) extension.push(ethnic);
  // PID-35/36 species and breed: the core patient-animal extension, as the IG maps them (species is required in it).
  const species = concept(rep(pid, 35));
  const breed = concept(rep(pid, 36));
  if (species) extension.push({ url: `${EXT}patient-animal`, extension: [{ url: 'species', valueCodeableConcept: species }, ...(breed ? [{ url: 'breed', valueCodeableConcept: breed }] : [])] });
  else if (breed) ctx.dropped(pid, 36, 'breed without a species (PID-35): patient-animal requires the species');
  const nationality = concept(rep(pid, 28));
  if (nationality) extension.push({ url: `${EXT}patient-nationality`, extension: [{ url: 'code', valueCodeableConcept: nationality }] });
  const birthTime = val(pid, 7).length > 8 ? ctx.dateTime(val(pid, 7), where(pid, 7)) : undefined;
  const marital = concept(rep(pid, 16));
  const deceasedAt = ctx.dateTime(val(pid, 29), where(pid, 29));
  const multiple = val(pid, 24);
  const order = Number(val(pid, 25));
  const start = ctx.segs.indexOf(pid);
  const contacts: PatientContact[] = [];
  for (let i = start + 1; i < ctx.segs.length && !['PID', 'MSH', 'MRG'].includes(ctx.segs[i]!.seg.id); i++) {
    if (ctx.segs[i]!.seg.id === 'NK1') {
      const k = contact(ctx, ctx.segs[i]!);
      if (k) contacts.push(k);
    }
  }
  const patient = compact<Patient & { id: string }>({
    resourceType: 'Patient',
    id,
    identifier: identifiers,
    active: true,
    name: names,
    telecom,
    gender,
    birthDate,
    _birthDate: birthTime && birthTime.length > 10 && birthDate ? { extension: [{ url: `${EXT}patient-birthTime`, valueDateTime: birthTime }] } : undefined,
    extension,
    communication: languages.map((language) => ({ language })),
    deceasedDateTime: deceasedAt,
    deceasedBoolean: val(pid, 30) === 'Y' && !deceasedAt ? true : undefined,
    address: addresses,
    maritalStatus: marital,
    multipleBirthInteger: multiple === 'Y' && order > 0 ? order : undefined,
    multipleBirthBoolean: multiple === 'Y' && !(order > 0) ? true : multiple === 'N' ? false : undefined,
    contact: contacts,
  });
  const ref = ctx.put(patient);
  mother(ctx, pid, ref);
  lastUpdate(ctx, pid, ref);
  return ref;
}

/**
 * PID-33/34 (when and where the demographics were last changed, "cập nhật hành chính lần cuối")
 * → a Provenance over the Patient, the IG's PID[Provenance-Patient] map. The record's own
 * meta.lastUpdated is the store's; this says when the source changed it.
 */
function lastUpdate(ctx: MapContext, pid: Seg, patient: Reference): void {
  const at = ctx.dateTime(val(pid, 33), where(pid, 33));
  if (!at) return;
  if (at.length < 20) {
    ctx.dropped(pid, 33, 'last update date/time: a Provenance needs the time of day');
    if (val(pid, 34)) ctx.dropped(pid, 34, 'last update facility: goes with PID-33, which has no time of day');
    return;
  }
  const facility = organizationFromHd(ctx, rep(pid, 34));
  ctx.put(compact<Provenance & { id: string }>({
    resourceType: 'Provenance',
    id: ctx.id('Provenance', 'patient-update', patient.reference!, at),
    target: [patient],
    occurredDateTime: at,
    recorded: at,
    agent: [facility
      ? { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type', code: 'performer' }] }, who: facility }
      : { who: { display: ctx.facility } }],
  }));
}

/**
 * PID-21 mother's identifier (a newborn's record: "mã người bệnh của mẹ") → a RelatedPerson
 * MTH carrying it, the IG's CX[RelatedPerson-Mother] map.
 */
function mother(ctx: MapContext, pid: Seg, patient: Reference): void {
  const ids = reps(pid, 21).map((cx) => identifier(ctx, cx)?.id).filter((i): i is Identifier => !!i);
  if (!ids.length) return;
  ctx.put<RelatedPerson & { id: string }>({
    resourceType: 'RelatedPerson',
    id: relatedPersonId(ctx, patient, 'mother', ids[0]!.value!),
    active: true,
    patient,
    identifier: ids,
    relationship: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-RoleCode', code: 'MTH', display: 'mother' }] }],
  });
}

/**
 * A40 merge: the PID is the surviving record, MRG-1 the one merged into it. The old record is
 * kept, inactive, pointing at the survivor, so references to it still resolve; moving those
 * references is the store's job once it sees the `replaced-by` link.
 */
export function mapMerge(ctx: MapContext, pid: Seg, mrg: Seg, survivor: Reference): void {
  const { identifiers, key } = identifiersAndKey(ctx, reps(mrg, 1));
  if (!key) {
    ctx.issues.push(issue('error', 'required', 'MRG-1 (prior patient identifier) is empty', where(mrg, 1)));
    return;
  }
  const oldId = patientResourceId(ctx, key);
  const current = ctx.get<Patient>(survivor.reference!)!;
  if (`Patient/${oldId}` === survivor.reference) {
    ctx.issues.push(issue('error', 'business-rule', 'MRG-1 names the same patient as PID-3', where(mrg, 1)));
    return;
  }
  current.link = [...(current.link ?? []), { other: { reference: `Patient/${oldId}` }, type: 'replaces' }];
  ctx.put<Patient & { id: string }>({
    resourceType: 'Patient',
    id: oldId,
    identifier: identifiers,
    active: false,
    link: [{ other: survivor, type: 'replaced-by' }],
  });
}

const VN_RACE = 'http://fhir.ehealth.gov.vn/core/CodeSystem/vn-core-race';

/**
 * PID-22 ethnic group, else PID-10 race, carrying a GSO "dân tộc" code (01 Kinh … 54, VN Core's
 * vn-core-race) → VN Core's vn-ethnic-group extension: the IG leaves both fields to "the local
 * extension" of the realm, and this is Vietnam's. Codes of another system (the US race and
 * ethnicity tables) have no Vietnamese home and are left out, with the reason.
 */
function ethnicGroup(ctx: MapContext, pid: Seg): Extension | undefined {
  let found: Extension | undefined;
  for (const field of [22, 10]) {
    for (const r of reps(pid, field)) {
      const code = c(r, 1);
      const system = c(r, 3);
      const gso = /^\d{1,2}$/.test(code) && (!system || /vn-core-race|dan ?toc|gso/i.test(system)) ? lookup(VN_RACE, code.padStart(2, '0')) : undefined;
      if (gso && !found) found = { url: 'http://fhir.ehealth.gov.vn/core/StructureDefinition/vn-ethnic-group', valueCoding: coding(VN_RACE, gso.code) };
      else if (gso) ctx.dropped(pid, field, `ethnic group '${code}': a patient has one, and an earlier field or repetition gave it`);
      else if (code) ctx.dropped(pid, field, `${field === 10 ? 'race' : 'ethnic group'} '${code}': not a GSO dân tộc code (VN Core vn-core-race); the IG leaves this field to the realm's extension`);
    }
  }
  return found;
}
