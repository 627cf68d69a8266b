import { dateRange, iso } from '../../fhir/dates';
import { badRequest } from '../../fhir/outcome';
import type { SearchParam } from '../../fhir/search-parameters';
import { normalizeText } from '../../fhir/text';
import { referenceTarget, splitPrefix, splitToken, unescapeValue, type Criterion, type Prefix, type SearchQuery, type SortKey } from './query';

/**
 * Parsed search → SQL. Every value is a bound parameter; identifiers in the SQL come only
 * from this file's own constants. Each criterion is an EXISTS over one index table, which
 * PostgreSQL turns into a semi-join on that table's (resource_type, param, value) index.
 */
export class Params {
  readonly values: unknown[] = [];
  add(v: unknown): string {
    this.values.push(v);
    return `$${this.values.length}`;
  }
}

const LIKE_ESCAPE = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

export function whereClause(q: SearchQuery, p: Params, alias = 'r'): string {
  const conds = [`${alias}.deleted = false`];
  if (q.type) conds.push(`${alias}.resource_type = ${p.add(q.type)}`);
  for (const c of q.criteria) conds.push(criterionSql(c, p, alias));
  if (q.facility !== undefined) {
    // Tagged with a facility, but not this one: left out (untagged resources are everyone's).
    const tagged = p.add(JSON.stringify({ meta: { tag: [{ system: q.facility.system }] } }));
    const own = p.add(JSON.stringify({ meta: { tag: [q.facility] } }));
    conds.push(`(NOT ${alias}.content @> ${tagged}::jsonb OR ${alias}.content @> ${own}::jsonb)`);
  }
  return conds.join(' AND ');
}

let aliasCounter = 0;
const nextAlias = (prefix: string) => `${prefix}${++aliasCounter % 1_000_000}`;

function exists(table: string, sp: SearchParam | string, p: Params, alias: string, cond: string | ((x: string) => string)): string {
  const x = nextAlias('x');
  const code = typeof sp === 'string' ? sp : sp.code;
  const c = typeof cond === 'string' ? cond : cond(x);
  return `EXISTS (SELECT 1 FROM sp_${table} ${x} WHERE ${x}.resource_type = ${alias}.resource_type AND ${x}.id = ${alias}.id AND ${x}.param = ${p.add(code)}${c ? ` AND (${c})` : ''})`;
}

export function criterionSql(c: Criterion, p: Params, alias: string): string {
  switch (c.kind) {
    case 'id': {
      const s = `${alias}.id = ANY(${p.add(c.values)}::text[])`;
      return c.not ? `NOT (${s})` : s;
    }
    case 'lastUpdated':
      return or(c.values.map((v) => rangeCond(v, `${alias}.last_updated`, `${alias}.last_updated + interval '1 millisecond'`, p)));
    case 'type':
      return `${alias}.resource_type = ANY(${p.add(c.types)}::text[])`;
    case 'missing': {
      if (c.sp === 'id' || c.sp === 'lastUpdated') return c.missing ? 'false' : 'true';
      const e = exists(c.sp.type, c.sp, p, alias, '');
      return c.missing ? `NOT ${e}` : e;
    }
    case 'chain': {
      const r2 = nextAlias('c');
      return exists('reference', c.sp, p, alias, (x) =>
        or(c.targetTypes.map((t, i) =>
          `${x}.target_type = ${p.add(t)} AND ${x}.target_id IN (SELECT ${r2}.id FROM resources ${r2} WHERE ${r2}.resource_type = ${p.add(t)} AND ${r2}.deleted = false AND ${criterionSql(c.inner[i]!, p, r2)})`,
        )),
      );
    }
    case 'has': {
      const h = nextAlias('h');
      const r2 = nextAlias('s');
      return `EXISTS (SELECT 1 FROM sp_reference ${h} JOIN resources ${r2} ON ${r2}.resource_type = ${h}.resource_type AND ${r2}.id = ${h}.id AND ${r2}.deleted = false
        WHERE ${h}.resource_type = ${p.add(c.sourceType)} AND ${h}.param = ${p.add(c.refParam.code)} AND ${h}.target_type = ${alias}.resource_type AND ${h}.target_id = ${alias}.id
        AND ${criterionSql(c.inner, p, r2)})`;
    }
    case 'param':
      return paramSql(c.sp, c.modifier, c.values, p, alias);
  }
}

function or(parts: string[]): string {
  return parts.length === 1 ? parts[0]! : `(${parts.map((x) => `(${x})`).join(' OR ')})`;
}

function paramSql(sp: SearchParam, modifier: string | undefined, values: string[], p: Params, alias: string): string {
  switch (sp.type) {
    case 'string':
      return exists('string', sp, p, alias, (x) =>
        or(values.map((raw) => {
          const v = unescapeValue(raw);
          // Whole values only: an empty value would otherwise hit the word rows (exact = '').
          if (modifier === 'exact') return v ? `${x}.exact = ${p.add(v)}` : 'false';
          const n = LIKE_ESCAPE(normalizeText(v));
          return modifier === 'contains' ? `${x}.norm LIKE ${p.add(`%${n}%`)}` : `${x}.norm LIKE ${p.add(`${n}%`)}`;
        })),
      );
    case 'token': {
      if (modifier === 'text') return exists('token', sp, p, alias, (x) => or(values.map((v) => `lower(${x}.display) LIKE ${p.add(`%${LIKE_ESCAPE(unescapeValue(v).toLowerCase())}%`)}`)));
      const match = (x: string) => or(values.map((v) => tokenCond(v, x, p, modifier)));
      // :not means "no value matches", which includes resources without the element.
      return modifier === 'not' ? `NOT ${exists('token', sp, p, alias, match)}` : exists('token', sp, p, alias, match);
    }
    case 'date':
      return exists('date', sp, p, alias, (x) => or(values.map((v) => rangeCond(v, `${x}.lo`, `${x}.hi`, p))));
    case 'number':
      return exists('number', sp, p, alias, (x) => or(values.map((v) => numberCond(v, `${x}.value`, p))));
    case 'quantity':
      return exists('quantity', sp, p, alias, (x) =>
        or(values.map((v) => {
          const [num, system, code] = v.split('|');
          const conds = [numberCond(num!, `${x}.value`, p)];
          if (system) conds.push(`${x}.system = ${p.add(system)}`);
          if (code) conds.push(`(${x}.code = ${p.add(code)} OR ${x}.unit = ${p.add(code)})`);
          return conds.join(' AND ');
        })),
      );
    case 'reference':
      if (modifier === 'identifier') return exists('token', `${sp.code}:identifier`, p, alias, (x) => or(values.map((v) => tokenCond(v, x, p, undefined))));
      return exists('reference', sp, p, alias, (x) => or(values.map((v) => referenceCond(sp, unescapeValue(v), modifier, x, p))));
    case 'uri':
      return exists('uri', sp, p, alias, (x) =>
        or(values.map((raw) => {
          const v = unescapeValue(raw);
          if (modifier === 'below') return `${x}.value LIKE ${p.add(`${LIKE_ESCAPE(v)}%`)}`;
          if (modifier === 'above') return `${p.add(v)} LIKE (replace(replace(replace(${x}.value, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%')`;
          return `${x}.value = ${p.add(v)}`;
        })),
      );
  }
}

/** `[system]|[code]`, `|code` (no system), `system|` (any code), `code` (any system). */
function tokenCond(raw: string, x: string, p: Params, modifier: string | undefined): string {
  const codeCond = (code: string) => {
    if (modifier === 'below') return `${x}.code LIKE ${p.add(`${LIKE_ESCAPE(code)}%`)}`;
    if (modifier === 'above') return `${p.add(code)} LIKE (${x}.code || '%')`;
    return `${x}.code = ${p.add(code)}`;
  };
  const { system, code } = splitToken(raw);
  if (system === undefined) return codeCond(code);
  const conds: string[] = [];
  conds.push(system === '' ? `${x}.system IS NULL` : `${x}.system = ${p.add(system)}`);
  if (code !== '') conds.push(codeCond(code));
  return conds.join(' AND ');
}

function referenceCond(sp: SearchParam, v: string, modifier: string | undefined, x: string, p: Params): string {
  // A bare id's type comes from the modifier, or is any allowed target.
  const t = referenceTarget(v, modifier);
  if (!t) throw badRequest(`'${v}' is not a valid reference for '${sp.code}'`, sp.code);
  if ('url' in t) return `${x}.url = ${p.add(t.url)}`;
  return `${x}.target_id = ${p.add(t.id)}${t.type ? ` AND ${x}.target_type = ${p.add(t.type)}` : ''}`;
}

/**
 * Range semantics of the spec: the search value is a range [plo, phi) as wide as its precision,
 * the stored value a range [lo, hi); eq means "contained in", gt "extends above", and so on.
 */
function rangeCond(raw: string, lo: string, hi: string, p: Params): string {
  const [prefix, v] = splitPrefix(raw);
  const r = dateRange(v);
  if (!r) throw badRequest(`'${raw}' is not a valid date`);
  // Parameters are bound only when used: PostgreSQL rejects a statement with an untyped unused one.
  const pl = () => `${p.add(iso(r.lo))}::timestamptz`;
  const ph = () => `${p.add(iso(r.hi))}::timestamptz`;
  // lo < hi, so "contained in [pl, ph)" also bounds lo above; saying so lets the planner use
  // the lo index as a closed range instead of guessing at two open-ended conditions.
  const eq = () => {
    const a = pl();
    const b = ph();
    return `(${lo} >= ${a} AND ${lo} < ${b} AND ${hi} <= ${b})`;
  };
  switch (prefix) {
    case 'eq':
      return eq();
    case 'ne':
      return `NOT ${eq()}`;
    case 'gt':
      return `${hi} > ${ph()}`;
    case 'lt':
      return `${lo} < ${pl()}`;
    case 'ge':
      return `(${hi} > ${ph()} OR ${eq()})`;
    case 'le':
      return `(${lo} < ${pl()} OR ${eq()})`;
    case 'sa':
      return `${lo} >= ${ph()}`;
    case 'eb':
      return `${hi} <= ${pl()}`;
    case 'ap': {
      // "approximately": within 10% of the distance between the value and now, at least a day.
      const d = Math.max(86_400_000, Math.abs(Date.now() - r.lo) * 0.1);
      return `(${lo} < ${p.add(iso(r.hi + d))}::timestamptz AND ${hi} > ${p.add(iso(r.lo - d))}::timestamptz)`;
    }
  }
}

/** Numbers carry implicit precision: `100` means [99.5, 100.5), `1e2` the same. */
function numberCond(raw: string, col: string, p: Params): string {
  const [prefix, v] = splitPrefix(raw) as [Prefix, string];
  const n = Number(v);
  const decimals = (v.split(/[eE]/)[0]!.split('.')[1] ?? '').length;
  const exp = Number(v.split(/[eE]/)[1] ?? 0);
  const half = 0.5 * 10 ** (exp - decimals);
  const val = () => `${p.add(n)}::numeric`;
  switch (prefix) {
    case 'eq':
      return `(${col} >= ${p.add(n - half)} AND ${col} < ${p.add(n + half)})`;
    case 'ne':
      return `NOT (${col} >= ${p.add(n - half)} AND ${col} < ${p.add(n + half)})`;
    case 'gt':
    case 'sa':
      return `${col} > ${val()}`;
    case 'lt':
    case 'eb':
      return `${col} < ${val()}`;
    case 'ge':
      return `${col} >= ${val()}`;
    case 'le':
      return `${col} <= ${val()}`;
    case 'ap':
      return `(${col} >= ${p.add(n - Math.abs(n) * 0.1)} AND ${col} <= ${p.add(n + Math.abs(n) * 0.1)})`;
  }
}

const SORT_COLUMN: Record<string, [table: string, asc: string, desc: string]> = {
  // Whole values only: the word rows of a name (exact = '') would sort "Thị Thu Hương" under "huong".
  string: ['string', "min(s.norm) FILTER (WHERE s.exact <> '')", "max(s.norm) FILTER (WHERE s.exact <> '')"],
  token: ['token', 'min(s.code)', 'max(s.code)'],
  date: ['date', 'min(s.lo)', 'max(s.hi)'],
  number: ['number', 'min(s.value)', 'max(s.value)'],
  quantity: ['quantity', 'min(s.value)', 'max(s.value)'],
  reference: ['reference', 'min(s.target_id)', 'max(s.target_id)'],
  uri: ['uri', 'min(s.value)', 'max(s.value)'],
};

/** ORDER BY for `_sort`, always ending in the id so pages are stable. */
export function orderBy(sort: SortKey[], p: Params, alias = 'r'): string {
  const keys = sort.map((k) => {
    const dir = k.desc ? 'DESC' : 'ASC';
    if (k.param === '_id') return `${alias}.id ${dir}`;
    if (k.param === '_lastUpdated') return `${alias}.last_updated ${dir}`;
    const [table, asc, desc] = SORT_COLUMN[k.param.type]!;
    return `(SELECT ${k.desc ? desc : asc} FROM sp_${table} s WHERE s.resource_type = ${alias}.resource_type AND s.id = ${alias}.id AND s.param = ${p.add(k.param.code)}) ${dir} NULLS LAST`;
  });
  if (sort.length === 0) keys.push(`${alias}.last_updated ASC`);
  keys.push(`${alias}.id ASC`);
  return keys.join(', ');
}
