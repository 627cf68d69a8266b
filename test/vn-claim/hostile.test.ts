import { readFileSync } from 'node:fs';
import { convertClaim } from '../../src/ingest/vn-claim';
import { ENVELOPE_FILE, envelope, episode } from './fixtures';

/** Deterministic pseudo-random numbers so a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

const NASTY = ['<', '>', '&', '&amp', ']]>', '<![CDATA[', '<!--', '<!DOCTYPE x>', '</HOSO>', '<HOSO>', '\u0000', '\xff', '=', '\n'];

function mutate(file: Buffer, random: () => number): Buffer {
  const b = Buffer.from(file);
  const at = Math.floor(random() * b.length);
  switch (Math.floor(random() * 4)) {
    case 0: return b.subarray(0, at); // truncated
    case 1: b[at] = Math.floor(random() * 256); return b; // one byte flipped
    case 2: return Buffer.concat([b.subarray(0, at), Buffer.from(NASTY[Math.floor(random() * NASTY.length)]!, 'latin1'), b.subarray(at)]);
    default: return Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + Math.floor(random() * 200)))]); // a slice cut out
  }
}

describe('hostile input never crashes or hangs the converter', () => {
  it('400 random mutations of real envelopes each end with results, every rejection located', async () => {
    const sources = [readFileSync(ENVELOPE_FILE), envelope([episode('A'), episode('B')])];
    const random = rng(4750);
    const started = Date.now();
    for (let i = 0; i < 400; i++) {
      const input = mutate(sources[i % sources.length]!, random);
      let count = 0;
      for await (const r of convertClaim(input)) {
        count++;
        // A file-level result (index -1) may be a warning only (SOLUONGHOSO not matching the HOSO found).
        if (!r.bundle) {
          const severities = r.issues.map((x) => x.severity);
          expect(severities.includes('error') || (r.index === -1 && severities.length > 0) ? 'ok' : JSON.stringify(r).slice(0, 600)).toBe('ok');
          for (const x of r.issues) expect(typeof x.expression).toBe('string');
        }
      }
      expect(count).toBeGreaterThan(0);
    }
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('many small HOSO-looking fragments and unclosed tags stay linear', async () => {
    const noise = Buffer.from(`<?xml version="1.0"?><GIAMDINHHS><DANHSACHHOSO>${'<HOSO><FILEHOSO><LOAIHOSO>XML1'.repeat(20000)}`);
    const started = Date.now();
    const results = [];
    for await (const r of convertClaim(noise)) results.push(r);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(results.some((r) => r.issues.some((i) => /truncated|HOSO/.test(i.diagnostics)))).toBe(true);
  });
});
