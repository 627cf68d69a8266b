import type { Address, CodeableConcept, Coding, ContactPoint, HumanName, Quantity } from 'fhir/r4';
import { issue, type Issue } from '../../fhir/outcome';
import { splitWords } from '../../fhir/text';
import { compact } from './compact';
import { codeV2, translateV2 } from './tables';

/**
 * HL7 v2 data types → FHIR data types. A `Rep` is one repetition of a field:
 * `rep[component - 1][subcomponent - 1]`. Functions return undefined for empty input so
 * mappers can leave elements out rather than write empty ones.
 */
export type Rep = string[][];

/** Component n (1-based), first subcomponent unless asked; `""` (HL7 explicit null) reads as empty. */
export function c(rep: Rep | undefined, n: number, sub = 1): string {
  const v = rep?.[n - 1]?.[sub - 1] ?? '';
  return v === '""' ? '' : v.trim();
}

const TS = /^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\.\d{1,4})?([+-]\d{4})?$/;

/**
 * DTM/TS → FHIR date or dateTime. Source clocks are local: a time without an offset gets
 * `defaultOffset` (Vietnam, +07:00). Hours without minutes are not a FHIR precision, so
 * they widen to the date. Invalid input adds an Issue at `where` and yields undefined.
 */
export function dateTime(value: string, where: string, issues: Issue[], defaultOffset = '+07:00'): string | undefined {
  const v = value.trim();
  if (!v || v === '""') return undefined;
  const m = TS.exec(v);
  const bad = () => {
    issues.push(issue('warning', 'value', `'${v}' is not an HL7 date/time`, where));
    return undefined;
  };
  if (!m) return bad();
  const [, y, mo, d, h, mi, s, frac, tz] = m;
  if ((mo && (+mo < 1 || +mo > 12)) || (d && (+d < 1 || +d > 31)) || (h && +h > 23) || (mi && +mi > 59) || (s && +s > 59)) return bad();
  let out = y!;
  if (mo) out += `-${mo}`;
  if (mo && d) out += `-${d}`;
  if (!(mo && d && h && mi)) return out;
  const offset = tz ? `${tz.slice(0, 3)}:${tz.slice(3)}` : defaultOffset;
  return `${out}T${h}:${mi}:${s ?? '00'}${s && frac ? frac : ''}${offset}`;
}

/** The date part only (birth dates). */
export function date(value: string, where: string, issues: Issue[]): string | undefined {
  return dateTime(value, where, issues)?.slice(0, 10);
}

/** A v2 coding-system name → FHIR system URI; HL7 tables by number, OIDs as URNs. */
export function systemUri(name: string): string | undefined {
  if (!name) return undefined;
  const table = /^HL7(\d{4})$/i.exec(name);
  if (table) return `http://terminology.hl7.org/CodeSystem/v2-${table[1]}`;
  if (/^\d+(\.\d+)+$/.test(name)) return `urn:oid:${name}`;
  return codeV2('v2-0396-to-uri', name);
}

// Hot paths build objects by assignment: conditional object spreads cost microseconds each.
function coding(code: string, display: string, system: string): Coding | undefined {
  if (!code) return undefined;
  const out: Coding = {};
  const uri = systemUri(system);
  if (uri) out.system = uri;
  out.code = code;
  if (display) out.display = display;
  return out;
}

/** CE/CWE/CNE: primary and alternate codings, text from the original text or the first display. */
export function concept(rep: Rep | undefined): CodeableConcept | undefined {
  if (!rep) return undefined;
  const codings: Coding[] = [];
  const primary = coding(c(rep, 1), c(rep, 2), c(rep, 3));
  if (primary) codings.push(primary);
  const alternate = coding(c(rep, 4), c(rep, 5), c(rep, 6));
  if (alternate) codings.push(alternate);
  const text = c(rep, 9) || c(rep, 2) || c(rep, 5) || (codings.length ? '' : c(rep, 1));
  if (!codings.length && !text) return undefined;
  const out: CodeableConcept = {};
  if (codings.length) out.coding = codings;
  if (text) out.text = text;
  return out;
}

/** XPN. Vietnamese names arrive family-first (`NGUYEN^VAN A`), which is XPN's own order. */
export function humanName(rep: Rep): HumanName | undefined {
  const family = c(rep, 1);
  // XPN.2 given and XPN.3 second names, one word per HumanName.given entry as the claim mapper writes them.
  const given = [c(rep, 2), c(rep, 3)].flatMap((g) => splitWords(g));
  if (!family && !given.length) return undefined;
  const prefix = c(rep, 5);
  return compact<HumanName>({
    use: codeV2('v2-0200-to-name-use', c(rep, 7)) as HumanName['use'],
    text: [family, ...given].filter(Boolean).join(' '),
    family,
    given,
    prefix: prefix ? [prefix] : undefined,
    suffix: [c(rep, 4), c(rep, 6)].filter(Boolean),
  });
}

/** XAD. Vietnamese addresses: street, ward (other designation), district/city, province. */
export function address(rep: Rep): Address | undefined {
  const a = compact<Address>({
    use: codeV2('v2-0190-to-address-use', c(rep, 7)) as Address['use'],
    line: [c(rep, 1), c(rep, 2)].filter(Boolean),
    city: c(rep, 3),
    district: c(rep, 9),
    state: c(rep, 4),
    postalCode: c(rep, 5),
    country: c(rep, 6),
  });
  const keys = Object.keys(a);
  return keys.length === 0 || (keys.length === 1 && a.use) ? undefined : a;
}

/** XTN: the email for Internet equipment, else the number from its parts or the legacy string. */
export function contactPoint(rep: Rep): ContactPoint | undefined {
  const equipment = c(rep, 3);
  const system = codeV2('v2-0202-to-contact-point-system', equipment) as ContactPoint['system'];
  const number = [c(rep, 5) && `+${c(rep, 5)}`, c(rep, 6), c(rep, 7)].filter(Boolean).join(' ');
  // XTN-12 is the unformatted number some senders put in place of XTN-1.
  const value = system === 'email' ? c(rep, 4) || c(rep, 1) : c(rep, 1) || c(rep, 12) || number || c(rep, 4);
  if (!value) return undefined;
  const use = codeV2('v2-0201-to-contact-point-use', c(rep, 2)) as ContactPoint['use'];
  return compact<ContactPoint>({ system: system ?? (value.includes('@') ? 'email' : 'phone'), value, use });
}

/** A decimal as HL7 NM writes it (sign, digits, one point). */
export const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)$/;

/**
 * CQ (amount ^ units: TQ1-2, OBR-9, SPM-12) → Quantity, or undefined when the amount is not a
 * number. The units are a CWE inside one component, so its code, text and system are subcomponents.
 */
export function cqQuantity(cq: Rep | undefined): Quantity | undefined {
  const v = c(cq, 1);
  return NUMBER.test(v) ? quantity(Number(v), cq?.[1]?.map((sub) => [sub])) : undefined;
}

/** A number with its OBX-6 unit: UCUM when the source says so or the unit is a known spelling. */
export function quantity(value: number, unit: Rep | undefined, comparator?: Quantity['comparator']): Quantity {
  const q: Quantity = { value };
  if (comparator) q.comparator = comparator;
  const code = c(unit, 1);
  const text = c(unit, 2) || code;
  if (!text) return q;
  q.unit = text;
  const declaredUcum = /^(UCUM|ISO\+|ANSI\+)$/i.test(c(unit, 3));
  const ucum = declaredUcum ? code : translateV2('v2-units-to-ucum', code.toUpperCase())?.code;
  if (ucum) {
    q.system = 'http://unitsofmeasure.org';
    q.code = ucum;
  }
  return q;
}

/** A v2 code given without its table: its first coding is put in `system` (the table the field is bound to). */
export function withSystem(cc: CodeableConcept | undefined, system: string): CodeableConcept | undefined {
  const first = cc?.coding?.[0];
  if (first && !first.system) first.system = system;
  return cc;
}

/** Adds minutes to a FHIR dateTime that has a time and an offset, keeping the offset; undefined for a bare date. */
export function addMinutes(dt: string | undefined, minutes: number): string | undefined {
  const m = dt && /T.*([+-]\d{2}):(\d{2})$/.exec(dt);
  if (!dt || !m) return undefined;
  const t = Date.parse(dt);
  if (Number.isNaN(t)) return undefined;
  const offset = (m[1]!.startsWith('-') ? -1 : 1) * (Math.abs(Number(m[1])) * 60 + Number(m[2]));
  return `${new Date(t + (minutes + offset) * 60_000).toISOString().slice(0, 19)}${m[1]}:${m[2]}`;
}
