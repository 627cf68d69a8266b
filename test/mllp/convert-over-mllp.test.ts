import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as iconv from 'iconv-lite';
import { convertHl7v2 } from '../../src/ingest/hl7v2';
import { parseHl7v2, parseHl7v2Text, first } from '../../src/ingest/hl7v2/parse';
import { startMllpListener } from '../../src/listeners/mllp';
import { MllpClient } from '../../src/listeners/mllp-client';
import { HL7V2 } from '../hl7v2/corpus';

const silent = { info() {}, warn() {}, error() {} };

test('the 124 ADT messages of TestADT.hl7 over one connection: every one converts and is acknowledged AA, in order', async () => {
  const raw = readFileSync(join(HL7V2, 'mirth-connect/samples/TestADT.hl7'), 'latin1');
  // Re-split the file into single messages as a sender would frame them.
  const messages = raw.split(/\r\n(?=MSH\|)/).map((m) => m.replace(/\r\n/g, '\r'));
  expect(messages).toHaveLength(124);
  let bundles = 0;
  const l = await startMllpListener({
    port: 0, logger: silent,
    handler: async (bytes) => {
      const c = convertHl7v2(bytes);
      if (c.bundle) bundles++;
      return c.ack();
    },
  });
  const client = await MllpClient.connect(l.port);
  const acks = await Promise.all(messages.map((m) => client.send(Buffer.from(m, 'latin1'))));
  const msa = acks.map((a) => parseHl7v2(a).messages[0]!.segments[1]!);
  expect(msa.map((s) => first(s.fields[2]))).toEqual(messages.map((m) => parseHl7v2Text(m).messages[0]!.controlId));
  expect(msa.filter((s) => first(s.fields[1]) !== 'AA')).toEqual([]);
  expect(bundles).toBe(124);
  await client.close();
  await l.close();
});

test('a Windows-1258 source is read with its configured charset and answered in it', async () => {
  const l = await startMllpListener({ port: 0, logger: silent, handler: async (bytes) => convertHl7v2(bytes, { charset: 'windows1258', facility: '01001' }).ack() });
  const client = await MllpClient.connect(l.port);
  const name = 'Tr\u00e2\u0300n';
  const msg = iconv.encode(`MSH|^~\\&|HIS|BV|GW|GW|202611231200||ADT^A08|W1|P|2.3\rEVN|A08\rPID|1||BN9^^^BV^MR||${name}^Th\u0069\u0323 B|||F\rPV1|1|O|||||||||||||||||V9\r`, 'windows1258');
  const ack = await client.send(msg);
  const decoded = parseHl7v2(ack, { charset: 'windows1258' }).messages[0]!;
  expect(first(decoded.segments[1]!.fields[1])).toBe('AA');
  expect(decoded.charset).toBe('windows1258');
  await client.close();
  await l.close();
});
