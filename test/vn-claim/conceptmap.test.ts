import { codeSystemInfo, coding, lookup, translate, translateAll } from '../../src/fhir/conceptmap';

const CM = 'http://fhir.ehealth.gov.vn/core/ConceptMap';
const CS = 'http://fhir.ehealth.gov.vn/core/CodeSystem';

describe('src/fhir/conceptmap', () => {
  it('translates through a ConceptMap in profiles/', () => {
    expect(translate(`${CM}/vn-gioi-tinh-to-administrative-gender`, '2')).toEqual({ system: 'http://hl7.org/fhir/administrative-gender', code: 'female', display: 'Female' });
    expect(translate(`${CM}/vn-ma-loai-kcb-to-encounter-class`, '03')?.code).toBe('IMP');
    expect(translate(`${CM}/vn-ma-loai-kcb-to-encounter-class`, '3')).toBeUndefined(); // codes are strings
    expect(translate(`${CM}/vn-ma-loai-kcb-to-encounter-class`, '03', 'http://other')).toBeUndefined();
  });

  it('unmatched elements translate to nothing', () => {
    expect(translateAll(`${CM}/vn-ket-qua-dtri-to-condition-clinical`, '5')).toEqual([]);
    expect(translate(`${CM}/vn-ket-qua-dtri-to-condition-clinical`, '1')?.code).toBe('resolved');
  });

  it('refuses an unknown map loudly (a typo in a mapper is a bug, not a missing code)', () => {
    expect(() => translate(`${CM}/nope`, '1')).toThrow(/unknown ConceptMap/);
  });

  it('looks concepts and properties up in CodeSystems', () => {
    expect(lookup(`${CS}/vn-icd10`, 'E11')?.display).toMatch(/đái tháo đường/);
    const female = [...['O80', 'N80.0', 'C53']].map((c) => lookup(`${CS}/vn-icd10`, c)?.properties.sex);
    expect(female.some((s) => s?.includes('female'))).toBe(true);
    expect(lookup(`${CS}/vn-icd10`, 'XXX')).toBeUndefined();
    expect(coding(`${CS}/vn-claim-ma-loai-kcb`, '01').display).toBe('Khám bệnh');
    expect(codeSystemInfo(`${CS}/vn-dmdc-thuoc`)?.content).toBe('not-present');
  });
});
