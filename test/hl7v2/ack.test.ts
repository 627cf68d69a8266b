import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { issue } from '../../src/fhir/outcome';
import { ackCodeFor, buildAck, buildAckBytes } from '../../src/ingest/hl7v2/ack';
import { parseHl7v2, parseHl7v2Text, first } from '../../src/ingest/hl7v2/parse';
import { HL7V2 } from './corpus';

const inbound = parseHl7v2Text('MSH|^~\\&|RIS|BV_A^1.2.3^ISO|GW|SYT|20261123120000||ORU^R01^ORU_R01|MSG0001|P|2.5.1\rPID|1||X\r').messages[0]!;
const now = new Date('2026-11-23T05:00:00Z');

test('AA swaps sender and receiver and echoes MSH-10', () => {
  const ack = parseHl7v2Text(buildAck(inbound, { code: 'AA', controlId: 'A1', now })).messages[0]!;
  const msh = ack.segments[0]!.fields;
  expect(first(msh[3])).toBe('GW');
  expect(first(msh[5])).toBe('RIS');
  expect(msh[6]).toEqual([[['BV_A'], ['1.2.3'], ['ISO']]]);
  expect(first(msh[7])).toBe('20261123120000+0700');
  expect(ack.type).toBe('ACK');
  expect(ack.trigger).toBe('R01');
  expect(ack.controlId).toBe('A1');
  expect(ack.segments[1]!.id).toBe('MSA');
  expect(first(ack.segments[1]!.fields[1])).toBe('AA');
  expect(first(ack.segments[1]!.fields[2])).toBe('MSG0001');
  expect(ack.segments).toHaveLength(2);
});

test('AE carries ERR with code, location and escaped text', () => {
  const issues = [issue('error', 'required', 'PID-3 has no identifier | none', 'PID-3[2].1')];
  expect(ackCodeFor(issues)).toBe('AE');
  const ack = parseHl7v2Text(buildAck(inbound, { code: 'AE', issues })).messages[0]!;
  const err = ack.segments.find((s) => s.id === 'ERR')!;
  expect(err.fields[2]).toEqual([[['PID'], ['1'], ['3'], ['2'], ['1']]]);
  expect(first(err.fields[3])).toBe('101');
  expect(first(err.fields[4])).toBe('E');
  expect(first(err.fields[8])).toBe('PID-3 has no identifier | none');
  expect(first(ack.segments[1]!.fields[3])).toBe('PID-3 has no identifier | none');
});

test('v2.3 puts the location and code in ERR-1', () => {
  const old = parseHl7v2Text('MSH|^~\\&|A|B|C|D|2026||ADT^A01|X9|P|2.3\r').messages[0]!;
  const ack = parseHl7v2Text(buildAck(old, { code: 'AE', issues: [issue('error', 'value', 'bad date', 'PID-7')] })).messages[0]!;
  const err = ack.segments.find((s) => s.id === 'ERR')!;
  expect(err.fields[1]![0]![0]).toEqual(['PID']);
  expect(err.fields[1]![0]![3]).toEqual(['102', 'Data type error', 'HL70357']);
  expect(ack.trigger).toBe('A01');
});

test('AR for the malformed corpus messages and for no MSH at all', () => {
  for (const f of ['empty.hl7', 'msh_present_but_missing_all_fields.hl7', 'msh_present_but_missing_msh-10.hl7']) {
    const b = parseHl7v2(readFileSync(join(HL7V2, 'cdc-trusted-intermediary/Test/Message', f)));
    const m = b.messages[0];
    const issues = [...b.issues, ...(m?.issues ?? [])];
    const code = ackCodeFor(issues, !!m);
    expect(code).not.toBe('AA');
    const bytes = buildAckBytes(m, { code: m ? 'AR' : code, issues });
    const ack = parseHl7v2(bytes).messages[0]!;
    expect(['AR', 'AE']).toContain(first(ack.segments[1]!.fields[1]));
    expect(ack.segments.some((s) => s.id === 'ERR')).toBe(true);
  }
});
