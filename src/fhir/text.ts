import type { HumanName } from 'fhir/r4';
import { issue, type Issue } from './outcome';

/**
 * String search matching is case- and accent-insensitive: "Nguyễn Văn Đức" is found by
 * "nguyen van duc". NFD splits most Vietnamese letters into base + marks; đ/Đ are their own
 * letters and need mapping by hand.
 */
export function normalizeText(s: string): string {
  return s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[đĐ]/g, 'd')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim();
}

/** Half of a UTF-16 surrogate pair without its other half: not a Unicode character. */
export const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/** NUL and unpaired UTF-16 surrogates: PostgreSQL's text and jsonb refuse them, and FHIR strings forbid them. */
const UNSTORABLE = new RegExp(`\\u0000|${LONE_SURROGATE.source}`);
const UNSTORABLE_ALL = new RegExp(UNSTORABLE.source, 'g');

export function isStorable(s: string): boolean {
  return !UNSTORABLE.test(s);
}

/** The text with each unstorable character replaced by U+FFFD, for what must be written whatever it holds (logs of messages, outcomes). */
export function storableText(s: string): string {
  return UNSTORABLE.test(s) ? s.replace(UNSTORABLE_ALL, '\ufffd') : s;
}

/** JSON for a jsonb column that can never be refused because of its content. */
export function storableJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'string' ? storableText(v) : v));
}

/** The Issue an adapter reports for a source field holding such a character (the message is quarantined). */
export function unstorableIssue(where: string): Issue {
  return issue('error', 'value', `${where} holds a character that cannot be stored (NUL or an unpaired UTF-16 surrogate)`, where);
}

/**
 * A name field's words. Vietnamese given names are several words ("Thị Thu Hương") and
 * HumanName.given is one word per entry, so mappers split them here.
 */
export function splitWords(s: string): string[] {
  return s.split(/\s+/).filter(Boolean);
}

/**
 * A full name as Vietnamese sources write it ("Trần Thị Thu Hương": family name first) as the
 * official HumanName, one given name per word; none for an empty name.
 */
export function vietnameseName(fullName: string): HumanName[] {
  const words = splitWords(fullName);
  return words.length ? [{ use: 'official', text: words.join(' '), family: words[0]!, ...(words.length > 1 ? { given: words.slice(1) } : {}) }] : [];
}
