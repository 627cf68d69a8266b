import { validateResource, withConformanceResources } from '../../src/validation';
import { testProfile } from '../helpers/profiles';

/** dom-3: a contained resource must be used from its container; the narrative can be where. */
const binary = { resourceType: 'Binary', id: 'anh-chup', contentType: 'image/png', data: 'iVBORw0KGgo=' };
const composition = (div: string) => ({
  resourceType: 'Composition',
  contained: [binary],
  status: 'final',
  type: { text: 'Giấy ra viện' },
  date: '2026-11-20',
  author: [{ display: 'BS. Trần Thị B' }],
  title: 'Giấy ra viện',
  section: [{ text: { status: 'additional', div } }],
});
const dom3 = (r: Record<string, unknown>) => validateResource(r).filter((i) => i.severity === 'error' && /dom-3/.test(i.diagnostics ?? ''));

test('a contained Binary shown by the narrative (img src) is referenced', () => {
  expect(dom3(composition('<div xmlns="http://www.w3.org/1999/xhtml"><img src="#anh-chup" alt="ảnh"/></div>'))).toEqual([]);
  expect(dom3(composition('<div xmlns="http://www.w3.org/1999/xhtml"><a href="#anh-chup">ảnh</a></div>'))).toEqual([]);
});

test('a contained resource nobody points at still fails dom-3', () => {
  expect(dom3(composition('<div xmlns="http://www.w3.org/1999/xhtml"><img src="#khac" alt="ảnh"/></div>'))).toHaveLength(1);
});

describe('slicing by item.resolve()', () => {
  const profile = testProfile('List', 'list-by-target', [
    { id: 'List.entry', path: 'List.entry', slicing: { discriminator: [{ type: 'type', path: 'item.resolve()' }], rules: 'closed' } },
    { id: 'List.entry:chanDoan', path: 'List.entry', sliceName: 'chanDoan', min: 1, max: '1' },
    { id: 'List.entry:chanDoan.item', path: 'List.entry.item', type: [{ code: 'Reference', targetProfile: ['http://hl7.org/fhir/StructureDefinition/Condition'] }] },
    { id: 'List.entry:ketQua', path: 'List.entry', sliceName: 'ketQua', min: 0, max: '*' },
    { id: 'List.entry:ketQua.item', path: 'List.entry.item', type: [{ code: 'Reference', targetProfile: ['http://hl7.org/fhir/StructureDefinition/Observation'] }] },
  ]);
  const condition = (id: string) => ({ resourceType: 'Condition', id, subject: { reference: 'Patient/bn1' } });
  const list = (entries: string[], contained: Record<string, unknown>[]) => ({
    resourceType: 'List',
    status: 'current',
    mode: 'working',
    contained,
    entry: entries.map((r) => ({ item: { reference: r } })),
  });
  const errors = (r: Record<string, unknown>) =>
    withConformanceResources([profile], () => validateResource(r, { profiles: [profile.url!] })).filter((i) => i.severity === 'error').map((i) => i.diagnostics);

  it('puts each entry in the slice of the type its reference resolves to', () => {
    expect(errors(list(['#c1', 'Observation/xn1'], [condition('c1')]))).toEqual([]);
  });
  it('counts the slices: two Conditions overflow a max-1 slice', () => {
    expect(errors(list(['#c1', '#c2'], [condition('c1'), condition('c2')]))).toEqual([expect.stringMatching(/chanDoan: max allowed = 1, but found 2/)]);
  });
});

test("a profile's invariant inside a contained resource sees that resource as %resource and its type as %context", () => {
  const profile = testProfile('Patient', 'patient-contained-gp', [
    { id: 'Patient.contained', path: 'Patient.contained', type: [{ code: 'Practitioner' }] },
    {
      id: 'Patient.contained.name',
      path: 'Patient.contained.name',
      constraint: [{ key: 'gp-1', severity: 'error', human: 'context', expression: "%context.type().name = 'HumanName' and %resource.type().name = 'Practitioner' and %rootResource.type().name = 'Patient'" }],
    },
  ]);
  const patient = { resourceType: 'Patient', contained: [{ resourceType: 'Practitioner', id: 'bs', name: [{ text: 'BS. Lê Văn C' }] }], generalPractitioner: [{ reference: '#bs' }] };
  const issues = withConformanceResources([profile], () => validateResource(patient, { profiles: [profile.url!] }));
  expect(issues.filter((i) => i.severity === 'error')).toEqual([]);
});
