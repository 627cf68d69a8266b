import { benchMllp, generateOru } from '../../scripts/bench/mllp';
import { convertHl7v2 } from '../../src/ingest/hl7v2';

test('the benchmark messages are valid ORU that convert, and a short run is all AA with sane figures', async () => {
  const messages = Array.from({ length: 200 }, (_, i) => generateOru(i));
  const cfg = { facility: '79001', identifierAuthorities: { 'BV_BENCH^MR': 'MA_BN' } };
  expect(convertHl7v2(messages[0]!, cfg).issues.filter((i) => i.severity !== 'information')).toEqual([]);
  const r = await benchMllp(async (raw) => convertHl7v2(raw, cfg).ack(), messages);
  expect(r.rejected).toBe(0);
  expect(r.msgsPerS).toBeGreaterThan(0);
  expect(r.p99).toBeGreaterThanOrEqual(r.p50);
});
