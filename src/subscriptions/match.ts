import { normalizeText } from '../fhir/text';
import type { IndexRows } from '../store/index-rows';
import { referenceTarget, splitToken, unescapeValue, type Criterion, type SearchQuery } from '../store/search/query';

/**
 * Does a just-written resource meet a Subscription's criteria? Decided from the index rows the
 * writer computed for it, without a query, for the criteria subscriptions mostly use: tokens
 * (`identifier`, `status`, `code`), references (`owner`, `subject`, with a type modifier or
 * `:identifier`), strings, URIs and `_id`. Each rule mirrors the search's SQL (store/search/sql.ts)
 * so a notification goes out exactly when the search would list the resource. Anything else
 * (dates, quantities, chains, `_has`, `:missing`, `:text`, `:above`/`:below`) is `undefined`:
 * the caller asks the database.
 */
export function matchInMemory(q: SearchQuery, id: string, rows: IndexRows): boolean | undefined {
  let all = true;
  for (const c of q.criteria) {
    const m = criterion(c, id, rows);
    if (m === undefined) return undefined;
    all &&= m;
  }
  return all;
}

function criterion(c: Criterion, id: string, rows: IndexRows): boolean | undefined {
  if (c.kind === 'id') return c.values.includes(id) !== !!c.not;
  if (c.kind !== 'param') return undefined;
  const { sp, modifier, values } = c;
  switch (sp.type) {
    case 'token': {
      if (modifier !== undefined && modifier !== 'not') return undefined;
      const any = rows.token.some(([param, system, code]) => param === sp.code && values.some((v) => tokenMatches(v, system, code)));
      // :not means "no value matches", which includes resources without the element.
      return modifier === 'not' ? !any : any;
    }
    case 'reference': {
      if (modifier === 'identifier') {
        const param = `${sp.code}:identifier`;
        return rows.token.some(([p, system, code]) => p === param && values.some((v) => tokenMatches(v, system, code)));
      }
      if (modifier !== undefined && !/^[A-Z][A-Za-z]+$/.test(modifier)) return undefined;
      const targets = values.map((v) => referenceTarget(unescapeValue(v), modifier));
      if (targets.some((t) => t === undefined)) return undefined; // the search refuses it; let it say so
      return rows.reference.some(([param, type, targetId, url]) =>
        param === sp.code && targets.some((t) => ('url' in t! ? url === t.url : targetId === t!.id && (t!.type === undefined || type === t!.type))),
      );
    }
    case 'string': {
      if (modifier !== undefined && modifier !== 'exact' && modifier !== 'contains') return undefined;
      return rows.string.some(([param, norm, exact]) =>
        param === sp.code &&
        values.some((raw) => {
          const v = unescapeValue(raw);
          if (modifier === 'exact') return v !== '' && exact === v;
          const n = normalizeText(v);
          return modifier === 'contains' ? norm.includes(n) : norm.startsWith(n);
        }),
      );
    }
    case 'uri':
      if (modifier !== undefined) return undefined;
      return rows.uri.some(([param, value]) => param === sp.code && values.some((v) => value === unescapeValue(v)));
    default:
      return undefined;
  }
}

function tokenMatches(raw: string, system: string | null, code: string | null): boolean {
  const t = splitToken(raw);
  if (t.system === undefined) return code === t.code;
  if (t.system === '' ? system !== null : system !== t.system) return false;
  return t.code === '' || code === t.code;
}
