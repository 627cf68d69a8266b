/**
 * Canonical resources by URL (Questionnaire, Measure) that the validator consults, added for a
 * while and taken back again: a conformance test's supporting resources must not leak into the
 * next test.
 */
export class CanonicalRegistry<T extends { url?: string }> {
  private readonly byUrl = new Map<string, T>();
  private readonly journal: { url: string; previous: T | undefined }[] = [];

  register(r: T): void {
    if (!r.url) return;
    this.journal.push({ url: r.url, previous: this.byUrl.get(r.url) });
    this.byUrl.set(r.url, r);
  }

  /** By canonical URL; a `|version` suffix is ignored. */
  get(url: string): T | undefined {
    return this.byUrl.get(url.split('|')[0]!);
  }

  mark(): number {
    return this.journal.length;
  }

  rollback(mark: number): void {
    while (this.journal.length > mark) {
      const { url, previous } = this.journal.pop()!;
      if (previous) this.byUrl.set(url, previous);
      else this.byUrl.delete(url);
    }
  }
}
