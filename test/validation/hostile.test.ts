import { validateResource, warmUpValidator } from '../../src/validation';

/** Hostile input gets issues in bounded time: never a throw, a hang or a stack overflow. */
function timed(resource: unknown) {
  const t = process.hrtime.bigint();
  const issues = validateResource(resource);
  return { issues, ms: Number(process.hrtime.bigint() - t) / 1e6 };
}

describe('hostile input', () => {
  beforeAll(() => validateResource({ resourceType: 'Questionnaire', status: 'draft' }));

  it('10,000-deep nesting', () => {
    let item: Record<string, unknown> = { linkId: 'x', type: 'group' };
    for (let i = 0; i < 10000; i++) item = { linkId: `l${i}`, type: 'group', item: [item] };
    const { issues, ms } = timed({ resourceType: 'Questionnaire', status: 'draft', item: [item] });
    expect(issues.some((i) => i.code === 'too-costly')).toBe(true);
    expect(ms).toBeLessThan(2000);
  });

  it('deeply nested unknown objects', () => {
    let o: unknown = {};
    for (let i = 0; i < 10000; i++) o = { a: o };
    const { issues, ms } = timed({ resourceType: 'Patient', foo: o });
    expect(issues.map((i) => i.expression)).toContain('Patient.foo');
    expect(ms).toBeLessThan(3000);
  });

  it('huge arrays and strings', () => {
    const { issues, ms } = timed({ resourceType: 'Patient', name: Array.from({ length: 100000 }, () => ({ given: ['x'] })), id: 'a'.repeat(2_000_000) });
    expect(issues.filter((i) => i.severity === 'error').map((i) => i.expression)).toEqual(['Patient.id']);
    expect(ms).toBeLessThan(5000);
  });

  it('caps the number of issues', () => {
    const { issues } = timed({ resourceType: 'Patient', name: Array.from({ length: 5000 }, () => ({ given: [''] })) });
    expect(issues.length).toBeLessThanOrEqual(1002);
    expect(issues.some((i) => i.code === 'too-costly')).toBe(true);
  });

  it('regex-hostile primitives: line-broken bad base64, long near-miss dates', () => {
    const b64 = `${'QUJD\n'.repeat(40)}!`;
    const { issues, ms } = timed({ resourceType: 'Binary', contentType: 'text/plain', data: b64 });
    expect(issues.map((i) => i.expression)).toEqual(['Binary.data']);
    // the published pattern doubles its time with every line: 40 lines would take hours
    expect(ms).toBeLessThan(3000);
    const r2 = timed({ resourceType: 'Patient', birthDate: '1'.repeat(100000), telecom: [{ system: 'email', value: 'a', use: `${'a '.repeat(50000)}!` }] });
    expect(r2.issues.length).toBeGreaterThan(0);
    expect(r2.ms).toBeLessThan(3000);
  });

  it('invalid JSON types everywhere', () => {
    for (const bad of [0, 'x', true, [], [{}], { resourceType: 5 }, { resourceType: 'Patient', name: [null] }, { resourceType: 'Patient', meta: [] }]) {
      const { issues } = timed(bad);
      expect(issues.some((i) => i.severity === 'error')).toBe(true);
    }
  });

  it('unknown resource type and profiles that do not exist', () => {
    expect(timed({ resourceType: '__proto__' }).issues[0]!.severity).toBe('error');
    expect(timed({ resourceType: 'constructor' }).issues[0]!.severity).toBe('error');
    const issues = validateResource({ resourceType: 'Patient' }, { profiles: ['http://example.org/missing'] });
    expect(issues.some((i) => i.severity === 'error' && i.diagnostics.includes('http://example.org/missing'))).toBe(true);
  });
});

describe('warm-up', () => {
  it('compiles ahead of time and reports the time spent', () => {
    const ms = warmUpValidator(['Patient', 'Observation']);
    expect(ms).toBeGreaterThanOrEqual(0);
    expect(validateResource({ resourceType: 'Observation', status: 'final', code: { text: 'x' } }).filter((i) => i.severity === 'error')).toEqual([]);
  });
});
