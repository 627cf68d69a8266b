import fc from 'fast-check';

/**
 * Seeded mutations of a valid input: byte-level (flips, truncation, inserted NUL / control
 * characters / lone surrogates / huge fields) and structural, in the format's own terms (HL7
 * segments and fields, XML elements, JSON members with wrong types). Pure: the same case
 * always gives the same bytes, so a failing case is reproduced from its seed.
 */
export type Structure = 'hl7' | 'xml' | 'json' | 'binary';

const SPECIALS = ['\u0000', '\u0001', '\u001b', '\u007f', '\u001c', '\u000b', '\ud800', '\udfff', '\uffff', '\u202e'];
const WRONG_TYPES: unknown[] = [1, -1.5e308, true, null, 'x', [], {}, [1, 'a'], { a: { b: {} } }, '\u0000', '\ud800'];

export type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; what: string }
  | { kind: 'huge'; at: number; size: number }
  | { kind: 'structure'; at: number; op: 'drop' | 'duplicate' | 'wrongType' | 'special'; pick: number };

/**
 * Where in the input, as a fraction. An unbiased integer, not a double: doubles are drawn over
 * their representations, most of which lie near 0, and every mutation would land in the first header.
 */
const at = fc.noBias(fc.integer({ min: 0, max: 999_999 })).map((n) => n / 1_000_000);
export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at, bit: fc.nat(7) }),
  fc.record({ kind: fc.constant('truncate' as const), at }),
  fc.record({ kind: fc.constant('insert' as const), at, what: fc.constantFrom(...SPECIALS) }),
  fc.record({ kind: fc.constant('huge' as const), at, size: fc.constantFrom(1_000, 70_000, 1_000_000) }),
  fc.record({ kind: fc.constant('structure' as const), at, op: fc.constantFrom('drop' as const, 'duplicate' as const, 'wrongType' as const, 'special' as const), pick: fc.nat(WRONG_TYPES.length * SPECIALS.length) }),
  fc.record({ kind: fc.constant('structure' as const), at, op: fc.constantFrom('drop' as const, 'duplicate' as const, 'wrongType' as const, 'special' as const), pick: fc.nat(WRONG_TYPES.length * SPECIALS.length) }),
);

export const caseArb = (seeds: number) => fc.record({ seed: fc.nat(seeds - 1), mutations: fc.array(mutationArb, { minLength: 1, maxLength: 2 }) });

const pos = (len: number, f: number) => Math.min(len, Math.floor(f * (len + 1)));

function splice(text: string, unitRe: RegExp, m: Extract<Mutation, { kind: 'structure' }>, special: string): string {
  const units = [...text.matchAll(unitRe)];
  if (!units.length) return text;
  const u = units[pos(units.length - 1, m.at)]!;
  const s = u.index!, e = s + u[0].length;
  const replacement = m.op === 'drop' ? '' : m.op === 'duplicate' ? u[0] + u[0] : m.op === 'special' ? u[0].slice(0, 1) + special + u[0].slice(1) : u[0].replace(/[^|<>^~&\r]+/, '1.5e308');
  return text.slice(0, s) + replacement + text.slice(e);
}

/** Every place in a JSON value, as a path of keys. */
function paths(v: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (v && typeof v === 'object') {
    for (const [k, c] of Object.entries(v)) {
      const p = [...prefix, Array.isArray(v) ? Number(k) : k];
      out.push(p);
      if (out.length < 5000) paths(c, p, out);
    }
  }
  return out;
}

function mutateJson(text: string, m: Extract<Mutation, { kind: 'structure' }>): string {
  let doc: any;
  try {
    doc = JSON.parse(text);
  } catch {
    return text;
  }
  const all = paths(doc);
  if (!all.length) return text;
  const path = all[pos(all.length - 1, m.at)]!;
  const parent: any = path.slice(0, -1).reduce((o: any, k) => o[k], doc);
  const key = path[path.length - 1]!;
  const value: unknown = parent[key];
  if (m.op === 'drop') {
    if (typeof key === 'number') parent.splice(key, 1);
    else delete parent[key];
  } else if (m.op === 'duplicate') {
    if (typeof key === 'number') parent.splice(key, 0, structuredClone(value));
    else parent[key] = [value, value];
  }
  else if (m.op === 'wrongType') parent[key] = WRONG_TYPES[m.pick % WRONG_TYPES.length];
  else parent[key] = typeof parent[key] === 'string' ? parent[key] + SPECIALS[m.pick % SPECIALS.length] : SPECIALS[m.pick % SPECIALS.length];
  return JSON.stringify(doc);
}

export function mutate(input: Buffer, structure: Structure, mutations: Mutation[]): Buffer {
  let b = input;
  for (const m of mutations) {
    if (m.kind === 'flip') {
      if (!b.length) continue;
      b = Buffer.from(b);
      const i = pos(b.length - 1, m.at);
      b[i] = b[i]! ^ (1 << m.bit);
    } else if (m.kind === 'truncate') b = b.subarray(0, pos(b.length, m.at));
    else if (m.kind === 'insert') b = Buffer.concat([b.subarray(0, pos(b.length, m.at)), Buffer.from(m.what, structure === 'binary' ? 'latin1' : 'utf8'), b.subarray(pos(b.length, m.at))]);
    else if (m.kind === 'huge') b = Buffer.concat([b.subarray(0, pos(b.length, m.at)), Buffer.alloc(m.size, 'A'), b.subarray(pos(b.length, m.at))]);
    else if (structure === 'binary') b = Buffer.concat([b, b.subarray(pos(b.length, m.at))]); // a repeated tail: elements read twice, lengths past the end
    else {
      const special = SPECIALS[m.pick % SPECIALS.length]!;
      const text = b.toString('utf8');
      const out = structure === 'json' ? mutateJson(text, m) : structure === 'hl7' ? splice(text, m.op === 'drop' && m.pick % 2 ? /[^\r]*\r/g : /\|[^|\r]*/g, m, special) : splice(text, /<([A-Za-z_][\w.-]*)[^>]*>[^<]*<\/\1>/g, m, special);
      b = Buffer.from(out, 'utf8');
    }
  }
  return b;
}
