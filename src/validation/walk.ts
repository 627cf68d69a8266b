import { issue, type Issue, type IssueCode, type IssueSeverity } from '../fhir/outcome';
import { LONE_SURROGATE } from '../fhir/text';
import { holds, type Invariant } from './invariants';
import { typeNode, type ElementRule, type TypeNode } from './model';
import { MAX_PRIMITIVE_LENGTH } from './primitives';
import { checkAttachment, checkCodedValue, checkMarkdownHtml, checkNoHtml, checkUrn, checkXhtml, isExampleUrl } from './values';
import { checkExtension, hostOf, type ExtensionHost } from './extensions';
import { validateProfiles } from './profiles';
import { validateQuestionnaire, validateQuestionnaireResponse } from './questionnaire';
import { validateMeasureReport } from './measure-report';
import { validateCapabilityStatement, validateSearchParameter } from './search-parameter-rules';
import { validateStructureDefinition } from './structure-definition-rules';
import { checkReference, enterBundle, type BundleScope } from './references';

/** Deeper than any real resource; stops hostile nesting before the stack does. */
export const MAX_DEPTH = 128;
const MAX_ISSUES = 1000;
const ELE1 = "Constraint failed: ele-1: 'All FHIR elements must have a @value or children' (defined in http://hl7.org/fhir/StructureDefinition/Element)";

/**
 * How strict to be where FHIR leaves it to the validator's configuration; the names are the
 * Java validator's options, so its test cases can state them.
 */
export interface ValidationPolicy {
  /** Flag HTML markup in plain strings (for input that will be shown in web pages). */
  securityChecks: boolean;
  /**
   * Take a RESTful reference's type from its URL (`Group/1` is a Group) and check it against
   * the allowed targets, though the target itself is not at hand.
   */
  assumeValidRestReferences: boolean;
  /**
   * Accept URLs on the reserved example domains (example.org, …). Off for live data, where
   * such a URL is a placeholder someone forgot; on by default because examples and test
   * fixtures are full of them.
   */
  allowExampleUrls: boolean;
  /**
   * Validate contained resources (and that each is referenced: dom-3). Off leaves them alone,
   * for systems that carry other parties' contained copies as received.
   */
  validateContained: boolean;
  /**
   * Report dom-6 ("a resource should have a narrative"). A best-practice warning for whoever
   * authors a resource; off for resources the gateway maps from claims and HL7 itself, where
   * it would repeat once per resource and tell the sender nothing they could act on.
   */
  narrativeExpected: boolean;
  /** What an HTML tag in markdown is: renderers escape it, so by default only a warning. */
  htmlInMarkdown: 'ignore' | 'warning' | 'error';
  /** Bundle entries to check against a profile besides their own (see references.ts). */
  bundleRules: BundleRule[];
  /**
   * Finds the resource a reference points at (by the reference as written). When given, a
   * target found this way must be valid against one of the profiles the element allows
   * (Java's validateReference CHECK_VALID); its own references are not followed in turn.
   */
  resolveReference?: (reference: string) => unknown;
}

export interface BundleRule {
  rule: string;
  profile: string;
}

export const DEFAULT_POLICY: ValidationPolicy = {
  securityChecks: false,
  assumeValidRestReferences: true,
  allowExampleUrls: true,
  validateContained: true,
  narrativeExpected: true,
  htmlInMarkdown: 'warning',
  bundleRules: [],
};

/**
 * One walk over one instance. The location is kept as a stack of segments (numbers are array
 * indexes) and only turned into text when an issue is raised, so a clean resource allocates
 * almost nothing beyond what fhirpath does.
 */
export class Walk {
  readonly issues: Issue[] = [];
  private readonly segs: (string | number)[] = [];
  depth = 0;
  tooDeep = false;
  vars: { resource: unknown; rootResource: unknown } = { resource: undefined, rootResource: undefined };
  bundle: BundleScope | undefined;
  /** Set while descending into Bundle.entry.resource: that resource is its own root. */
  bundleEntry = false;
  /** The element whose extensions are being walked (for extension context rules). */
  host: ExtensionHost | undefined;
  /** Element ids seen in the current resource (they must be unique within it). */
  elementIds: Set<string> | undefined;
  policy: ValidationPolicy = DEFAULT_POLICY;
  /** Set by a primitive's `_name` companion: the primitive is the host of its extensions. */
  primitiveHost: ExtensionHost | undefined;

  push(s: string | number): void {
    this.segs.push(s);
  }
  pop(): void {
    this.segs.pop();
  }
  location(): string {
    let out = '';
    for (const s of this.segs) out += typeof s === 'number' ? `[${s}]` : s;
    return out;
  }
  /** An issue at `path` below the current location, e.g. ['.group', 0, '.population', 1]. */
  reportAt(path: (string | number)[], severity: IssueSeverity, code: IssueCode, message: string): void {
    for (const s of path) this.push(s);
    this.report(severity, code, message);
    for (let i = 0; i < path.length; i++) this.pop();
  }

  report(severity: IssueSeverity, code: IssueCode, message: string): void {
    if (this.issues.length === MAX_ISSUES) {
      this.issues.push(issue('error', 'too-costly', `More than ${MAX_ISSUES} issues: validation stopped`, this.location()));
    }
    if (this.issues.length > MAX_ISSUES) return;
    this.issues.push(issue(severity, code, message, this.location()));
  }
}

function jsonKind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an Array';
  return typeof v === 'object' ? 'an Object' : `a ${typeof v}`;
}

/** A resource anywhere: the root, a contained one, a Bundle entry, a Parameters resource. */
export function walkResource(w: Walk, res: unknown, nested: boolean, requested?: string[]): void {
  if (typeof res !== 'object' || res === null || Array.isArray(res)) {
    w.report('error', 'structure', `A resource must be a JSON object, not ${jsonKind(res)}`);
    return;
  }
  const rt = (res as { resourceType?: unknown }).resourceType;
  if (typeof rt !== 'string') {
    w.report('error', 'structure', 'Unable to find resourceType property');
    return;
  }
  const node = typeNode(rt);
  if (!node || !node.resource) {
    w.report('error', 'structure', `Unknown resource type '${rt.slice(0, 64)}'`);
    return;
  }
  const saved = w.vars;
  const savedBundle = w.bundle;
  const savedIds = w.elementIds;
  w.elementIds = undefined;
  w.vars = { resource: res, rootResource: nested && saved.rootResource !== undefined && !w.bundleEntry ? saved.rootResource : res };
  w.bundleEntry = false;
  if (nested) {
    const id = (res as { id?: unknown }).id;
    w.push(`/*${rt}/${typeof id === 'string' ? id : 'null'}*/`);
  } else w.push(rt);
  if (rt === 'Bundle') w.bundle = enterBundle(w, res as Record<string, unknown>);
  walkObject(w, res as Record<string, unknown>, node, undefined);
  if (rt === 'QuestionnaireResponse') validateQuestionnaireResponse(w, res as Record<string, unknown>);
  else if (rt === 'Questionnaire' && !w.tooDeep) validateQuestionnaire(w, res as Record<string, unknown>);
  else if (rt === 'MeasureReport') validateMeasureReport(w, res as Record<string, unknown>);
  else if (rt === 'SearchParameter') validateSearchParameter(w, res as Record<string, unknown>);
  else if (rt === 'CapabilityStatement') validateCapabilityStatement(w, res as Record<string, unknown>);
  else if (rt === 'StructureDefinition') validateStructureDefinition(w, res as Record<string, unknown>);
  if (!w.tooDeep) validateProfiles(w, res, requested);
  w.pop();
  w.bundle = savedBundle;
  w.vars = saved;
  w.elementIds = savedIds;
}

function runInvariants(w: Walk, list: Invariant[], value: unknown): void {
  for (const inv of list) {
    if (!w.policy.validateContained && inv.key === 'dom-3') continue;
    if (!w.policy.narrativeExpected && inv.key === 'dom-6') continue;
    if (holds(inv, value, w.vars) === false) {
      w.report(inv.severity, 'invariant', `Constraint failed: ${inv.key}: '${inv.human}'${inv.source ? ` (defined in ${inv.source})` : ''}`);
    }
  }
}

/** An element object (complex type or backbone) against its node. */
export function walkObject(w: Walk, obj: Record<string, unknown>, node: TypeNode, rule: ElementRule | undefined, companionOf?: unknown): void {
  if (++w.depth > MAX_DEPTH) {
    if (!w.tooDeep) w.report('error', 'too-costly', `Nesting deeper than ${MAX_DEPTH} levels: not validated further`);
    w.tooDeep = true;
    w.depth--;
    return;
  }
  const els = node.elements;
  let content = 0;
  // (ElementDefinition ids repeat between a snapshot and its differential by design)
  if (!node.resource && typeof obj.id === 'string' && node.name !== 'ElementDefinition') {
    w.elementIds ??= new Set();
    if (w.elementIds.has(obj.id)) w.report('error', 'duplicate', `Duplicate id value '${obj.id}'`);
    w.elementIds.add(obj.id);
  }
  const savedHost = w.host;
  if (obj.extension !== undefined || obj.modifierExtension !== undefined) {
    w.host =
      node.name === 'Element' && w.primitiveHost
        ? w.primitiveHost
        : hostOf(
            rule?.node?.name ?? rule?.path ?? node.name, // a contentReference (action.action) is its target (action)
            rule ? rule.typeCode : node.name,
            node.resource,
            node.name === 'Extension' && typeof obj.url === 'string' ? obj.url : undefined,
            rule?.def.base?.path,
            obj,
          );
  }
  for (const key in obj) {
    const value = obj[key];
    if (key === 'resourceType' && node.resource) continue;
    content++;
    if (key === '#text') {
      // character data between XML elements (the XML reader keeps each chunk)
      for (const t of Array.isArray(value) ? value : [value]) w.report('error', 'structure', `Text should not be present ('${String(t).slice(0, 100)}')`);
      continue;
    }
    if (key.charCodeAt(0) === 95) {
      const prim = els[key.slice(1)];
      if (!prim || !prim.primitive) {
        w.push('.');
        w.push(key);
        w.report('error', 'structure', `Unrecognized property '${key}'`);
        w.pop();
        w.pop();
      } else companion(w, key, value, prim, obj[prim.key], node.name === 'Extension' && typeof obj.url === 'string' ? obj.url : undefined);
      continue;
    }
    const r = els[key];
    w.push('.');
    w.push(key);
    if (!r) {
      w.report('error', 'structure', `Unrecognized property '${key}'`);
    } else if (r.array) {
      if (!Array.isArray(value)) {
        w.report('error', 'structure', `The property ${key} must be a JSON Array, not ${jsonKind(value)} (at ${node.name})`);
        element(w, value, r, obj, key, -1);
      } else if (value.length === 0) {
        w.report('error', 'structure', 'Array cannot be empty - the property should not be present if it has no values');
      } else {
        if (value.length > r.max) w.report('error', 'structure', `${r.path}: max allowed = ${r.max}, but found ${value.length} (from ${node.url})`);
        for (let i = 0; i < value.length; i++) {
          w.push(i);
          element(w, value[i], r, obj, key, i);
          w.pop();
        }
      }
    } else if (Array.isArray(value)) {
      w.report('error', 'structure', `The property ${key} must be ${r.primitive ? 'a simple value' : 'an Object'}, not an Array (at ${node.name})`);
    } else {
      element(w, value, r, obj, key, -1);
    }
    w.pop();
    w.pop();
  }
  if (companionOf === undefined) {
    if (!node.resource && (content === 0 || (content === 1 && typeof obj.id === 'string'))) w.report('error', 'invariant', ELE1);
  } else if (companionOf === null && obj.extension === undefined) {
    if (content > (obj.id === undefined ? 0 : 1)) w.report('error', 'structure', 'Primitive types must have a value or must have child extensions');
    w.report('error', 'invariant', ELE1);
  }
  for (const req of node.required) {
    let n = 0;
    for (const k of req.keys) {
      const v = obj[k] ?? obj[`_${k}`];
      if (v !== undefined && v !== null) n += Array.isArray(v) ? v.length : 1;
    }
    if (n < req.min) w.report('error', 'structure', `${req.path}: minimum required = ${req.min}, but only found ${n} (from ${node.url})`);
  }
  for (const ch of node.choices) {
    let n = 0;
    for (const k of ch.keys) if (obj[k] !== undefined) n++;
    if (n > 1) w.report('error', 'structure', `${ch.path}: only one of ${ch.keys.filter((k) => obj[k] !== undefined).join(', ')} is allowed`);
  }
  w.host = savedHost;
  if (node.name === 'Extension') {
    checkExtension(w, obj, w.host);
    let hasValue = false;
    for (const k in obj) if (k.startsWith('value')) hasValue = true;
    if (hasValue === (obj.extension !== undefined)) {
      w.report('error', 'invariant', "Constraint failed: ext-1: 'Must have either extensions or value[x], not both' (defined in http://hl7.org/fhir/StructureDefinition/Extension)");
    }
  }
  if (!w.tooDeep) {
    runInvariants(w, node.invariants, obj);
    if (rule && rule.invariants.length) runInvariants(w, rule.invariants, obj);
  }
  w.depth--;
}

const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F]/;

/**
 * FHIR strings hold no control characters but tab, CR and LF, and are Unicode text, so no lone
 * surrogate halves either (which PostgreSQL's jsonb, like any UTF-8 store, cannot hold).
 */
function forbiddenChar(s: string): string | undefined {
  const c = CONTROL.exec(s);
  if (c) return `the control character U+${c[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
  if (LONE_SURROGATE.test(s)) return 'a lone UTF-16 surrogate (not a Unicode character)';
  return undefined;
}

/** One value (an array item or a single value) of element `r`. */
function element(w: Walk, value: unknown, r: ElementRule, parent: Record<string, unknown>, key: string, index: number): void {
  const prim = r.primitive;
  if (prim) {
    if (value === null) {
      // null holds a place in a primitive array whose extensions sit in the `_key` companion
      const comp = parent[`_${key}`];
      if (index < 0 || !Array.isArray(comp) || comp[index] == null) w.report('error', 'structure', 'This property may not be null');
      return;
    }
    if (typeof value !== prim.json) {
      w.report('error', 'structure', `Error parsing JSON: the primitive value must be a ${prim.json}, not ${jsonKind(value)}`);
      return;
    }
    if (prim.json === 'string') {
      const s = value as string;
      if (s.length === 0) {
        // an empty value is also an element with neither value nor children
        w.report('error', 'invalid', 'value cannot be empty');
        if (parent[`_${key}`] === undefined) w.report('error', 'invariant', ELE1);
        return;
      }
      if (s.length > MAX_PRIMITIVE_LENGTH) {
        w.report('error', 'too-long', `value is longer than permitted maximum length of ${MAX_PRIMITIVE_LENGTH}`);
        return;
      }
      const bad = forbiddenChar(s);
      if (bad) {
        w.report('error', 'invalid', `The value contains ${bad}, which FHIR strings may not hold`);
        return;
      }
      if (!prim.test(s)) {
        w.report('error', 'invalid', prim.type === 'base64Binary' ? `The value '${s.slice(0, 100)}' is not a valid Base64 value` : `The value '${s.slice(0, 100)}' is not a valid ${prim.type}`);
        return;
      }
      if (prim.type === 'xhtml') checkXhtml(w, s);
      else if (w.policy.securityChecks && prim.type === 'string') checkNoHtml(w, s);
      else if (prim.type === 'markdown' && w.policy.htmlInMarkdown !== 'ignore') checkMarkdownHtml(w, s, w.policy.htmlInMarkdown);
      else if (s.charCodeAt(0) === 117 && (prim.type === 'uri' || prim.type === 'url' || prim.type === 'canonical')) checkUrn(w, s);
      else if (!w.policy.allowExampleUrls && (prim.type === 'uri' || prim.type === 'url' || prim.type === 'canonical') && isExampleUrl(s)) {
        w.report('error', 'invalid', `Example URLs are not allowed in this context (${s.slice(0, 200)})`);
      } else if (prim.type === 'canonical' && s.charCodeAt(0) !== 35 && !/^[A-Za-z][A-Za-z0-9+.-]*:/.test(s)) {
        w.report('warning', 'invalid', `Canonical URLs must be absolute URLs if they are not fragment references (${s.slice(0, 200)})`);
      }
    } else if (prim.json === 'number') {
      const n = value as number;
      if (prim.integer && (!Number.isInteger(n) || n > 2147483647 || n < -2147483648)) {
        w.report('error', 'invalid', `The value '${n}' is not a valid ${prim.type}`);
        return;
      }
      if (prim.min !== undefined && n < prim.min) {
        w.report('error', 'invalid', `The value '${n}' is not a valid ${prim.type} (must be at least ${prim.min})`);
        return;
      }
    }
    if (r.binding && prim.type === 'code') checkCodedValue(w, r, value);
    if (r.invariants.length && !w.tooDeep) runInvariants(w, r.invariants, value);
    return;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    w.report('error', 'structure', `The property ${key} must be an Object, not ${jsonKind(value)}`);
    return;
  }
  if (r.typeCode === 'Resource' || r.typeCode === 'DomainResource') {
    if (r.key === 'contained' && !w.policy.validateContained) return;
    const wasEntry = w.bundleEntry;
    // only contained resources share their container's %rootResource; entries and parameters stand alone
    w.bundleEntry = r.key !== 'contained';
    walkResource(w, value, true, w.bundle?.entryProfiles.get(value));
    w.bundleEntry = wasEntry;
    return;
  }
  const node = r.node ?? typeNode(r.typeCode);
  if (!node) return;
  walkObject(w, value as Record<string, unknown>, node, r);
  if (r.typeCode === 'Reference') checkReference(w, r, value as Record<string, unknown>);
  else if (r.typeCode === 'Attachment') checkAttachment(w, value as Record<string, unknown>);
  else if (r.binding && (r.typeCode === 'CodeableConcept' || r.typeCode === 'Coding' || r.typeCode === 'Quantity')) checkCodedValue(w, r, value);
}

/** `_key`: id and extensions of a primitive, single or aligned with the value array. */
function companion(w: Walk, key: string, value: unknown, r: ElementRule, primValue: unknown, extensionUrl: string | undefined): void {
  const node = typeNode('Element');
  const savedHost = w.primitiveHost;
  w.primitiveHost = hostOf(r.path, r.typeCode, false, extensionUrl, r.def.base?.path, primValue);
  w.push('.');
  w.push(key.slice(1));
  if (r.array) {
    if (!Array.isArray(value)) w.report('error', 'structure', `The property ${key} must be a JSON Array, not ${jsonKind(value)}`);
    else {
      if (Array.isArray(primValue) && primValue.length !== value.length) {
        w.report('error', 'structure', `The property ${key} has ${value.length} items but ${r.key} has ${primValue.length}`);
      }
      for (let i = 0; i < value.length; i++) {
        const v = value[i];
        if (v === null) {
          if (!Array.isArray(primValue) || primValue[i] == null) {
            w.push(i);
            w.report('error', 'structure', 'Primitive types must have a value or must have child extensions');
            w.pop();
          }
          continue;
        }
        w.push(i);
        if (typeof v !== 'object' || Array.isArray(v)) w.report('error', 'structure', `The property ${key} must be an Object, not ${jsonKind(v)}`);
        else if (node) walkObject(w, v as Record<string, unknown>, node, undefined, Array.isArray(primValue) ? (primValue[i] ?? null) : null);
        w.pop();
      }
    }
  } else if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    w.report('error', 'structure', `The property ${key} must be an Object, not ${jsonKind(value)}`);
  } else if (node) walkObject(w, value as Record<string, unknown>, node, undefined, primValue ?? null);
  w.primitiveHost = savedHost;
  w.pop();
  w.pop();
}
