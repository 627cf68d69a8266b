import { validateResource } from '../../src/validation';

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
