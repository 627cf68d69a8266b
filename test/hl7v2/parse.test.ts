import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as iconv from 'iconv-lite';
import { XMLParser } from 'fast-xml-parser';
import { hasErrors } from '../../src/fhir/outcome';
import { parseHl7v2, parseHl7v2Text, first, type Hl7Message } from '../../src/ingest/hl7v2/parse';
import { escapeHl7, unescapeHl7, DEFAULT_DELIMITERS } from '../../src/ingest/hl7v2/escape';
import { hl7Location } from '../../src/ingest/hl7v2/location';
import { CONVERTER, HL7V2, walk } from './corpus';

const MALFORMED = join(HL7V2, 'cdc-trusted-intermediary/Test/Message');
const messageFiles = [
  ...walk(HL7V2, (p) => p.endsWith('.hl7') && !p.startsWith(MALFORMED)),
  ...walk(join(CONVERTER, 'input/Hl7v2'), () => true),
  join(CONVERTER, 'input/extra/Hl7v2TestTimezoneInput.hl7v2'),
];

describe('every corpus message parses', () => {
  test.each(messageFiles.map((p) => [relative(HL7V2 + '/..', p), p]))('%s', (_name, path) => {
    const batch = parseHl7v2(readFileSync(path));
    expect(batch.messages.length).toBeGreaterThan(0);
    expect(batch.issues.filter((i) => i.severity === 'fatal' || i.severity === 'error')).toEqual([]);
    for (const m of batch.messages) {
      expect(m.type).toMatch(/^[A-Z]{3}$/);
      expect(m.version).toMatch(/^2\.\d/);
      expect(m.controlId).not.toBe('');
      expect(m.segments[0]!.id).toBe('MSH');
      expect(m.issues.filter((i) => i.severity === 'error')).toEqual([]);
    }
  });
});

test('message counts per file, batches split', () => {
  const count = (p: string) => parseHl7v2(readFileSync(join(HL7V2, 'mirth-connect', p))).messages.length;
  expect(count('samples/TestADT.hl7')).toBe(124);
  expect(count('filereader/batch/batch01.hl7')).toBe(3);
  expect(count('filereader/batch/batch02.hl7')).toBe(1);
  expect(count('filereader/batch/batch03.hl7')).toBe(2);
  expect(count('filereader/batch/nested/batch04.hl7')).toBe(3);
  const fhs = parseHl7v2(readFileSync(join(HL7V2, 'mirth-connect/serializer/test-hl7-batch-input.txt')));
  expect(fhs.envelope.map((s) => s.id).slice(0, 2)).toEqual(['FHS', 'BHS']);
  const cdc = parseHl7v2(readFileSync(join(HL7V2, 'cdc-trusted-intermediary/Test/Results/005_AL_ORU_R01_NBS_Simplified_0_initial_message.hl7')));
  expect(cdc.envelope.length).toBeGreaterThan(0);
  expect(cdc.messages).toHaveLength(1);
});

describe('malformed messages give clear errors, never a crash', () => {
  const cases: [string, string][] = [
    ['empty.hl7', 'MSH'],
    ['msh_present_but_missing_all_fields.hl7', 'MSH-'],
    ['msh_present_but_missing_msh-2.hl7', 'MSH-2'],
    ['msh_present_but_missing_msh-9.hl7', 'MSH-9'],
    ['msh_present_but_missing_msh-10.hl7', 'MSH-10'],
  ];
  test.each(cases)('%s → error at %s', (file, where) => {
    const b = parseHl7v2(readFileSync(join(MALFORMED, file)));
    const all = [...b.issues, ...b.messages.flatMap((m) => m.issues)];
    expect(hasErrors(all)).toBe(true);
    expect(all.some((i) => i.expression?.startsWith(where))).toBe(true);
  });
  test('garbage bytes', () => {
    for (const raw of [Buffer.from([0, 1, 2, 255, 254]), Buffer.alloc(0), Buffer.from('MSH'), Buffer.from('PID|1\rOBX|x'), Buffer.from('MSH|^~\\&|' + '\\'.repeat(10000))]) {
      const b = parseHl7v2(raw);
      expect(b).toBeDefined();
    }
  });
});

/** Mirth's XML form flattened to `SEG(n)-f[r].c.s = value`, non-empty leaves only. */
function flattenMirth(xml: string): string[] {
  const tree = new XMLParser({ preserveOrder: true, parseTagValue: false, trimValues: false }).parse(xml) as any[];
  const out: string[] = [];
  const root = tree.find((n) => n.HL7Message).HL7Message as any[];
  const seen = new Map<string, number>();
  for (const segNode of root) {
    const seg = Object.keys(segNode).find((k) => k !== '#text' && k !== ':@');
    if (!seg) continue;
    const occ = (seen.get(seg) ?? 0) + 1;
    seen.set(seg, occ);
    const reps = new Map<string, number>();
    for (const f of segNode[seg] as any[]) {
      const fname = Object.keys(f).find((k) => k.startsWith(seg + '.'));
      if (!fname) continue;
      const fn = fname.split('.')[1]!;
      const r = (reps.get(fn) ?? 0) + 1;
      reps.set(fn, r);
      const walkLeaf = (node: any[], path: string[]) => {
        for (const c of node) {
          if ('#text' in c) { if (c['#text'].trim() !== '' || path.length > 0) { const p = [fn, ...path]; if (c['#text'] !== '' && !/^\s*\n\s*$/.test(c['#text'])) out.push(`${seg}(${occ})-${p[0]}[${r}].${p[1] ?? 1}.${p[2] ?? 1}=${c['#text']}`); } continue; }
          const k = Object.keys(c).find((x) => x !== ':@')!;
          walkLeaf(c[k], k.split('.').slice(2));
        }
      };
      walkLeaf(f[fname], []);
    }
  }
  // Mirth leaves a '&' inside a component unsplit when the field has no other subcomponents
  // (OBR-4 "W/&W/O"); HL7 makes it a subcomponent separator, so compare it split.
  return out.flatMap((leaf) => {
    const m = /^(MSH|FHS|BHS)\(\d+\)-2\[/.test(leaf) ? null : /^(.*)\.1=(.*&.*)$/.exec(leaf);
    return m ? m[2]!.split('&').flatMap((v, k) => (v ? [`${m[1]}.${k + 1}=${v}`] : [])) : [leaf];
  }).sort();
}

function flattenOurs(messages: Hl7Message[], envelope: { id: string; fields: string[][][][] }[]): string[] {
  const out: string[] = [];
  const seen = new Map<string, number>();
  for (const s of [...envelope.filter((e) => e.id === 'FHS' || e.id === 'BHS'), ...messages.flatMap((m) => m.segments), ...envelope.filter((e) => e.id === 'BTS' || e.id === 'FTS')]) {
    const occ = (seen.get(s.id) ?? 0) + 1;
    seen.set(s.id, occ);
    s.fields.forEach((f, n) => {
      if (n === 0) return;
      f.forEach((rep, r) => rep.forEach((comp, c) => comp.forEach((sub, k) => {
        if (sub !== '') out.push(`${s.id}(${occ})-${n}[${r + 1}].${c + 1}.${k + 1}=${sub}`);
      })));
    });
  }
  return out.sort();
}

describe('Mirth ER7 → XML golden pairs agree', () => {
  const dir = join(HL7V2, 'mirth-connect/serializer');
  test.each(['test-hl7', 'test-hl7-batch', 'test-hl7-repetitions', 'test-hl7-subcomponents', 'test-hl7-whitespace'])('%s', (name) => {
    const b = parseHl7v2(readFileSync(join(dir, `${name}-input.txt`)));
    const expected = flattenMirth(readFileSync(join(dir, `${name}-output.xml`), 'utf8'));
    expect(expected.length).toBeGreaterThan(10);
    expect(flattenOurs(b.messages, b.envelope)).toEqual(expected);
  });
});

describe('delimiters, escapes, terminators, charsets', () => {
  const msg = 'MSH|^~\\&|LAB|BV_CHORAY|GW|GW|202611231200||ORU^R01^ORU_R01|C1|P|2.5.1\rPID|1||A1^^^BV&1.2&ISO~B2^^^BHYT||NGUYEN^VAN A\rOBX|1|TX|X^Y||a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f\\.br\\g\\X41\\h\\H\\i\\N\\\rZPI|1|custom^data\r';
  test('components, repetitions, subcomponents, escapes, Z-segments', () => {
    const m = parseHl7v2Text(msg).messages[0]!;
    expect(m.type).toBe('ORU');
    expect(m.trigger).toBe('R01');
    expect(m.structure).toBe('ORU_R01');
    const pid = m.segments[1]!;
    expect(pid.fields[3]!.length).toBe(2);
    expect(pid.fields[3]![0]![3]).toEqual(['BV', '1.2', 'ISO']);
    expect(pid.fields[3]![1]![3]).toEqual(['BHYT']);
    expect(first(m.segments[2]!.fields[5])).toBe('a|b^c&d~e\\f\ngAhi');
    expect(m.segments[3]!.id).toBe('ZPI');
    expect(first(m.segments[3]!.fields[2], 2)).toBe('data');
  });
  test('custom encoding characters from MSH-1/MSH-2', () => {
    const m = parseHl7v2Text('MSH#$*!@#A#B#C#D#202601010000##ADT$A01#X1#P#2.3\rPID#1##ID1$$$AUTH*ID2#').messages[0]!;
    expect(m.delimiters).toMatchObject({ field: '#', component: '$', repetition: '*', escape: '!', subcomponent: '@' });
    expect(m.trigger).toBe('A01');
    expect(m.segments[1]!.fields[3]!.map((r) => r[0]![0])).toEqual(['ID1', 'ID2']);
  });
  test('CR, LF and CRLF all separate segments', () => {
    for (const eol of ['\r', '\n', '\r\n']) {
      const m = parseHl7v2Text(msg.replace(/\r/g, eol)).messages[0]!;
      expect(m.segments.map((s) => s.id)).toEqual(['MSH', 'PID', 'OBX', 'ZPI']);
    }
  });
  test('with CR terminators, a raw LF inside a field stays data', () => {
    const m = parseHl7v2Text('MSH|^~\\&|A|B|C|D|2026||ORU^R01|1|P|2.5\rOBX|1|TX|X||line one\nline two\r').messages[0]!;
    expect(m.segments.map((s) => s.id)).toEqual(['MSH', 'OBX']);
    expect(first(m.segments[1]!.fields[5])).toBe('line one\nline two');
  });
  test('escape → unescape round trip', () => {
    const s = 'a|b^c&d~e\\f\ng';
    expect(unescapeHl7(escapeHl7(s, DEFAULT_DELIMITERS), DEFAULT_DELIMITERS)).toBe(s);
  });
  test('MSH-18 8859/1 and UNICODE UTF-8, configured Windows-1258', () => {
    const latin = Buffer.concat([Buffer.from('MSH|^~\\&|A|B|C|D|2026||ADT^A01|1|P|2.5||||||8859/1\rPID|1||1||M'), Buffer.from([0xfc]), Buffer.from('LLER\r')]);
    expect(first(parseHl7v2(latin).messages[0]!.segments[1]!.fields[5])).toBe('MÜLLER'.replace('Ü', 'ü'));
    const viet = 'Nguyễn Thị Hồng';
    const utf = Buffer.from(`MSH|^~\\&|A|B|C|D|2026||ADT^A01|1|P|2.5||||||UNICODE UTF-8\rPID|1||1||${viet}\r`, 'utf8');
    expect(first(parseHl7v2(utf).messages[0]!.segments[1]!.fields[5])).toBe(viet);
    // Windows-1258 writes tone marks as combining characters after a precomposed vowel.
    const cp1258 = 'Nguy\u00ea\u0303n Thi\u0323 H\u00f4\u0300ng';
    const cp = iconv.encode(`MSH|^~\\&|A|B|C|D|2026||ADT^A01|1|P|2.5\rPID|1||1||${cp1258}\r`, 'windows1258');
    expect(cp.includes(0x3f)).toBe(false);
    const decoded = parseHl7v2(cp, { charset: 'windows1258' });
    expect(decoded.charset).toBe('windows1258');
    expect(first(decoded.messages[0]!.segments[1]!.fields[5])).toBe(viet);
    const bad = parseHl7v2(cp, { charset: 'no-such-charset' });
    expect(hasErrors(bad.issues)).toBe(true);
  });
  test('UTF-8 corpus text decodes without loss', () => {
    const b = parseHl7v2(readFileSync(join(HL7V2, 'cdc-trusted-intermediary/Test/Automated/008_ORU_R01_micro_character_encoding.hl7')));
    expect(JSON.stringify(b.messages[0]!.segments)).toMatch(/µ/);
  });
  test('locations', () => {
    expect(hl7Location('PID', 1, 3, 2, 1)).toBe('PID-3[2].1');
    expect(hl7Location('OBX', 4, 5)).toBe('OBX(4)-5');
  });
});
