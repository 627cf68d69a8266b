import type { Patient } from 'fhir/r4';
import { normalizeText } from '../fhir/text';

/**
 * What the matcher compares, read from a Patient as the feeds write it (VN Core identifier
 * systems, the vn-admin-unit address extension). Names are folded (`Nguyễn` = `NGUYEN`),
 * split into family name (first word in Vietnamese order) and given names.
 */
const SID = 'http://fhir.ehealth.gov.vn/core/sid';
export const SYSTEMS = {
  cccd: `${SID}/national_id`,
  cmnd: `${SID}/cmnd`,
  bhyt: `${SID}/insurance_number`,
  bhxh: `${SID}/social_insurance_number`,
} as const;
const ADMIN_UNIT = 'http://fhir.ehealth.gov.vn/core/StructureDefinition/vn-admin-unit';

export interface BirthDate {
  y: number;
  m?: number;
  d?: number;
}

export interface Features {
  cccd?: string;
  cmnd?: string;
  /** BHXH number: the last 10 characters of a BHYT card, or a bare 10-digit number. */
  bhxh?: string;
  /** Folded words of the name, family name first. */
  words: string[];
  birth?: BirthDate;
  gender?: string;
  province?: string;
  district?: string;
  commune?: string;
  phones: string[];
}

/** `Nguyễn Văn An` (or family/given parts) → `['nguyen', 'van', 'an']`. */
export function nameWords(p: Patient): string[] {
  const n = p.name?.find((x) => x.use === 'official') ?? p.name?.[0];
  if (!n) return [];
  const text = n.text ?? [n.family, ...(n.given ?? [])].filter(Boolean).join(' ');
  return normalizeText(text).split(/[^a-z]+/).filter(Boolean);
}

export function parseBirth(v: string | undefined): BirthDate | undefined {
  const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?/.exec(v ?? '');
  if (!m) return undefined;
  return { y: Number(m[1]), ...(m[2] ? { m: Number(m[2]) } : {}), ...(m[3] ? { d: Number(m[3]) } : {}) };
}

/** Vietnamese mobile numbers are written `09…`, `+849…`, `849…`: compare the national 9 digits. */
export function normalizePhone(v: string): string | undefined {
  const digits = v.replace(/\D/g, '').replace(/^84/, '').replace(/^0/, '');
  return digits.length >= 8 ? digits : undefined;
}

export function features(p: Patient): Features {
  const id = (system: string) => p.identifier?.find((i) => i.system === system && i.value)?.value?.trim();
  const cccd = id(SYSTEMS.cccd);
  const cmnd = id(SYSTEMS.cmnd);
  const card = id(SYSTEMS.bhyt);
  const bare = id(SYSTEMS.bhxh);
  const bhxh = bare && /^\d{10}$/.test(bare) ? bare : card && card.length >= 10 ? card.slice(-10) : undefined;
  const units = p.address?.flatMap((a) => a.extension ?? []).find((e) => e.url === ADMIN_UNIT)?.extension ?? [];
  const unit = (u: string) => units.find((e) => e.url === u)?.valueCoding?.code;
  const f: Features = {
    words: nameWords(p),
    phones: (p.telecom ?? []).filter((t) => t.system === 'phone' && t.value).map((t) => normalizePhone(t.value!)).filter((x): x is string => !!x),
  };
  if (cccd && /^\d{12}$/.test(cccd)) f.cccd = cccd;
  if (cmnd && /^\d{9}$/.test(cmnd)) f.cmnd = cmnd;
  if (bhxh) f.bhxh = bhxh;
  const birth = parseBirth(p.birthDate);
  if (birth) f.birth = birth;
  if (p.gender && p.gender !== 'unknown') f.gender = p.gender;
  for (const k of ['province', 'district', 'commune'] as const) {
    const v = unit(k);
    if (v) f[k] = v;
  }
  return f;
}
