import type { Questionnaire, QuestionnaireItem, QuestionnaireItemEnableWhen } from 'fhir/r4';
import { isResourceType, SD_BASE as SD } from '../fhir/definitions';
import { issue } from '../fhir/outcome';
import { CanonicalRegistry } from './canonical-registry';
import { evaluateExpression } from './expressions';
import { structureDefinitionByUrl } from './model';
import { codeSet, knownValueSet } from './terminology';
import type { Walk } from './walk';

/**
 * A QuestionnaireResponse against its Questionnaire (when known): linkIds, answer types,
 * required and repeating items, enableWhen, answer options and value sets, and the SDC limits
 * carried as extensions (min/max value and length, decimal places, regex, mime type, size).
 */
export const questionnaires = new CanonicalRegistry<Questionnaire>();

const ANSWER_TYPES: Record<string, string[]> = {
  boolean: ['boolean'],
  decimal: ['decimal'],
  integer: ['integer'],
  date: ['date'],
  dateTime: ['dateTime'],
  time: ['time'],
  string: ['string'],
  text: ['string'],
  url: ['uri'],
  choice: ['Coding', 'string'],
  'open-choice': ['Coding', 'string'],
  attachment: ['Attachment'],
  reference: ['Reference'],
  quantity: ['Quantity'],
};

type Json = Record<string, unknown>;
const PRIMITIVE_SUFFIX = new Set(['Boolean', 'Decimal', 'Integer', 'Date', 'DateTime', 'Time', 'String', 'Uri']);
/** The answer types R4 allows; any other `valueX` is already an unknown property. */
const ANSWER_SUFFIX = new Set([...PRIMITIVE_SUFFIX, 'Attachment', 'Coding', 'Quantity', 'Reference']);
type Answer = Json;

function ext(item: QuestionnaireItem, url: string): Json | undefined {
  return item.extension?.find((e) => e.url === url) as Json | undefined;
}
function extValue(item: QuestionnaireItem, url: string): unknown {
  const e = ext(item, url);
  if (!e) return undefined;
  for (const k in e) if (k.startsWith('value')) return e[k];
  return undefined;
}

function answerValue(a: Answer, prefix = 'value'): { type: string; value: unknown } | undefined {
  for (const k in a) {
    if (k.startsWith(prefix) && k.length > prefix.length && k.charCodeAt(prefix.length) <= 90) {
      const t = k.slice(prefix.length);
      if (!ANSWER_SUFFIX.has(t)) continue;
      return { type: PRIMITIVE_SUFFIX.has(t) ? t[0]!.toLowerCase() + t.slice(1) : t, value: a[k] };
    }
  }
  return undefined;
}

interface Ctx {
  w: Walk;
  q: Questionnaire;
  qr: Json;
}

export function validateQuestionnaireResponse(w: Walk, qr: Json): void {
  const url = typeof qr.questionnaire === 'string' ? qr.questionnaire.split('|')[0]! : undefined;
  if (!url) return;
  const q = questionnaires.get(url);
  if (!q) {
    const other = knownCanonicalType(url);
    if (other) {
      w.push('.questionnaire');
      w.report('error', 'structure', `Canonical URL '${url}' refers to a resource that has the wrong type. Found ${other} expecting one of [Questionnaire]`);
      w.pop();
    }
    return;
  }
  const ctx: Ctx = { w, q, qr };
  checkItems(ctx, q.item ?? [], Array.isArray(qr.item) ? (qr.item as Json[]) : [], 'item');
}

function knownCanonicalType(url: string): string | undefined {
  if (knownValueSet(url)) return 'ValueSet';
  if (structureDefinitionByUrl(url)) return 'StructureDefinition';
  return undefined;
}

function rootIssue(ctx: Ctx, msg: string): void {
  ctx.w.issues.push(issue('error', 'structure', msg, 'QuestionnaireResponse'));
}

function checkItems(ctx: Ctx, qItems: QuestionnaireItem[], rItems: Json[], key: string): void {
  const { w } = ctx;
  const seen = new Map<string, number>();
  rItems.forEach((ri, i) => {
    const linkId = typeof ri.linkId === 'string' ? ri.linkId : '';
    const qi = qItems.find((x) => x.linkId === linkId);
    w.push('.');
    w.push(key);
    w.push(i);
    if (!qi) rootIssue(ctx, `LinkId '${linkId}' not found in questionnaire`);
    else {
      const n = (seen.get(linkId) ?? 0) + 1;
      seen.set(linkId, n);
      if (n > 1 && !qi.repeats) w.report('error', 'structure', 'Only one response answer item with this linkId allowed');
      checkItem(ctx, qi, ri);
    }
    w.pop();
    w.pop();
    w.pop();
  });
  for (const qi of qItems) {
    if (!qi.required || seen.has(qi.linkId) || !enabled(ctx, qi)) continue;
    if (qi.type === 'display') continue;
    w.report('error', 'required', qi.type === 'group' ? `No response found for required item with id = '${qi.linkId}'` : `No response answer found for required item '${qi.linkId}'`);
  }
}

function checkItem(ctx: Ctx, qi: QuestionnaireItem, ri: Json): void {
  const { w } = ctx;
  const answers = Array.isArray(ri.answer) ? (ri.answer as Answer[]) : [];
  const children = Array.isArray(ri.item) ? (ri.item as Json[]) : [];
  const isEnabled = enabled(ctx, qi);
  if (answers.length && !isEnabled) w.report('error', 'structure', `Item has answer, even though it is not enabled (item id = '${qi.linkId}')`);
  if (qi.type === 'group') {
    if (answers.length) w.report('error', 'structure', 'Items of type group should not have answers');
    if (qi.required && !children.length) w.report('error', 'required', 'No sub-items found for required group');
    checkItems(ctx, qi.item ?? [], children, 'item');
    return;
  }
  if (qi.type === 'display') {
    if (answers.length) w.report('error', 'structure', "Items of type 'display' cannot have answers");
    return;
  }
  if ((qi.type as string) === 'question') {
    if (answers.length) w.report('error', 'structure', 'Items of type question should not have answers');
    return;
  }
  if (qi.required && isEnabled && !answers.length) w.report('error', 'required', `No response answer found for required item '${qi.linkId}'`);
  if (answers.length > 1 && !qi.repeats) w.report('error', 'structure', 'Only one response answer item with this linkId allowed');
  const maxOccurs = extValue(qi, `${SD}questionnaire-maxOccurs`);
  const minOccurs = extValue(qi, `${SD}questionnaire-minOccurs`);
  if (typeof maxOccurs === 'number' && answers.length > maxOccurs) w.report('error', 'structure', `The maximum number of answers is ${maxOccurs} but this has ${answers.length} answers`);
  if (typeof minOccurs === 'number' && answers.length < minOccurs) w.report('error', 'structure', `The minimum number of answers is ${minOccurs} but this has ${answers.length} answers`);
  const exclusive = answers.some((a) => isExclusive(qi, a));
  answers.forEach((a, j) => {
    w.push('.answer');
    w.push(j);
    checkAnswer(ctx, qi, a);
    if (exclusive && answers.length > 1 && !isExclusive(qi, a)) {
      const sel = answers.find((x) => isExclusive(qi, x));
      const c = answerValue(sel!)?.value as Json | undefined;
      w.report('error', 'structure', `Selected answer ${String(c?.system ?? '')}#${String(c?.code ?? '')} is an exclusive option - can't select anything else at the same time`);
    }
    if (Array.isArray(a.item)) checkItems(ctx, qi.item ?? [], a.item as Json[], 'item');
    w.pop();
    w.pop();
  });
  if (children.length) checkItems(ctx, qi.item ?? [], children, 'item');
}

function isExclusive(qi: QuestionnaireItem, a: Answer): boolean {
  const v = answerValue(a);
  if (!v) return false;
  const opt = (qi.answerOption ?? []).find((o) => sameAnswer(answerValue(o as Json), v));
  return !!opt?.extension?.some((e) => e.url === `${SD}questionnaire-optionExclusive` && e.valueBoolean);
}

function sameAnswer(a: { type: string; value: unknown } | undefined, b: { type: string; value: unknown }): boolean {
  if (!a || a.type !== b.type) return false;
  if (a.type === 'Coding') {
    const x = a.value as Json;
    const y = b.value as Json;
    return x.code === y.code && (x.system ?? null) === (y.system ?? null);
  }
  if (a.type === 'Reference') return (a.value as Json).reference === (b.value as Json).reference;
  return a.value === b.value;
}

function checkAnswer(ctx: Ctx, qi: QuestionnaireItem, a: Answer): void {
  const { w } = ctx;
  const v = answerValue(a);
  if (!v) return;
  const allowed = ANSWER_TYPES[qi.type];
  if (allowed && !allowed.includes(v.type)) {
    atValue(w, v, () => w.report('error', 'structure', `Answer value must be of the type ${allowed.length === 1 ? allowed[0] : allowed.join(' or ')} not ${v.type}`));
  } else {
    checkAnswerValue(ctx, qi, v);
  }
}

/** Most answer issues are located at the typed value (`answer[0].value.ofType(string)`). */
function atValue(w: Walk, v: { type: string }, fn: () => void): void {
  w.push('.value');
  w.push(`.ofType(${v.type})`);
  fn();
  w.pop();
  w.pop();
}

function checkAnswerValue(ctx: Ctx, qi: QuestionnaireItem, v: { type: string; value: unknown }): void {
  const { w } = ctx;
  const valueIssue = (code: 'business-rule' | 'structure', msg: string) => atValue(w, v, () => w.report('error', code, msg));
  const options = qi.answerOption ?? [];
  if (options.length && !(qi.type === 'open-choice' && v.type === 'string')) {
    if (!options.some((o) => sameAnswer(answerValue(o as Json), v))) {
      const shown = v.type === 'Coding' ? `code ${String((v.value as Json).system)}::${String((v.value as Json).code)}` : `${v.type} ${String(v.value)}`;
      const say = () => w.report('error', 'structure', `The ${shown} is not in the set of permitted values`);
      if (v.type === 'Coding') say();
      else atValue(w, v, say);
    }
  }
  if (qi.answerValueSet && v.type === 'Coding') {
    const set = codeSet(qi.answerValueSet);
    const c = v.value as Json;
    if (set && !set.pairs.has(`${String(c.system)}|${String(c.code)}`)) {
      w.report('error', 'code-invalid', `The code '${String(c.code)}' in the system '${String(c.system)}' is not in the options value set (${qi.answerValueSet}) specified by the questionnaire`);
    }
  }
  const min = extValue(qi, `${SD}minValue`) ?? extValue(qi, 'http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-minQuantity');
  const max = extValue(qi, `${SD}maxValue`) ?? extValue(qi, 'http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-maxQuantity');
  if (v.type === 'Quantity') {
    const qv = v.value as Json;
    for (const [bound, word, dir] of [[min, 'minimum', -1], [max, 'maximum', 1]] as const) {
      if (!bound || typeof bound !== 'object') continue;
      const b = bound as Json;
      if (!qv.system || !b.system) {
        valueIssue('business-rule', `The quantity ${String(qv.value)} ${String(qv.unit ?? qv.code ?? '')} cannot be compared to the allowed ${word} of ${String(b.value)} ${String(b.unit ?? b.code ?? '')} because no formal units are specified`);
      } else if (qv.code === b.code && typeof qv.value === 'number' && typeof b.value === 'number' && (qv.value - b.value) * dir > 0) {
        valueIssue('business-rule', `The quantity ${qv.value} is ${dir < 0 ? 'less' : 'greater'} than the allowed ${word} of ${b.value}`);
      }
    }
  } else {
    if (min !== undefined && compare(v.value, min) < 0) valueIssue('business-rule', `The value ${String(v.value)} is less than the allowed minimum of ${String(min)}`);
    if (max !== undefined && compare(v.value, max) > 0) valueIssue('business-rule', `The value ${String(v.value)} is greater than the allowed maximum of ${String(max)}`);
  }
  if (v.type === 'decimal' && typeof v.value === 'number') {
    const places = extValue(qi, `${SD}maxDecimalPlaces`);
    const frac = String(v.value).split('.')[1]?.length ?? 0;
    if (typeof places === 'number' && frac > places) valueIssue('business-rule', `The value ${v.value} has too many decimal places (limit = ${places})`);
  }
  if (v.type === 'string' && typeof v.value === 'string') {
    const s = v.value;
    const minLength = extValue(qi, `${SD}minLength`);
    if (typeof minLength === 'number' && s.length < minLength) valueIssue('business-rule', `The answer '${s}' is shorter then the required minimum length of ${minLength}`);
    if (typeof qi.maxLength === 'number' && s.length > qi.maxLength) valueIssue('business-rule', `The answer '${s}' is longer then the allowed maximum length of ${qi.maxLength}`);
    const regex = extValue(qi, `${SD}regex`);
    if (typeof regex === 'string' && regex.length < 500 && s.length < 10000) {
      let re: RegExp | undefined;
      try {
        re = new RegExp(`^(?:${regex})$`);
      } catch {
        re = undefined;
      }
      if (re && !re.test(s)) valueIssue('business-rule', `The answer '${s}' does not conform to the expected format (regex '${regex}')`);
    }
  }
  if (v.type === 'Attachment') {
    const att = v.value as Json;
    const mimes = (qi.extension ?? []).filter((e) => e.url === `${SD}mimeType`).map((e) => e.valueCode);
    if (mimes.length && typeof att.contentType === 'string' && !mimes.includes(att.contentType)) {
      w.report('error', 'business-rule', `The mime type ${att.contentType} is not valid for this answer (allowed = ${mimes.join(', ')})`);
    }
    const maxSize = extValue(qi, `${SD}maxSize`);
    const size = typeof att.data === 'string' ? Math.floor((att.data.replace(/\s/g, '').length * 3) / 4) - (att.data.trim().match(/=+$/)?.[0].length ?? 0) : undefined;
    if (typeof maxSize === 'number' && size !== undefined && size > maxSize) {
      w.report('error', 'business-rule', `The attachment is too large (allowed = ${maxSize}, found = ${size})`);
    }
  }
  if (v.type === 'Reference') {
    const ref = (v.value as Json).reference;
    if (typeof ref === 'string' && !ref.startsWith('#')) {
      if (/\s/.test(ref)) valueIssue('structure', `The reference '${ref}' is not a valid reference`);
      const m = /([A-Za-z]+)\/[A-Za-z0-9\-.]+(\/_history\/[A-Za-z0-9\-.]+)?$/.exec(ref);
      const type = m?.[1];
      const allowed = (qi.extension ?? []).filter((e) => e.url === `${SD}questionnaire-referenceResource`).map((e) => e.valueCode!);
      if (type && !isResourceType(type)) valueIssue('structure', `The resource type ${type} in the reference ${ref} is not valid`);
      else if (type && allowed.length && !allowed.includes(type)) valueIssue('structure', `The resource type '${type}' in the reference ${ref} is not allowed (allowed = ${allowed.join(',')})`);
    }
  }
}


function compare(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') {
    const n = Math.min(a.length, b.length);
    const x = a.slice(0, n);
    const y = b.slice(0, n);
    return x < y ? -1 : x > y ? 1 : a.length > b.length && x === y ? 1 : 0;
  }
  return 0;
}

// ---- enableWhen ----

function answersFor(ctx: Ctx, linkId: string): Answer[] {
  const out: Answer[] = [];
  const visit = (items: unknown, depth: number): void => {
    if (!Array.isArray(items) || depth > 32) return;
    for (const it of items as Json[]) {
      if (!it || typeof it !== 'object') continue;
      const answers = Array.isArray(it.answer) ? (it.answer as Json[]) : [];
      if (it.linkId === linkId) out.push(...answers);
      visit(it.item, depth + 1);
      for (const a of answers) visit(a.item, depth + 1);
    }
  };
  visit(ctx.qr.item, 0);
  return out;
}

/**
 * An item enabled by a FHIRPath expression over the response: SDC's enableWhenExpression, or the
 * Finnish national extension that carries the expression as a string. Undefined when there is
 * none, or when it does not evaluate (then it is not held against the response).
 */
const ENABLE_WHEN_EXPRESSION: Record<string, (e: Json) => unknown> = {
  'http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-enableWhenExpression': (e) => (e.valueExpression as Json | undefined)?.expression,
  'http://phr.kanta.fi/StructureDefinition/fiphr-ext-questionnaire-enablewhen': (e) => e.valueString,
};
function enabledByExpression(ctx: Ctx, qi: QuestionnaireItem): boolean | undefined {
  for (const ext of (qi.extension ?? []) as unknown as Json[]) {
    const expression = ENABLE_WHEN_EXPRESSION[String(ext.url)]?.(ext);
    if (typeof expression !== 'string') continue;
    const out = evaluateExpression(expression, undefined, ctx.qr, { resource: ctx.qr, rootResource: ctx.qr, questionnaire: ctx.q });
    return out === undefined ? undefined : out.length === 1 && out[0] === true;
  }
  return undefined;
}

function enabled(ctx: Ctx, qi: QuestionnaireItem): boolean {
  const byExpression = enabledByExpression(ctx, qi);
  if (byExpression !== undefined) return byExpression;
  const conds = qi.enableWhen ?? [];
  if (!conds.length) return true;
  const results = conds.map((c) => condition(ctx, c));
  return qi.enableBehavior === 'any' ? results.some(Boolean) : results.every(Boolean);
}

function condition(ctx: Ctx, c: QuestionnaireItemEnableWhen): boolean {
  const answers = answersFor(ctx, c.question);
  const want = answerValue(c as unknown as Json, 'answer');
  if (c.operator === 'exists') return (answers.length > 0) === (c.answerBoolean === true);
  if (!want) return false;
  return answers.some((a) => {
    const got = answerValue(a);
    if (!got) return false;
    if (c.operator === '=') return sameAnswer(want, got) || (want.type === got.type && want.value === got.value);
    if (c.operator === '!=') return !sameAnswer(want, got);
    const d = compare(got.type === 'Quantity' ? (got.value as Json).value : got.value, want.type === 'Quantity' ? (want.value as Json).value : want.value);
    return c.operator === '>' ? d > 0 : c.operator === '<' ? d < 0 : c.operator === '>=' ? d >= 0 : d <= 0;
  });
}

/** A Questionnaire's own rule the invariants cannot say: enableWhen may not depend on the item's own descendants. */
export function validateQuestionnaire(w: Walk, q: Json): void {
  const visit = (items: unknown, key: string, depth: number): void => {
    if (!Array.isArray(items) || depth > 32) return;
    items.forEach((raw, i) => {
      const it = raw as QuestionnaireItem | null;
      if (!it || typeof it !== 'object') return;
      w.push(key);
      w.push(i);
      const inner = new Set<string>();
      const collect = (xs: QuestionnaireItem[] | undefined, d: number): void => {
        for (const x of Array.isArray(xs) ? xs : []) {
          if (x && typeof x.linkId === 'string') inner.add(x.linkId);
          if (d < 32) collect(x?.item, d + 1);
        }
      };
      collect(it.item, 0);
      if ((Array.isArray(it.enableWhen) ? it.enableWhen : []).some((c) => inner.has(c?.question))) {
        w.report('error', 'business-rule', 'Questions with an enableWhen cannot refer to an inner question for its enableWhen condition');
      }
      visit(it.item, '.item', depth + 1);
      w.pop();
      w.pop();
    });
  };
  visit(q.item, '.item', 0);
}
