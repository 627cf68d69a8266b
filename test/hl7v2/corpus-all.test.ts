import { readFileSync } from 'node:fs';
import type { Bundle, FhirResource } from 'fhir/r4';
import { convertHl7v2Batch } from '../../src/ingest/hl7v2';
import { messageDef } from '../../src/ingest/hl7v2/messages';
import { validateResource } from '../../src/validation';
import { CONVERTER, HL7V2, walk } from './corpus';

// Every HL7 v2 message in the shared corpora, loaded once: what converts, what is refused, what
// the validator rejects. Refusals are allowed only for types no mapping covers (ACK) and for
// messages the intake must refuse (no patient identifier, broken headers).

function errorsOf(b: Bundle): string[] {
  return (b.entry ?? []).map((e) => e.resource as FhirResource)
    .flatMap((r) => validateResource(r).filter((i) => i.severity === 'error' || i.severity === 'fatal').map((i) => `${r.resourceType} ${i.expression ?? ''} ${i.diagnostics}`));
}

const files = [
  ...walk(CONVERTER, (p) => /\.hl7(v2)?$/.test(p)),
  ...walk(HL7V2, (p) => p.endsWith('.hl7') && !p.includes('Test/Message')),
];

test('every HL7 v2 message in the shared corpora converts to a valid Bundle', () => {
  let converted = 0;
  const refused: string[] = [];
  const refusedMapped: string[] = [];
  const invalid: string[] = [];
  for (const f of files) {
    for (const c of convertHl7v2Batch(readFileSync(f))) {
      const name = f.split('/').slice(-2).join('/');
      const errs = c.issues.filter((i) => i.severity === 'error');
      if (!c.bundle || errs.length) {
        refused.push(`${name} ${c.messageType} ${errs[0]?.expression ?? ''} ${errs[0]?.diagnostics ?? ''}`);
        if (c.message && messageDef(c.message)) refusedMapped.push(`${name} ${errs[0]?.expression ?? ''}`);
        continue;
      }
      converted++;
      const v = errorsOf(c.bundle);
      if (v.length) invalid.push(`${name} ${c.messageType}: ${v.slice(0, 3).join(' | ')}`);
    }
  }
  // The counts the README reports; a drop in `converted` shows up here before it shows up in a feed.
  console.log(`converted ${converted}, refused ${refused.length}, with validation errors ${invalid.length}`);
  // Of the types the registry lists, only messages the intake must refuse: a PID without identifier, a file without PID.
  expect(refusedMapped.sort()).toEqual(['CA/002_CA_ORU_R01.hl7 PID-3', 'extra/Hl7v2TestTimezoneInput.hl7v2 PID']);
  expect(invalid).toEqual([]);
  expect(converted).toBeGreaterThanOrEqual(362);
});
