import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CodeSystem } from 'fhir/r4';
import { defaultProfilesDir } from '../../src/fhir/conceptmap';
import { fhirDate, identifierKind, outcomeOf, portalBirthDate } from '../../src/lookup/map';

describe('lookup mapping (pure)', () => {
  it('every maKetQua the portal documents has an outcome in the ConceptMap', () => {
    const cs = JSON.parse(readFileSync(join(defaultProfilesDir(), 'CodeSystem-vn-vss-card-lookup-result.json'), 'utf8')) as CodeSystem;
    const mapped = new Map(cs.concept!.map((c) => [c.code, outcomeOf(c.code)]));
    expect(mapped.size).toBe(26);
    expect([...mapped].filter(([, o]) => o === 'in-force').map(([c]) => c).sort()).toEqual(['000', '004']);
    expect([...mapped].filter(([, o]) => o === 'upstream-failure').map(([c]) => c).sort()).toEqual(['100', '101']);
    expect(outcomeOf('999')).toBe('upstream-failure'); // an unknown code is not a verdict on the card
  });

  it('dates both ways, partial birth dates kept partial', () => {
    expect(['1985-03-15', '1985-03', '1985'].map(portalBirthDate)).toEqual(['15/03/1985', '03/1985', '1985']);
    expect(['15/03/1985', '03/1985', '1985', '31/02/1985', '1985-03-15', ''].map(fhirDate)).toEqual(['1985-03-15', '1985-03', '1985', undefined, undefined, undefined]);
  });

  it('identifier shapes', () => {
    expect(['079085000123', 'HC4790123456789', '0123456789', 'HC6790123456789', '07908500012'].map(identifierKind)).toEqual(['cccd', 'bhyt', 'bhxh', undefined, undefined]);
  });
});
