import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main';

const run = (args: string[]) => main(['validate', ...args]);

/** `fhir-gateway validate`: OperationOutcome on stdout, exit 0 / 1 / 2. */
async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = jest.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
  const e = jest.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
  try {
    return { code: await run(args), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

describe('validate command', () => {
  const dir = mkdtempSync(join(tmpdir(), 'validate-cli-'));
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };

  it('exits 0 on a valid resource, JSON or XML', async () => {
    const ok = await cli([file('ok.json', JSON.stringify({ resourceType: 'Patient', id: 'a', text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">A</div>' } }))]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.out).resourceType).toBe('OperationOutcome');
    const xml = await cli([file('ok.xml', '<Patient xmlns="http://hl7.org/fhir"><id value="a"/><gender value="male"/></Patient>')]);
    expect(xml.code).toBe(0);
  });

  it('exits 1 with the errors located', async () => {
    const bad = await cli([file('bad.json', JSON.stringify({ resourceType: 'Patient', gender: 'mail' }))]);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.out).issue[0]).toMatchObject({ severity: 'error', expression: ['Patient.gender'] });
    const broken = await cli([file('broken.json', '{"resourceType": "Patient",')]);
    expect(broken.code).toBe(1);
    expect(JSON.parse(broken.out).issue[0].severity).toBe('fatal');
    const xml = await cli([file('bad.xml', '<Patient xmlns="http://hl7.org/fhir"><gender value="x"/>')]);
    expect(xml.code).toBe(1);
  });

  it('refuses invalid UTF-8 with an offset', async () => {
    const bytes = Buffer.concat([Buffer.from('{"resourceType":"Patient","name":[{"family":"Nguy'), Buffer.from([0xc3, 0x28]), Buffer.from('n"}]}')]);
    writeFileSync(join(dir, 'latin.json'), bytes);
    const r = await cli([join(dir, 'latin.json')]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out).issue[0].diagnostics).toMatch(/not valid UTF-8 \(first bad byte at offset 49\)/);
    writeFileSync(join(dir, 'vi.json'), JSON.stringify({ resourceType: 'Patient', id: 'a', text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">Nguyễn Thị Ánh 𝔸</div>' } }));
    expect((await cli([join(dir, 'vi.json')])).code).toBe(0);
    writeFileSync(join(dir, 'cut.json'), Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xe1, 0xbb])]));
    expect(JSON.parse((await cli([join(dir, 'cut.json')])).out).issue[0].diagnostics).toContain('offset 6');
  });

  it('checks requested profiles', async () => {
    const r = await cli([file('p.json', JSON.stringify({ resourceType: 'Patient' })), '--profile', 'http://example.org/nowhere']);
    expect(r.code).toBe(1);
  });

  it('exits 2 on usage errors', async () => {
    expect((await cli([])).code).toBe(2);
    expect((await cli([join(dir, 'missing.json')])).code).toBe(2);
    expect((await cli(['a', 'b'])).code).toBe(2);
    expect((await cli([join(dir, 'ok.json'), '--profile'])).code).toBe(2);
    expect((await cli([join(dir, 'ok.json'), '--bogus'])).code).toBe(2);
  });
});
