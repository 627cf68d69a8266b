/**
 * A noisy synthetic Vietnamese population for the MPI benchmark: people with 2–4 records at
 * different facilities, written the way HIS exports differ. Seeded, so every run sees the same data.
 */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FAMILY: [string, number][] = [
  ['Nguyễn', 38], ['Trần', 11], ['Lê', 9.5], ['Phạm', 7.1], ['Hoàng', 3], ['Huỳnh', 2.1], ['Phan', 4.5], ['Vũ', 2], ['Võ', 1.9], ['Đặng', 2.1],
  ['Bùi', 2], ['Đỗ', 1.4], ['Hồ', 1.3], ['Ngô', 1.3], ['Dương', 1], ['Lý', 0.5], ['Đinh', 0.6], ['Lâm', 0.4], ['Mai', 0.4], ['Trịnh', 0.4],
];
const MIDDLE_M = ['Văn', 'Hữu', 'Đức', 'Minh', 'Quang', 'Thanh', 'Công', 'Xuân', 'Đình', 'Ngọc'];
const MIDDLE_F = ['Thị', 'Thị', 'Thị', 'Ngọc', 'Thu', 'Thanh', 'Minh', 'Kim', 'Bích', 'Hồng'];
const GIVEN_M = ['An', 'Bình', 'Cường', 'Dũng', 'Dương', 'Đạt', 'Hải', 'Hiếu', 'Hoàng', 'Hùng', 'Huy', 'Khánh', 'Khoa', 'Khôi', 'Kiên', 'Long', 'Lâm', 'Minh', 'Nam', 'Nghĩa', 'Phong', 'Phúc', 'Quân', 'Quang', 'Sơn', 'Tài', 'Thắng', 'Thành', 'Thịnh', 'Toàn', 'Trung', 'Tuấn', 'Tùng', 'Việt', 'Vinh', 'Vũ', 'Hưng', 'Tâm', 'Hậu', 'Lộc'];
const GIVEN_F = ['Anh', 'Châu', 'Chi', 'Dung', 'Giang', 'Hà', 'Hằng', 'Hạnh', 'Hoa', 'Hương', 'Huyền', 'Lan', 'Liên', 'Linh', 'Loan', 'Ly', 'Mai', 'My', 'Nga', 'Ngân', 'Ngọc', 'Nhung', 'Oanh', 'Phương', 'Quỳnh', 'Tâm', 'Thảo', 'Thư', 'Thủy', 'Trang', 'Trinh', 'Tuyết', 'Vân', 'Vy', 'Xuân', 'Yến', 'Diệp', 'Hiền', 'Nhi', 'Uyên'];
const PROVINCES = ['01', '79', '48', '31', '92', '26', '27', '30', '33', '36', '38', '40', '42', '44', '45', '46', '49', '51', '52', '56'];

export interface TruePerson {
  index: number;
  family: string;
  middle: string;
  given: string;
  gender: 'male' | 'female';
  birth: string;
  cccd: string;
  cmnd?: string;
  bhxh: string;
  province: string;
  district: string;
  commune: string;
  phone?: string;
}

export interface Record {
  person: number;
  facility: string;
  hasCccd: boolean;
  patient: { resourceType: 'Patient'; [k: string]: unknown };
}

const ADMIN = 'http://fhir.ehealth.gov.vn/core/StructureDefinition/vn-admin-unit';
const CS = 'http://fhir.ehealth.gov.vn/core/CodeSystem/vn-admin-unit';
const SID = 'http://fhir.ehealth.gov.vn/core/sid';

export function population(people: number, seed = 12): { persons: TruePerson[]; records: Record[] } {
  const r = rng(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)]!;
  const weighted = (xs: [string, number][]) => {
    const total = xs.reduce((s, [, w]) => s + w, 0);
    let x = r() * total;
    for (const [v, w] of xs) if ((x -= w) <= 0) return v;
    return xs[0]![0];
  };
  const digits = (n: number) => Array.from({ length: n }, () => Math.floor(r() * 10)).join('');
  const persons: TruePerson[] = [];
  for (let i = 0; i < people; i++) {
    const prev = persons[persons.length - 1];
    const gender = r() < 0.5 ? 'male' : 'female';
    const household = prev && r() < 0.3; // shares address and phone with the previous person
    const twin = prev && household && r() < 0.05;
    const y = 1930 + Math.floor(r() * 90);
    const birth = twin ? prev.birth : `${y}-${String(1 + Math.floor(r() * 12)).padStart(2, '0')}-${String(1 + Math.floor(r() * 28)).padStart(2, '0')}`;
    const province = household ? prev.province : pick(PROVINCES);
    const p: TruePerson = {
      index: i,
      family: household ? prev.family : weighted(FAMILY),
      middle: pick(gender === 'male' ? MIDDLE_M : MIDDLE_F),
      given: '',
      gender,
      birth,
      cccd: `0${province}${digits(9)}`,
      bhxh: `${province}${digits(8)}`,
      province,
      district: household ? prev.district : `${province}${digits(1)}`,
      commune: household ? prev.commune : `${province}${digits(3)}`,
      ...(household && prev.phone ? { phone: prev.phone } : r() < 0.7 ? { phone: `09${digits(8)}` } : {}),
      ...(Number(birth.slice(0, 4)) < 1995 && r() < 0.3 ? { cmnd: digits(9) } : {}),
    };
    // a twin never has the same given name as the sibling
    do p.given = pick(gender === 'male' ? GIVEN_M : GIVEN_F);
    while (twin && p.given === prev.given);
    persons.push(p);
  }

  const fold = (s: string) => s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/đ/g, 'd').replace(/Đ/g, 'D');
  const typo = (w: string) => {
    if (w.length < 3) return w;
    const i = 1 + Math.floor(r() * (w.length - 1));
    return w.slice(0, i) + pick('abcdeghiklmnopqrstuvxy'.split('')) + w.slice(i + 1);
  };
  const records: Record[] = [];
  for (const p of persons) {
    const n = 2 + Math.floor(r() * 3);
    const facilities = new Set<string>();
    while (facilities.size < n) facilities.add(`${p.province}${String(Math.floor(r() * 30)).padStart(3, '0')}`);
    for (const facility of facilities) {
      let words = [p.family, ...(r() < 0.05 ? [] : [p.middle]), p.given];
      if (r() < 0.05) {
        const k = Math.floor(r() * words.length);
        words[k] = typo(words[k]!);
      }
      if (r() < 0.4) words = words.map(fold);
      if (r() < 0.2) words = words.map((w) => w.toUpperCase());
      if (r() < 0.03) words = [...words.slice(1), words[0]!]; // family name written last
      let birthDate = p.birth;
      const old = Number(p.birth.slice(0, 4)) < 1960;
      if (r() < (old ? 0.3 : 0.08)) birthDate = p.birth.slice(0, 4);
      else if (r() < 0.02 && Number(p.birth.slice(8, 10)) <= 12) birthDate = `${p.birth.slice(0, 4)}-${p.birth.slice(8, 10)}-${p.birth.slice(5, 7)}`;
      const hasCccd = r() < 0.85;
      const identifier = [
        { system: `${SID}/patient-internal-id`, value: `BN${records.length}` },
        ...(hasCccd ? [{ system: `${SID}/national_id`, value: p.cccd }] : p.cmnd && r() < 0.5 ? [{ system: `${SID}/cmnd`, value: p.cmnd }] : []),
        ...(r() < 0.5 ? [{ system: `${SID}/insurance_number`, value: `${pick(['HT', 'GD', 'DN', 'HC', 'TE'])}${1 + Math.floor(r() * 5)}${p.province}${p.bhxh}` }, { system: `${SID}/social_insurance_number`, value: p.bhxh }] : []),
      ];
      const address = r() < 0.9
        ? [{ use: 'home', country: 'VN', extension: [{ url: ADMIN, extension: [
            { url: 'province', valueCoding: { system: CS, code: p.province } },
            { url: 'district', valueCoding: { system: CS, code: p.district } },
            { url: 'commune', valueCoding: { system: CS, code: p.commune } },
          ] }] }]
        : [];
      const telecom = p.phone && r() < 0.7 ? [{ system: 'phone', value: r() < 0.5 ? p.phone : `+84${p.phone.slice(1)}` }] : [];
      records.push({
        person: p.index,
        facility,
        hasCccd,
        patient: {
          resourceType: 'Patient',
          identifier,
          name: [{ use: 'official', text: words.join(' '), family: words[0], given: words.slice(1) }],
          gender: p.gender,
          birthDate,
          ...(address.length ? { address } : {}),
          ...(telecom.length ? { telecom } : {}),
        },
      });
    }
  }
  // Records arrive interleaved, as visits do, not person by person.
  for (let i = records.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [records[i], records[j]] = [records[j]!, records[i]!];
  }
  return { persons, records };
}
