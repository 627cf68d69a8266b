/**
 * A direct evaluator for the plain invariants that make up a third of the R4 set: paths tested
 * with exists()/empty()/hasValue(), combined with and/or/xor/implies/not() — e.g. dom-2
 * `contained.contained.empty()`, qty-3 `code.empty() or system.exists()`. On plain JSON these
 * are a few property reads, against microseconds through the general FHIRPath engine. Anything
 * outside this grammar returns undefined and stays with fhirpath; a test checks that both agree
 * over the R4 examples.
 */
export type FastCheck = (value: unknown) => boolean;

type Node = (v: unknown) => boolean;

const TOKEN = /\s*(`[^`]+`|[A-Za-z_][A-Za-z0-9_]*|\(\)|[().])/y;

function tokenize(src: string): string[] | undefined {
  const out: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < src.length) {
    const start = TOKEN.lastIndex;
    const m = TOKEN.exec(src);
    if (!m) return /^\s*$/.test(src.slice(start)) ? out : undefined;
    out.push(m[1]!.startsWith('`') ? m[1]!.slice(1, -1) : m[1]!);
  }
  return out;
}

/** Items reached by a path of property names from one JSON value (arrays flattened). */
function reach(v: unknown, path: string[], choiceBases: Set<string>): unknown[] {
  let items: unknown[] = [v];
  for (const name of path) {
    const next: unknown[] = [];
    for (const it of items) {
      if (typeof it !== 'object' || it === null) continue;
      const o = it as Record<string, unknown>;
      let x = o[name];
      if (x === undefined && choiceBases.has(name)) {
        for (const k in o) {
          if (k.length > name.length && k.startsWith(name) && k.charCodeAt(name.length) >= 65 && k.charCodeAt(name.length) <= 90) x = o[k];
        }
      }
      // a primitive with only extensions (`_name`) still exists as an element
      if (x === undefined || x === null) x = o[`_${name}`] === undefined ? undefined : { extensionOnly: true };
      if (x === undefined || x === null) continue;
      if (Array.isArray(x)) {
        for (const y of x) if (y !== null && y !== undefined) next.push(y);
      } else next.push(x);
    }
    items = next;
  }
  return items;
}

function hasValue(items: unknown[]): boolean {
  if (items.length !== 1) return false;
  const t = typeof items[0];
  return t === 'string' || t === 'number' || t === 'boolean';
}

export function compileFast(expression: string, choiceBases: Set<string>): FastCheck | undefined {
  const toks = tokenize(expression);
  if (!toks) return undefined;
  let i = 0;
  const peek = () => toks[i];
  const fail = (): never => {
    throw new Error('not fast');
  };
  const notSuffix = (n: Node): Node => {
    let out = n;
    while (peek() === '.' && toks[i + 1] === 'not' && toks[i + 2] === '()') {
      i += 3;
      const inner = out;
      out = (v) => !inner(v);
    }
    return out;
  };
  const primary = (): Node => {
    if (peek() === '(') {
      i++;
      const e = implies();
      if (peek() !== ')') fail();
      i++;
      return notSuffix(e);
    }
    const path: string[] = [];
    for (;;) {
      const t = peek();
      if (!t || !/^[A-Za-z_]/.test(t) || ['and', 'or', 'xor', 'implies'].includes(t)) fail();
      if (path.length > 0 && choiceBases.has(t)) fail(); // nested choice names: leave to fhirpath
      i++;
      if (peek() !== '.') fail();
      i++;
      const fn = peek();
      if ((fn === 'exists' || fn === 'empty' || fn === 'hasValue') && toks[i + 1] === '()') {
        path.push(t);
        i += 2;
        const p = path.slice();
        const node: Node =
          fn === 'exists' ? (v) => reach(v, p, choiceBases).length > 0 : fn === 'empty' ? (v) => reach(v, p, choiceBases).length === 0 : (v) => hasValue(reach(v, p, choiceBases));
        return notSuffix(node);
      }
      path.push(t);
    }
  };
  const and = (): Node => {
    let l = primary();
    while (peek() === 'and') {
      i++;
      const a = l;
      const b = primary();
      l = (v) => a(v) && b(v);
    }
    return l;
  };
  const or = (): Node => {
    let l = and();
    while (peek() === 'or' || peek() === 'xor') {
      const op = toks[i++];
      const a = l;
      const b = and();
      l = op === 'or' ? (v) => a(v) || b(v) : (v) => a(v) !== b(v);
    }
    return l;
  };
  const implies = (): Node => {
    let l = or();
    while (peek() === 'implies') {
      i++;
      const a = l;
      const b = or();
      l = (v) => !a(v) || b(v);
    }
    return l;
  };
  try {
    const n = implies();
    return i === toks.length ? n : undefined;
  } catch {
    return undefined;
  }
}
