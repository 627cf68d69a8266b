import type { BirthDate, Features } from './features';

/**
 * Fellegi–Sunter record comparison tuned to Vietnamese data: each field's agreement adds
 * log2(m/u), its disagreement log2((1-m)/(1-u)), with u taken from how common the value is
 * (a third of the population is called Nguyễn). Deterministic rules come first: one CCCD or one
 * BHXH number is one person (level4); two different CCCDs are never one person. A different
 * given name (the last word, "tên") or family name never links automatically: twins share
 * everything else, and a Vietnamese family name does not change.
 */
export interface MatchWeights {
  familyMiss: number;
  givenMiss: number;
  middleAgree: number;
  middleMiss: number;
  swappedOrder: number;
  birthExact: number;
  birthYearOnly: number;
  birthDayMonthSwap: number;
  birthSameYear: number;
  birthYearOff: number;
  birthMiss: number;
  genderAgree: number;
  genderMiss: number;
  commune: number;
  district: number;
  province: number;
  provinceMiss: number;
  phone: number;
  cmndAgree: number;
  cmndMiss: number;
  bhxhMiss: number;
  /** At or above: linked automatically (level3). */
  autoLink: number;
  /** At or above (and below autoLink): a possible match for review (level2). */
  possible: number;
}

export const DEFAULT_WEIGHTS: MatchWeights = {
  familyMiss: -3,
  givenMiss: -6,
  middleAgree: 1,
  middleMiss: -1,
  swappedOrder: -1,
  birthExact: 10,
  birthYearOnly: 4,
  birthDayMonthSwap: 7,
  birthSameYear: -2,
  birthYearOff: -5,
  birthMiss: -9,
  genderAgree: 1,
  genderMiss: -5,
  commune: 3,
  district: 1.5,
  province: 0.5,
  provinceMiss: -1,
  phone: 5,
  cmndAgree: 12,
  cmndMiss: -4,
  bhxhMiss: -10,
  autoLink: 14,
  possible: 8,
};

/** Shares of the population (surname studies; common given names estimated). */
const FAMILY_FREQ: Record<string, number> = {
  nguyen: 0.38, tran: 0.11, le: 0.095, pham: 0.071, hoang: 0.03, huynh: 0.021, phan: 0.045, vu: 0.02, vo: 0.019, dang: 0.021,
  bui: 0.02, do: 0.014, ho: 0.013, ngo: 0.013, duong: 0.01, ly: 0.005,
};
const GIVEN_FREQ: Record<string, number> = {
  anh: 0.04, linh: 0.03, huong: 0.025, hung: 0.02, dung: 0.02, tuan: 0.02, thu: 0.015, nam: 0.02, hoa: 0.015, lan: 0.015, ha: 0.02,
  trang: 0.02, minh: 0.02, hai: 0.015, long: 0.015, thanh: 0.02, hieu: 0.015, duc: 0.015, an: 0.015, mai: 0.015, phuong: 0.015,
  quang: 0.01, son: 0.015, hang: 0.015, nga: 0.01, yen: 0.01, thao: 0.015, hoang: 0.01, khanh: 0.01, binh: 0.01,
};
const agree = (m: number, u: number) => Math.log2(m / u);

export type Grade = 'certain' | 'probable' | 'possible';

export interface MatchResult {
  score: number;
  grade?: Grade;
  /** Person.link.assurance this comparison justifies. */
  assurance?: 'level4' | 'level3' | 'level2';
  /** `source`: the sender said so (an HL7 merge or link, Patient.link), not a comparison. */
  rule: 'cccd' | 'bhxh' | 'probabilistic' | 'never' | 'source';
  reasons: string[];
}

function levenshtein(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

type Cmp = 'agree' | 'typo' | 'miss';
function word(a: string, b: string): Cmp {
  if (a === b) return 'agree';
  return Math.min(a.length, b.length) >= 3 && levenshtein(a, b) <= (Math.min(a.length, b.length) >= 7 ? 2 : 1) ? 'typo' : 'miss';
}

interface NameScore {
  score: number;
  nameConflict: boolean;
  reasons: string[];
}

function nameScore(a: string[], b: string[], w: MatchWeights, swapped: boolean): NameScore {
  const reasons: string[] = [];
  let score = swapped ? w.swappedOrder : 0;
  const fam = word(a[0]!, b[0]!);
  const famW = agree(0.97, FAMILY_FREQ[a[0]!] ?? 0.003);
  score += fam === 'agree' ? famW : fam === 'typo' ? famW / 2 : w.familyMiss;
  reasons.push(`family:${fam}`);
  const given = word(a[a.length - 1]!, b[b.length - 1]!);
  const givW = agree(0.95, GIVEN_FREQ[a[a.length - 1]!] ?? 0.004);
  score += given === 'agree' ? givW : given === 'typo' ? givW / 2 : w.givenMiss;
  reasons.push(`given:${given}`);
  const ma = a.slice(1, -1);
  const mb = b.slice(1, -1);
  if (ma.length && mb.length) {
    const hit = ma.some((x) => mb.some((y) => word(x, y) !== 'miss'));
    score += hit ? w.middleAgree : w.middleMiss;
    reasons.push(`middle:${hit ? 'agree' : 'miss'}`);
  }
  // A one-letter difference in the given name is as often a twin (Khôi/Khoa) as a typo; a family
  // name does not change in Vietnam (not at marriage either): either way reviewed, not linked.
  return { score, nameConflict: given !== 'agree' || fam === 'miss', reasons };
}

function names(a: string[], b: string[], w: MatchWeights): NameScore {
  if (a.length < 2 || b.length < 2) return { score: 0, nameConflict: false, reasons: ['name:missing'] };
  const direct = nameScore(a, b, w, false);
  // Family name written last ("Văn An Nguyễn", western order): rotate it back to the front.
  const rotated = nameScore(a, [b[b.length - 1]!, ...b.slice(0, -1)], w, true);
  const rotatedBack = nameScore([a[a.length - 1]!, ...a.slice(0, -1)], b, w, true);
  return [direct, rotated, rotatedBack].reduce((x, y) => (y.score > x.score ? y : x));
}

function birth(a: BirthDate, b: BirthDate, w: MatchWeights): [number, string] {
  if (a.y !== b.y) return Math.abs(a.y - b.y) === 1 ? [w.birthYearOff, 'birth:year-off'] : [w.birthMiss, 'birth:miss'];
  if (a.m === undefined || b.m === undefined || a.d === undefined || b.d === undefined) return [w.birthYearOnly, 'birth:year-only'];
  if (a.m === b.m && a.d === b.d) return [w.birthExact, 'birth:exact'];
  if (a.m === b.d && a.d === b.m) return [w.birthDayMonthSwap, 'birth:day-month-swap'];
  return [w.birthSameYear, 'birth:same-year'];
}

export function compare(a: Features, b: Features, w: MatchWeights = DEFAULT_WEIGHTS): MatchResult {
  if (a.cccd && b.cccd) {
    if (a.cccd === b.cccd) return { score: Infinity, grade: 'certain', assurance: 'level4', rule: 'cccd', reasons: ['cccd:agree'] };
    return { score: -Infinity, rule: 'never', reasons: ['cccd:conflict'] };
  }
  if (a.bhxh && b.bhxh && a.bhxh === b.bhxh) return { score: Infinity, grade: 'certain', assurance: 'level4', rule: 'bhxh', reasons: ['bhxh:agree'] };
  const reasons: string[] = [];
  let score = 0;
  const n = names(a.words, b.words, w);
  score += n.score;
  reasons.push(...n.reasons);
  if (a.birth && b.birth) {
    const [s, r] = birth(a.birth, b.birth, w);
    score += s;
    reasons.push(r);
  }
  if (a.gender && b.gender) score += a.gender === b.gender ? w.genderAgree : w.genderMiss;
  if (a.commune && a.commune === b.commune) score += w.commune;
  else if (a.district && a.district === b.district) score += w.district;
  else if (a.province && b.province) score += a.province === b.province ? w.province : w.provinceMiss;
  if (a.phones.some((p) => b.phones.includes(p))) (score += w.phone), reasons.push('phone:agree');
  if (a.cmnd && b.cmnd) (score += a.cmnd === b.cmnd ? w.cmndAgree : w.cmndMiss), reasons.push(`cmnd:${a.cmnd === b.cmnd ? 'agree' : 'miss'}`);
  if (a.bhxh && b.bhxh) (score += w.bhxhMiss), reasons.push('bhxh:miss');
  score = Math.round(score * 100) / 100;
  if (score >= w.autoLink && !n.nameConflict) return { score, grade: 'probable', assurance: 'level3', rule: 'probabilistic', reasons };
  if (score >= w.possible) return { score, grade: 'possible', assurance: 'level2', rule: 'probabilistic', reasons };
  return { score, rule: 'probabilistic', reasons };
}
