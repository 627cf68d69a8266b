import type { StructureDefinition } from 'fhir/r4';

/**
 * How each FHIR primitive looks in JSON, and its lexical rule. The regexes come from the
 * `regex` extension on `<type>.value` in the R4 StructureDefinitions; the one for base64Binary
 * is replaced by a linear check because the published pattern `(\s*([0-9a-zA-Z\+/=]){4}\s*)+`
 * backtracks exponentially on line-broken input that does not match.
 */
export type JsonKind = 'string' | 'boolean' | 'number';

export interface PrimitiveRule {
  type: string;
  json: JsonKind;
  /** Integer-valued number types (integer, positiveInt, unsignedInt). */
  integer: boolean;
  min?: number;
  test: (lexical: string) => boolean;
}

const REGEX_EXT = 'http://hl7.org/fhir/StructureDefinition/regex';
/** Java's limit for a single primitive's text; beyond it no regex runs. */
export const MAX_PRIMITIVE_LENGTH = 1024 * 1024;

function base64Ok(s: string): boolean {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13) continue;
    const alnum = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
    if (!alnum && c !== 43 && c !== 47 && c !== 61) return false;
    n++;
  }
  return n % 4 === 0;
}

/** The spec's regexes are Java's, where \s is ASCII whitespace only (JS's also has U+00A0 etc.). */
function javaWhitespace(pattern: string): string {
  const ws = ' \\t\\n\\x0B\\f\\r';
  return pattern
    .replaceAll('[^\\s]', `[^${ws}]`)
    .replaceAll('\\s', `[${ws}]`)
    .replaceAll('\\S', `[^${ws}]`);
}

const JSON_KIND: Record<string, JsonKind> = { boolean: 'boolean', integer: 'number', positiveInt: 'number', unsignedInt: 'number', decimal: 'number' };

export function compilePrimitive(sd: StructureDefinition): PrimitiveRule {
  const type = sd.type;
  const json = JSON_KIND[type] ?? 'string';
  const integer = type === 'integer' || type === 'positiveInt' || type === 'unsignedInt';
  const min = type === 'positiveInt' ? 1 : type === 'unsignedInt' ? 0 : undefined;
  if (type === 'base64Binary') return { type, json, integer, test: base64Ok };
  const valueEl = sd.snapshot?.element.find((e) => e.path === `${type}.value`);
  const pattern = valueEl?.type?.[0]?.extension?.find((x) => x.url === REGEX_EXT)?.valueString;
  // string and markdown admit any text; emptiness and length are checked by the walk
  if (!pattern || json !== 'string' || type === 'string' || type === 'markdown') return { type, json, integer, min, test: () => true };
  const re = new RegExp(`^(?:${javaWhitespace(pattern)})$`);
  return { type, json, integer, min, test: (s) => re.test(s) };
}
