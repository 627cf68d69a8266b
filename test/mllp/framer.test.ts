import { frame, MllpFramer, type FrameEvent } from '../../src/listeners/mllp-framer';

const frames = (events: FrameEvent[]) => events.filter((e) => e.kind === 'frame').map((e) => (e as { data: Buffer }).data.toString());

test('several frames in one chunk, with garbage between', () => {
  const f = new MllpFramer(1000);
  const bytes = Buffer.concat([Buffer.from('noise'), frame('A'), frame('BB'), Buffer.from('\r\n'), frame('CCC')]);
  const ev = f.push(bytes);
  expect(frames(ev)).toEqual(['A', 'BB', 'CCC']);
  expect(ev[0]).toEqual({ kind: 'garbage', bytes: 7 });
});

test('every split point of a three-frame stream gives the same frames', () => {
  const stream = Buffer.concat([frame('MSH|1'), frame('MSH|22'), frame('MSH|333')]);
  for (let a = 0; a <= stream.length; a++) {
    for (let b = a; b <= stream.length; b += 3) {
      const f = new MllpFramer(1000);
      const got = [...f.push(stream.subarray(0, a)), ...f.push(stream.subarray(a, b)), ...f.push(stream.subarray(b))];
      expect(frames(got)).toEqual(['MSH|1', 'MSH|22', 'MSH|333']);
      expect(got.some((e) => e.kind === 'garbage')).toBe(false);
    }
  }
});

test('byte by byte', () => {
  const f = new MllpFramer(1000);
  const stream = Buffer.concat([frame('one'), frame('two')]);
  const got: FrameEvent[] = [];
  for (const b of stream) got.push(...f.push(Buffer.from([b])));
  expect(frames(got)).toEqual(['one', 'two']);
});

test('oversized frames are dropped with their head kept; the next frame is fine', () => {
  const f = new MllpFramer(10);
  const ev = f.push(Buffer.concat([frame('MSH|' + 'x'.repeat(50)), frame('ok')]));
  expect(ev[0]).toMatchObject({ kind: 'oversized', size: 54 });
  expect((ev[0] as { head: Buffer }).head.toString().startsWith('MSH|')).toBe(true);
  expect(frames(ev)).toEqual(['ok']);
});

test('a frame restarted by a new VT is reported as garbage', () => {
  const f = new MllpFramer(100);
  const ev = f.push(Buffer.concat([Buffer.from([0x0b]), Buffer.from('half'), frame('whole')]));
  expect(frames(ev)).toEqual(['whole']);
  expect(ev.some((e) => e.kind === 'garbage')).toBe(true);
  expect(f.partial).toBe(false);
  f.push(Buffer.from([0x0b, 0x41]));
  expect(f.partial).toBe(true);
});
