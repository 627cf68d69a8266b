import type { Patient } from 'fhir/r4';
import { features, SYSTEMS } from '../../src/mpi/features';
import { compare } from '../../src/mpi/score';

const ADMIN = 'http://fhir.ehealth.gov.vn/core/StructureDefinition/vn-admin-unit';
const CS = 'http://fhir.ehealth.gov.vn/core/CodeSystem/vn-admin-unit';
function p(name: string, birthDate: string, more: Partial<Patient> & { cccd?: string; card?: string; cmnd?: string; commune?: string; phone?: string } = {}): Patient {
  const { cccd, card, cmnd, commune, phone, ...rest } = more;
  return {
    resourceType: 'Patient',
    name: [{ text: name }],
    birthDate,
    gender: 'male',
    identifier: [...(cccd ? [{ system: SYSTEMS.cccd, value: cccd }] : []), ...(card ? [{ system: SYSTEMS.bhyt, value: card }] : []), ...(cmnd ? [{ system: SYSTEMS.cmnd, value: cmnd }] : [])],
    ...(commune ? { address: [{ extension: [{ url: ADMIN, extension: [{ url: 'province', valueCoding: { system: CS, code: '79' } }, { url: 'commune', valueCoding: { system: CS, code: commune } }] }] }] } : {}),
    ...(phone ? { telecom: [{ system: 'phone', value: phone }] } : {}),
    ...rest,
  };
}
const cmp = (a: Patient, b: Patient) => compare(features(a), features(b));

describe('deterministic rules', () => {
  test('one CCCD is one person, whatever the names', () => {
    expect(cmp(p('Nguyễn Văn An', '1956'), p('Nguyen Van Anh', '1957', { cccd: '079056001234' })).assurance).toBeUndefined();
    const r = cmp(p('Nguyễn Văn An', '1956', { cccd: '079056001234' }), p('Trần Thị B', '1990', { cccd: '079056001234' }));
    expect([r.assurance, r.grade, r.rule]).toEqual(['level4', 'certain', 'cccd']);
  });
  test('one BHXH number (last 10 of the BHYT card, or bare) is one person', () => {
    const r = cmp(p('Nguyễn Văn An', '1956', { card: 'HT2797924012345' }), p('Nguyen An', '1956', { card: 'GD4017924012345' }));
    expect([r.assurance, r.rule]).toEqual(['level4', 'bhxh']);
    const bare: Patient = { ...p('Nguyen An', '1956'), identifier: [{ system: SYSTEMS.bhxh, value: '7924012345' }] };
    expect(cmp(p('Nguyễn Văn An', '1956', { card: 'HT2797924012345' }), bare).rule).toBe('bhxh');
  });
  test('conflicting CCCDs never match, even with everything else equal', () => {
    const r = cmp(p('Nguyễn Văn An', '1956-03-04', { cccd: '079056001234', phone: '0903123456' }), p('Nguyễn Văn An', '1956-03-04', { cccd: '079056009999', phone: '0903123456' }));
    expect(r.rule).toBe('never');
    expect(r.assurance).toBeUndefined();
  });
  test('an old CMND against a new CCCD is not a conflict', () => {
    const r = cmp(p('Nguyễn Văn An', '1956-03-04', { cmnd: '023456789', commune: '26734' }), p('Nguyen Van An', '1956-03-04', { cccd: '079056001234', commune: '26734' }));
    expect(r.assurance).toBe('level3');
  });
});

describe('probabilistic matching, each kind of noise', () => {
  const base = p('Nguyễn Văn Bình', '1972-08-05', { commune: '26734' });
  test.each([
    ['missing diacritics, upper case', p('NGUYEN VAN BINH', '1972-08-05', { commune: '26734' })],
    ['a typo in the family name', p('Nguyễm Văn Bình', '1972-08-05', { commune: '26734' })],
    ['family name written last', p('Văn Bình Nguyễn', '1972-08-05', { commune: '26734' })],
    ['no middle name', p('Nguyễn Bình', '1972-08-05', { commune: '26734' })],
    ['day and month swapped', p('Nguyễn Văn Bình', '1972-05-08', { commune: '26734' })],
    ['year-only birth date with an address and a phone', { ...p('Nguyen Van Binh', '1972', { commune: '26734', phone: '+84903123456' }), telecom: [{ system: 'phone' as const, value: '0903123456' }] }],
  ])('%s → linked (level3)', (_, other) => {
    const a = _ === 'year-only birth date with an address and a phone' ? { ...base, telecom: [{ system: 'phone' as const, value: '0903 123 456' }] } : base;
    expect(cmp(a, other).assurance).toBe('level3');
  });
  test('a one-letter difference in the given name goes to review (level2), not linked', () => {
    expect(cmp(base, p('Nguyễn Văn Bìnk', '1972-08-05', { commune: '26734' })).assurance).toBe('level2');
  });
  test('day/month swap is recognised as such', () => {
    expect(cmp(p('Nguyễn Văn Bình', '1972-03-12'), p('Nguyễn Văn Bình', '1972-12-03')).reasons).toContain('birth:day-month-swap');
  });
});

describe('never merged on too little', () => {
  test('a common name and a birth year alone are at most a possible match', () => {
    const r = cmp(p('Nguyễn Văn An', '1956'), p('Nguyễn Văn An', '1956'));
    expect(r.assurance).not.toBe('level3');
    expect(r.assurance).not.toBe('level4');
  });
  test('twins: same family, birth date, address and phone, different given name → not linked', () => {
    const home = { commune: '26734', phone: '0903123456' };
    const r = cmp(p('Trần Minh Khôi', '2015-06-01', home), p('Trần Minh Khoa', '2015-06-01', home));
    expect(r.assurance === 'level3' || r.assurance === 'level4').toBe(false);
  });
  test('a different family name with everything else equal → not linked automatically', () => {
    const r = cmp(p('Trần Văn An', '1956-03-04'), p('Nguyễn Văn An', '1956-03-04'));
    expect(r.assurance === 'level3' || r.assurance === 'level4').toBe(false);
  });
  test('different birth years and gender → nothing', () => {
    expect(cmp(p('Nguyễn Văn An', '1956-01-01'), p('Nguyễn Văn An', '1980-01-01', { gender: 'female' })).assurance).toBeUndefined();
  });
});
