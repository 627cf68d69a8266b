import { readdirSync, readFileSync, statSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { join, relative } from 'node:path';
import { examplesDir } from '../../src/fhir/definitions';
import { FhirError } from '../../src/fhir/outcome';
import { parseFhirXml, serializeFhirXml } from '../../src/fhir/xml';

const CASES = join(__dirname, '..', '..', '..', 'shared', 'corpora', 'fhir-test-cases');
const DEFINITION_BUNDLES = /^Bundle-(conceptmaps|dataelements|extensions|externals|profiles-others|registry|resources|searchParams|terminologies|types|v2-valuesets|v3-valuesets|valueset-expansions|valuesets)\.json$/;

function xmlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? xmlFiles(p) : f.endsWith('.xml') ? [p] : [];
  });
}

function rejects(xml: string): FhirError {
  try {
    parseFhirXml(xml);
  } catch (e) {
    expect(e).toBeInstanceOf(FhirError);
    return e as FhirError;
  }
  throw new Error('accepted');
}

describe('FHIR XML', () => {
  it('round-trips every R4 example JSON → XML → JSON unchanged', () => {
    const dir = examplesDir();
    const differing: string[] = [];
    let n = 0;
    for (const f of readdirSync(dir)) {
      if (!f.endsWith('.json') || f === 'package.json' || DEFINITION_BUNDLES.test(f)) continue;
      const json = JSON.parse(readFileSync(join(dir, f), 'utf8')) as unknown;
      if (!isDeepStrictEqual(parseFhirXml(serializeFhirXml(json)), json)) differing.push(f);
      n++;
    }
    expect(n).toBeGreaterThan(5000);
    expect(differing).toEqual([]);
  });

  it('parses every FHIR XML file of the validator test suite (one is a deliberate bad-entity case)', () => {
    const failed: string[] = [];
    for (const f of xmlFiles(CASES)) {
      if (f.endsWith('tests-fhir-r4.xml')) continue; // the FHIRPath suite, not a resource
      try {
        parseFhirXml(readFileSync(f, 'utf8'));
      } catch {
        failed.push(relative(CASES, f));
      }
    }
    expect(failed).toEqual(['xml-bad-entities.xml']);
  });

  it('writes primitives with id and extensions, and keeps arrays aligned', () => {
    const p = {
      resourceType: 'Patient',
      id: 'p',
      name: [{ given: ['An', 'Bình'], _given: [null, { id: 'g2', extension: [{ url: 'http://x.org/e', valueCode: 'x' }] }] }],
      birthDate: '1980-02-03',
    };
    const xml = serializeFhirXml(p);
    expect(xml).toContain('<given id="g2" value="Bình"><extension url="http://x.org/e"><valueCode value="x"/></extension></given>');
    expect(parseFhirXml(xml)).toEqual(p);
  });

  it('refuses DTDs, entity declarations and undeclared entities with a location', () => {
    const bomb = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><Patient xmlns="http://hl7.org/fhir"><id value="&lol2;"/></Patient>';
    const e = rejects(bomb);
    expect(e.status).toBe(400);
    expect(e.issues[0]!.diagnostics).toMatch(/line 1, column 22: DTDs/);
    expect(rejects('<Patient xmlns="http://hl7.org/fhir"><id value="&nbsp;"/></Patient>').issues[0]!.diagnostics).toContain('undeclared entity');
  });

  it('reports malformed XML at its line and column', () => {
    const e = rejects('<Patient xmlns="http://hl7.org/fhir">\n  <id value="x">\n</Patient>');
    expect(e.issues[0]!.diagnostics).toMatch(/line 3, column 1/);
    expect(rejects('<Patient xmlns="http://hl7.org/fhir"><id value=x/></Patient>').status).toBe(400);
    expect(rejects('<Patient xmlns="urn:other"/>').issues[0]!.diagnostics).toContain('FHIR namespace');
    expect(rejects('<Dragon xmlns="http://hl7.org/fhir"/>').issues[0]!.diagnostics).toContain('Unknown resource type');
  });

  it('bounds nesting depth', () => {
    const deep = `<Patient xmlns="http://hl7.org/fhir">${'<extension url="u">'.repeat(10000)}${'</extension>'.repeat(10000)}</Patient>`;
    expect(rejects(deep).issues[0]!.diagnostics).toContain('nesting deeper');
  });
});
