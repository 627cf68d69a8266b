import type { Coding, ConceptMap } from 'fhir/r4';
import { translate } from '../../fhir/conceptmap';
import bundled from './conceptmaps.json';

/**
 * HL7 v2 table → FHIR code translation, as data. The ConceptMaps ship in `conceptmaps.json`
 * beside this file; one with the same canonical URL in `profiles/` takes precedence, so a
 * site can correct a mapping without touching code.
 */
export type V2Map =
  | 'v2-0001-to-administrative-gender'
  | 'v2-0004-to-encounter-class'
  | 'v2-adt-event-to-encounter-status'
  | 'v2-0078-to-observation-interpretation'
  | 'v2-0085-to-observation-status'
  | 'v2-0123-to-diagnostic-report-status'
  | 'v2-0038-to-request-status'
  | 'v2-0119-to-request-status'
  | 'v2-0027-to-request-priority'
  | 'v2-0278-to-appointment-status'
  | 'v2-siu-event-to-appointment-status'
  | 'v2-0063-to-contact-relationship'
  | 'v2-0396-to-uri'
  | 'v2-units-to-ucum'
  | 'v2-0200-to-name-use'
  | 'v2-0190-to-address-use'
  | 'v2-0201-to-contact-point-use'
  | 'v2-0202-to-contact-point-system';

const BASE = 'http://fhir.ehealth.gov.vn/core/ConceptMap/';
const inProfiles = new Map<string, boolean>();
const local = new Map<string, { target: string; codes: Map<string, string> }>();
for (const e of (bundled as { entry: { resource: ConceptMap }[] }).entry) {
  const g = e.resource.group![0]!;
  local.set(e.resource.url!, { target: g.target!, codes: new Map(g.element!.map((el) => [el.code!, el.target![0]!.code!])) });
}

export function translateV2(map: V2Map, code: string): Coding | undefined {
  if (!code) return undefined;
  const url = BASE + map;
  if (inProfiles.get(url) !== false) {
    try {
      const hit = translate(url, code);
      inProfiles.set(url, true);
      if (hit) return hit;
    } catch {
      // Not in profiles/: the bundled map answers from now on.
      inProfiles.set(url, false);
    }
  }
  const m = local.get(url)!;
  const target = m.codes.get(code) ?? m.codes.get(code.toUpperCase());
  return target === undefined ? undefined : { system: m.target, code: target };
}

export function codeV2(map: V2Map, code: string): string | undefined {
  return translateV2(map, code)?.code;
}

/**
 * A v2 code through one of the HL7 v2-to-FHIR IG's own code maps (generated into `profiles/`
 * by `npm run gen:hl7-conceptmaps`, named after the IG's sheet, e.g. `allergentype-allergyintolerancecategory`).
 * Undefined where the IG gives no FHIR code.
 */
export function translateIg(sheet: string, code: string): Coding | undefined {
  if (!code) return undefined;
  try {
    return translate(`http://fhir.ehealth.gov.vn/core/ConceptMap/v2-ig-${sheet}`, code) ?? translate(`http://fhir.ehealth.gov.vn/core/ConceptMap/v2-ig-${sheet}`, code.toUpperCase());
  } catch {
    return undefined;
  }
}
