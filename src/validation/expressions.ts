import fhirpath from 'fhirpath';
import r4model from 'fhirpath/fhir-context/r4';

/**
 * FHIRPath expressions that conformance resources carry as data (extension contexts and their
 * invariants, SDC enableWhenExpression), compiled once per expression and base and reused.
 * Undefined when an expression does not compile or does not evaluate on this data: the caller
 * then does not hold it against the instance.
 */
const compiled = new Map<string, ((d: unknown, v?: unknown) => unknown[]) | null>();

export function evaluateExpression(expression: string, base: string | undefined, data: unknown, vars: Record<string, unknown>): unknown[] | undefined {
  const k = `${base ?? ''}|${expression}`;
  let fn = compiled.get(k);
  if (fn === undefined) {
    try {
      const f = fhirpath.compile(base ? { base, expression } : expression, r4model, { traceFn: () => undefined });
      fn = (d, v) => f(d as never, v as never) as unknown[];
    } catch {
      fn = null;
    }
    compiled.set(k, fn);
  }
  if (!fn) return undefined;
  try {
    return fn(data, vars);
  } catch {
    return undefined;
  }
}
