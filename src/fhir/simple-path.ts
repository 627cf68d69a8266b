/**
 * Most SearchParameter expressions are plain paths: `Observation.code`, `Patient.name.given`,
 * `(Observation.value as Quantity)`, `Condition.onset.as(Age)`, `(X as CodeableConcept).text`.
 * Those are evaluated here by walking the JSON directly, which costs a fraction of a general
 * FHIRPath evaluation (indexing runs every expression of the type on every write). Anything
 * else — functions, filters, operators — is left to fhirpath: `compilePath` returns undefined.
 * A test compares both over the R4 examples and the Synthea corpus.
 */
export interface PathModel {
  /** `Observation.value` → `['Quantity', 'CodeableConcept', …]` */
  choiceTypePaths: Record<string, string[]>;
  /** `Patient.name` → `HumanName`: where a path continues inside a datatype. */
  path2Type: Record<string, string>;
}

const NAME = '[a-z][A-Za-z0-9]*';
const CAST_INSIDE = new RegExp(`^\\(([A-Z][A-Za-z]+)((?:\\.${NAME})+) as ([A-Za-z]+)\\)((?:\\.${NAME})*)$`);
const CAST_CALL = new RegExp(`^([A-Z][A-Za-z]+)((?:\\.${NAME})+)\\.as\\(([A-Za-z]+)\\)((?:\\.${NAME})*)$`);
const PLAIN = new RegExp(`^([A-Z][A-Za-z]+)((?:\\.${NAME})+)$`);

type Step = { name: string; choices?: string[] };

/** Types a cast also admits (FHIRPath's `as uri` takes a canonical too): such casts go to fhirpath. */
const SUBTYPES: Record<string, string[]> = {
  uri: ['url', 'canonical', 'oid', 'uuid'],
  string: ['code', 'id', 'markdown'],
  integer: ['positiveInt', 'unsignedInt'],
  quantity: ['Age', 'Count', 'Distance', 'Duration'],
};

const upperFirst = (s: string) => s[0]!.toUpperCase() + s.slice(1);
const steps = (s: string) => s.split('.').filter(Boolean);

/** Each step with the choice types it may take, following the datatype a path enters. */
function plan(root: string, names: string[], model: PathModel): Step[] | undefined {
  const out: Step[] = [];
  let at = root;
  for (const name of names) {
    const path = `${at}.${name}`;
    const choices = model.choiceTypePaths[path];
    out.push(choices ? { name, choices } : { name });
    const type = model.path2Type[path];
    if (choices) at = ''; // the value's type depends on which choice is present: only a cast may continue
    else if (type && type !== 'BackboneElement' && type !== 'Element' && !type.startsWith('System.')) at = type;
    else if (!type && !at) return undefined;
    else at = path;
  }
  return out;
}

export function compilePath(expression: string, model: PathModel): ((resource: unknown) => unknown[]) | undefined {
  const m = CAST_INSIDE.exec(expression) ?? CAST_CALL.exec(expression) ?? PLAIN.exec(expression);
  if (!m) return undefined;
  const [, type, head, cast, tail] = m as unknown as [string, string, string, string | undefined, string | undefined];
  const first = plan(type, steps(head), model);
  if (!first) return undefined;
  const last = first[first.length - 1]!;
  let rest: Step[] = [];
  if (cast) {
    // a cast picks one type of a choice element; casting anything else is not a plain path
    const pick = last.choices?.find((c) => c.toLowerCase() === cast.toLowerCase());
    const wider = (SUBTYPES[cast.toLowerCase()] ?? []).map((t) => t.toLowerCase());
    if (!pick || last.choices!.some((c) => wider.includes(c.toLowerCase()))) return undefined;
    last.choices = [pick];
    if (tail) {
      const more = plan(pick, steps(tail), model);
      if (!more) return undefined;
      rest = more;
    }
  } else if (tail) return undefined;
  const all = [...first, ...rest];
  if (all.slice(0, -1).some((s) => s.choices && !cast)) return undefined; // a choice in the middle needs a cast
  return (resource) => {
    if ((resource as { resourceType?: unknown } | null)?.resourceType !== type) return [];
    let nodes: unknown[] = [resource];
    for (const s of all) {
      const next: unknown[] = [];
      for (const n of nodes) {
        if (typeof n !== 'object' || n === null) continue;
        const o = n as Record<string, unknown>;
        if (s.choices) for (const c of s.choices) push(next, o[`${s.name}${upperFirst(c)}`]);
        else push(next, o[s.name]);
      }
      nodes = next;
    }
    return nodes;
  };
}

function push(out: unknown[], v: unknown): void {
  if (v === undefined || v === null) return;
  if (Array.isArray(v)) {
    for (const x of v) if (x !== undefined && x !== null) out.push(x);
  } else out.push(v);
}
