import { badRequest } from './outcome';

/** Deepest nesting accepted: real resources stay far below it (nested Questionnaire items reach ~20). */
export const MAX_DEPTH = 100;

/**
 * Parses a request body as JSON and checks it before any recursive code sees it: nesting is
 * bounded (so no walker can overflow the stack) and `__proto__` keys, which are never FHIR,
 * are refused. The walk is iterative for the same reason.
 */
export function parseJsonBody(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const msg = (e as Error).message;
    throw badRequest(`the body is not valid JSON: ${msg.length > 200 ? msg.slice(0, 200) : msg}`);
  }
  checkShape(value);
  return value;
}

export function checkShape(value: unknown): void {
  const stack: [unknown, number, string][] = [[value, 0, '']];
  while (stack.length > 0) {
    const [v, depth, path] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth > MAX_DEPTH) throw badRequest(`JSON nested deeper than ${MAX_DEPTH} levels`, path || undefined);
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) if (typeof v[i] === 'object') stack.push([v[i], depth + 1, path]);
    } else {
      for (const k of Object.keys(v)) {
        if (k === '__proto__' || k === 'constructor' || k === 'prototype') throw badRequest(`property '${k}' is not allowed`, path ? `${path}.${k}` : k);
        const c = (v as Record<string, unknown>)[k];
        if (typeof c === 'object' && c !== null) stack.push([c, depth + 1, path ? `${path}.${k}` : k]);
      }
    }
  }
}

/** The members of a JSON array as objects to read from, or none when it is not an array (bad input is reported elsewhere). */
export function listOf(v: unknown): Record<string, unknown>[] {
  return Array.isArray(v) ? (v as Record<string, unknown>[]) : [];
}
