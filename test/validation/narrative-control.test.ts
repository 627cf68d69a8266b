import type { ElementDefinition, StructureDefinition } from 'fhir/r4';
import { validateResource, withConformanceResources } from '../../src/validation';
import { testProfile } from '../helpers/profiles';

/** Profiles that set narrative rules on Patient.text, or name a type profile nobody has. */
const profile = (slug: string, element: ElementDefinition) => testProfile('Patient', slug, [element]);
const languageControl = (code: string) =>
  profile(`lang-${code.replace('_', '')}`, { id: 'Patient.text', path: 'Patient.text', extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/narrative-language-control', valueCode: code }] });
const sourceControl = profile('source', { id: 'Patient.text', path: 'Patient.text', extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/narrative-source-control', valueCode: 'error' }] });

const XHTML = 'xmlns="http://www.w3.org/1999/xhtml"';
const plain = `<div ${XHTML}>Nguyễn Văn A</div>`;
const twoLanguages = `<div ${XHTML}><div lang="vi" xml:lang="vi">Bệnh nhân</div><div lang="en" xml:lang="en">Patient</div></div>`;

function errors(sd: StructureDefinition, patient: Record<string, unknown>): string[] {
  return withConformanceResources([sd], () => validateResource({ resourceType: 'Patient', ...patient }, { profiles: [sd.url] }))
    .filter((i) => i.severity === 'error')
    .map((i) => `${i.expression ?? ''}: ${i.diagnostics}`);
}
const narrative = (div: string) => ({ text: { status: 'generated', div } });

describe('narrative-language-control', () => {
  it('_no: language sections are refused, plain narrative is fine', () => {
    expect(errors(languageControl('_no'), narrative(plain))).toEqual([]);
    expect(errors(languageControl('_no'), narrative(twoLanguages))).toEqual([expect.stringMatching(/^Patient\.text: .*language sections \(en, vi\).*prohibited/)]);
  });
  it('_yes: language sections are required', () => {
    expect(errors(languageControl('_yes'), narrative(twoLanguages))).toEqual([]);
    expect(errors(languageControl('_yes'), narrative(plain))).toEqual([expect.stringMatching(/no language sections.*required/)]);
  });
  it("_resource: a section in the resource's own language is required", () => {
    expect(errors(languageControl('_resource'), { language: 'vi', ...narrative(twoLanguages) })).toEqual([]);
    expect(errors(languageControl('_resource'), { language: 'fr', ...narrative(twoLanguages) })).toEqual([expect.stringMatching(/resource language \(fr\)/)]);
  });
});

describe('narrative-source-control', () => {
  it('every top-level part needs a boilerplate, generated or original class', () => {
    expect(errors(sourceControl, narrative(`<div ${XHTML}><p class="generated">Tóm tắt</p><h1 class="boilerplate x">Tiêu đề</h1></div>`))).toEqual([]);
    const e = errors(sourceControl, narrative(`<div ${XHTML}>Loose text<p class="original">ok</p><p>No class here</p></div>`));
    expect(e).toHaveLength(2);
    expect(e[0]).toMatch(/'Loose text' does not have a class attribute/);
    expect(e[1]).toMatch(/'No class here' does not have a class attribute/);
  });
});

describe('type profiles that cannot be found', () => {
  const sd = profile('unknown-type-profile', { id: 'Patient.identifier', path: 'Patient.identifier', type: [{ code: 'Identifier', profile: ['http://example.org/StructureDefinition/missing-identifier'] }] });
  it('are an error where the element is present, reported once', () => {
    expect(errors(sd, {})).toEqual([]);
    expect(errors(sd, { identifier: [{ value: '1' }] })).toEqual(['Patient.identifier[0]: Unknown profile http://example.org/StructureDefinition/missing-identifier']);
  });
});
