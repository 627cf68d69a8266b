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

/**
 * A name field's words. Vietnamese given names are several words ("Thị Thu Hương") and
 * HumanName.given is one word per entry, so mappers split them here.
 */
export function splitWords(s: string): string[] {
  return s.split(/\s+/).filter(Boolean);
}
