import type { ElementDefinition } from 'fhir/r4';
import fhirpath from 'fhirpath';
import r4model from 'fhirpath/fhir-context/r4';
import { definitionResources } from '../fhir/definitions';
import { compileFast, type FastCheck } from './fastpath';
import { NATIVE_CHECKS } from './native-invariants';

/**
 * FHIRPath invariants (`ElementDefinition.constraint.expression`), compiled once per
 * definition. Evaluating one costs several microseconds, so each carries a guard: the set of
 * names its expression mentions. When an instance has none of those properties, the result
 * is the one computed once on an empty element, and fhirpath is not called at all.
 */
export interface Invariant {
  key: string;
  /** FHIRPath context path it was compiled for. */
  path: string;
  severity: 'error' | 'warning';
  human: string;
  source: string;
  expression: string;
  run: (value: unknown, vars: Record<string, unknown>) => unknown[];
  /** Names the expression can reach; null when it can reach anything (children(), %resource…). */
  names: Set<string> | null;
  /** Result on an element with none of `names`; undefined when unknown. */
  whenAbsent: boolean | undefined;
  /** Direct evaluation without fhirpath (simple existence logic, or a hand-written check). */
  fast?: (value: unknown, vars: Record<string, unknown>) => boolean | undefined;
}

/** Checked natively by the walk (ele-1: no empty elements; ext-1: value or extensions; txt-1/txt-2: the XHTML). */
const NATIVE = new Set(['ele-1', 'ext-1', 'txt-1', 'txt-2']);
const BEST_PRACTICE = 'http://hl7.org/fhir/StructureDefinition/elementdefinition-bestpractice';
const UNGUARDABLE = /children\(|descendants\(|hasValue\(|repeat\(|\$this|%|resolve\(|conformsTo\(|memberOf\(|trace\(|htmlChecks/;

export interface SkippedInvariant {
  key: string;
  path: string;
  expression: string;
  reason: string;
}
const skipped: SkippedInvariant[] = [];
const failedAtRuntime = new Map<string, string>();

/** Invariants fhirpath cannot compile or evaluate: not checked, listed for the report. */
export function skippedInvariants(): SkippedInvariant[] {
  return [...skipped, ...[...failedAtRuntime].map(([k, reason]) => ({ key: k.split('|')[0]!, path: k.split('|')[1]!, expression: 'evaluation failed', reason }))];
}

/**
 * FHIRPath functions fhirpath.js leaves to a terminology server or to the host: memberOf()
 * against the code sets known here, conformsTo() against this validator. Both answer empty
 * (not false) when they cannot tell.
 */
type Hook = (value: unknown, url: string) => boolean | undefined;
const hooks: { memberOf?: Hook; conformsTo?: Hook } = {};
export function setInvariantHooks(h: { memberOf?: Hook; conformsTo?: Hook }): void {
  Object.assign(hooks, h);
}
/** Whether a whole resource is valid against a profile (undefined: cannot tell here). */
export function resourceConformsTo(resource: unknown, url: string): boolean | undefined {
  return hooks.conformsTo?.(resource, url);
}
const lift = (name: 'memberOf' | 'conformsTo') => ({
  fn: (inputs: unknown[], url: string) => {
    if (inputs.length !== 1 || typeof url !== 'string') return [];
    const r = hooks[name]?.(inputs[0], url);
    return r === undefined ? [] : [r];
  },
  arity: { 1: ['String' as const] },
});
const silent = { traceFn: () => undefined, userInvocationTable: { memberOf: lift('memberOf'), conformsTo: lift('conformsTo') } };

function namesOf(expression: string): Set<string> | null {
  if (UNGUARDABLE.test(expression)) return null;
  const body = expression.replace(/'(?:[^'\\]|\\.)*'/g, "''").replace(/`([^`]*)`/g, '$1');
  return new Set(body.match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? []);
}

/**
 * The boolean an invariant's result means. An empty result is not a failure: expressions such
 * as ref-1 or bdl-8 yield nothing when the element they test is absent.
 */
export function truthy(result: unknown[]): boolean {
  if (result.length === 1 && typeof result[0] === 'boolean') return result[0];
  return true;
}

let rootKeys: Map<string, Set<string>> | undefined;
/** Names of every choice element in R4 (`value` for value[x]…): JSON spells them with a type suffix. */
const choiceBases = new Set<string>();
/** Constraint keys every instance of a type already carries (checked at the type's root). */
function typeRootKeys(type: string): Set<string> {
  if (!rootKeys) {
    rootKeys = new Map();
    for (const b of ['types', 'resources']) {
      for (const sd of definitionResources<import('fhir/r4').StructureDefinition>(b, 'StructureDefinition')) {
        if (sd.derivation === 'constraint') continue;
        rootKeys.set(sd.type, new Set((sd.snapshot?.element[0]?.constraint ?? []).map((c) => c.key)));
        for (const e of sd.snapshot?.element ?? []) if (e.path.endsWith('[x]')) choiceBases.add(e.path.slice(e.path.lastIndexOf('.') + 1, -3));
      }
    }
  }
  return rootKeys.get(type) ?? new Set();
}

const cache = new Map<string, Invariant | null>();

/**
 * Invariants of one element definition, evaluated with `base` as the FHIRPath context type.
 * `typeCode` given: the element's own type already carries its root constraints, so those
 * are left out here.
 */
/**
 * Published R4 expressions that contradict their own human text; evaluated as the text says,
 * as the HL7 Java validator does.
 */
const ERRATA: Record<string, string> = {
  'que-12|enableWhen.count() > 2 implies enableBehavior.exists()': 'enableWhen.count() > 1 implies enableBehavior.exists()',
};

export function compileConstraints(def: ElementDefinition, base: string, typeCode?: string): Invariant[] {
  const out: Invariant[] = [];
  const inherited = typeCode && typeCode !== 'BackboneElement' && typeCode !== 'Element' ? typeRootKeys(typeCode) : undefined;
  for (const c of def.constraint ?? []) {
    if (!c.expression || NATIVE.has(c.key) || inherited?.has(c.key)) continue;
    const id = `${base}|${c.key}|${c.expression}`;
    let inv = cache.get(id);
    if (inv === undefined) {
      inv = compileOne(c, base);
      cache.set(id, inv);
    }
    if (inv) out.push(inv);
  }
  return out;
}

function compileOne(c: NonNullable<ElementDefinition['constraint']>[number], base: string): Invariant | null {
  const expression = ERRATA[`${c.key}|${c.expression}`] ?? c.expression!;
  let run: Invariant['run'];
  try {
    const fn = fhirpath.compile({ base, expression }, r4model, silent);
    run = (value, vars) => fn(value as never, vars as never) as unknown[];
  } catch (e) {
    skipped.push({ key: c.key, path: base, expression, reason: (e as Error).message.split('\n')[0]!.slice(0, 200) });
    return null;
  }
  typeRootKeys('Element');
  const simple: FastCheck | undefined = compileFast(expression, choiceBases);
  const native = NATIVE_CHECKS[`${c.key}|${expression}`];
  const fast: Invariant['fast'] = native ? (v, vars) => native(v, vars, run) : simple ? (v) => simple(v) : undefined;
  const bestPractice = c.extension?.some((x) => x.url === BEST_PRACTICE && x.valueBoolean) ?? false;
  const names = namesOf(expression);
  let whenAbsent: boolean | undefined;
  if (names) {
    try {
      whenAbsent = truthy(run({}, {}));
    } catch {
      whenAbsent = undefined;
    }
  }
  return {
    key: c.key,
    path: base,
    severity: c.severity === 'error' && !bestPractice ? 'error' : 'warning',
    human: c.human,
    source: c.source ?? '',
    expression,
    run,
    names,
    whenAbsent,
    fast,
  };
}

function mentions(value: object, names: Set<string>): boolean {
  for (const k of Object.keys(value)) {
    const name = k.charCodeAt(0) === 95 ? k.slice(1) : k;
    if (names.has(name)) return true;
    // a choice element (valueQuantity) is named by its base (value) in expressions
    for (let i = 1; i < name.length; i++) {
      const c = name.charCodeAt(i);
      if (c >= 65 && c <= 90) {
        if (names.has(name.slice(0, i))) return true;
        break;
      }
    }
  }
  return false;
}

/** true/false, or undefined when fhirpath failed on this instance (then it is not reported). */
export function holds(inv: Invariant, value: unknown, vars: Record<string, unknown>): boolean | undefined {
  if (inv.fast) return inv.fast(value, vars);
  if (inv.names && inv.whenAbsent !== undefined && typeof value === 'object' && value !== null && !mentions(value, inv.names)) {
    return inv.whenAbsent;
  }
  try {
    return truthy(inv.run(value, vars));
  } catch (e) {
    const k = `${inv.key}|${inv.path}`;
    if (!failedAtRuntime.has(k)) failedAtRuntime.set(k, (e as Error).message.split('\n')[0]!.slice(0, 200));
    return undefined;
  }
}
