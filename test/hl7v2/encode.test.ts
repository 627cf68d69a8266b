import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { encodeHl7v2 } from '../../src/ingest/hl7v2/encode';
import { DEFAULT_DELIMITERS } from '../../src/ingest/hl7v2/escape';
import { parseHl7v2, parseHl7v2Text, type Hl7Segment } from '../../src/ingest/hl7v2/parse';
import { CONVERTER, HL7V2, walk } from './corpus';

const files = [
  ...walk(HL7V2, (p) => p.endsWith('.hl7') && !p.includes('Test/Message')),
  ...walk(join(CONVERTER, 'input/Hl7v2'), () => true),
];

test('every corpus message written back parses to the same tree', () => {
  let n = 0;
  for (const f of files) {
    for (const m of parseHl7v2(readFileSync(f)).messages) {
      const again = parseHl7v2Text(encodeHl7v2(m), m.charset).messages[0]!;
      expect(again.segments).toEqual(m.segments);
      n++;
    }
  }
  expect(n).toBeGreaterThan(350);
});

test('single-message files without hex or highlight escapes round-trip byte for byte', () => {
  let same = 0;
  for (const f of files) {
    const text = readFileSync(f, 'utf8').replace(/^\uFEFF/, '');
    const b = parseHl7v2Text(text);
    if (b.messages.length !== 1 || b.envelope.length || b.issues.length || /\\(X[0-9A-Fa-f]*|H|N|\.(sp|in|ti|sk|fi|nf|ce)[^\\]*|[CMZ][^\\]*)\\/.test(text)) continue;
    const lines = text.split(/\r\n|\r|\n/).filter((l) => l.trim() !== '');
    expect([f, encodeHl7v2(b.messages[0]!)]).toEqual([f, lines.join('\r') + '\r']);
    same++;
  }
  expect(same).toBeGreaterThan(150);
});

/** Mirth's XML (one element per repetition, positions named, gaps and empties allowed) → our tree. */
function treeFromMirthXml(xml: string): Hl7Segment[] {
  const doc = new XMLParser({ preserveOrder: true, parseTagValue: false, trimValues: false, processEntities: true }).parse(xml) as any[];
  const root = (doc.find((n) => n.HL7Message)?.HL7Message ?? doc) as any[];
  const text = (nodes: any[]) => nodes.filter((c) => '#text' in c).map((c) => String(c['#text'])).join('').replace(/^\s*\n\s*$/, '');
  const children = (nodes: any[]) => nodes.filter((c) => !('#text' in c)).map((c) => { const k = Object.keys(c).find((x) => x !== ':@')!; return [k, c[k]] as [string, any[]]; });
  const segments: Hl7Segment[] = [];
  for (const [id, fieldNodes] of children(root)) {
    const fields: string[][][][] = [[[[id]]]];
    for (const [name, node] of children(fieldNodes)) {
      const n = Number(name.split('.')[1]);
      while (fields.length <= n) fields.push([]);
      const comps = children(node);
      const rep: string[][] = [];
      if (!comps.length) rep.push([text(node)]);
      for (const [cname, cnode] of comps) {
        const ci = Number(cname.split('.')[2]) - 1;
        while (rep.length <= ci) rep.push(['']);
        const subs = children(cnode);
        if (!subs.length) rep[ci] = [text(cnode)];
        else {
          const s: string[] = [];
          for (const [sname, snode] of subs) {
            const si = Number(sname.split('.')[3]) - 1;
            while (s.length <= si) s.push('');
            s[si] = text(snode);
          }
          rep[ci] = s;
        }
      }
      const empty = rep.length === 1 && rep[0]!.length === 1 && rep[0]![0] === '';
      if (!empty || fields[n]!.length) fields[n]!.push(rep);
    }
    if (id === 'MSH') fields[2] = [[[String(fields[2]?.[0]?.[0]?.[0] ?? '')]]];
    segments.push({ id, fields });
  }
  return segments;
}

describe('Mirth XML → ER7 golden pairs', () => {
  const dir = join(HL7V2, 'mirth-connect/serializer');
  test.each(['missing-fields', 'missing-components', 'missing-subcomponents', 'single-segment', '1636'])('%s', (name) => {
    const segments = treeFromMirthXml(readFileSync(join(dir, `test-hl7-${name}-input.xml`), 'utf8'));
    const expected = readFileSync(join(dir, `test-hl7-${name}-output.txt`), 'utf8').split(/\r\n|\r|\n/).filter(Boolean);
    expect(encodeHl7v2({ segments, delimiters: DEFAULT_DELIMITERS }).split('\r').filter(Boolean)).toEqual(expected);
  });
});
