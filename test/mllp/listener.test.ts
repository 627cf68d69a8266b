import { connect } from 'node:net';
import { buildAckBytes } from '../../src/ingest/hl7v2/ack';
import { first, parseHl7v2 } from '../../src/ingest/hl7v2/parse';
import { startMllpListener, type MllpHandler, type MllpListener } from '../../src/listeners/mllp';
import { MllpClient } from '../../src/listeners/mllp-client';
import { frame, MllpFramer } from '../../src/listeners/mllp-framer';

const silent = { info() {}, warn() {}, error() {} };
const msg = (id: string) => `MSH|^~\\&|LIS|BV_A|GW|GW|20261123120000||ORU^R01|${id}|P|2.5.1\rPID|1||P${id}\r`;

/** The test handler: parse, answer AA (or AR when unreadable), optionally slowly. */
function ackHandler(delayMs = 0, seen: string[] = []): MllpHandler {
  return async (raw) => {
    if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
    const b = parseHl7v2(raw);
    const m = b.messages[0];
    seen.push(m?.controlId ?? '');
    return buildAckBytes(m, { code: m ? 'AA' : 'AR', issues: b.issues });
  };
}
const msa = (ack: Buffer) => {
  const seg = parseHl7v2(ack).messages[0]!.segments[1]!;
  return { code: first(seg.fields[1]), id: first(seg.fields[2]) };
};

/** Raw socket: write bytes (possibly in pieces), collect `count` ACK frames. */
function exchange(port: number, pieces: Buffer[], count: number, gapMs = 0): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1' });
    const f = new MllpFramer(1 << 20);
    const acks: Buffer[] = [];
    s.on('data', (c: Buffer) => {
      for (const e of f.push(c)) if (e.kind === 'frame') acks.push(e.data);
      if (acks.length >= count) { s.destroy(); resolve(acks); }
    });
    s.on('error', reject);
    void (async () => {
      for (const p of pieces) {
        s.write(p);
        if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
      }
    })();
  });
}

let listener: MllpListener;
const seen: string[] = [];
beforeAll(async () => {
  listener = await startMllpListener({ port: 0, handler: ackHandler(0, seen), logger: silent, maxMessageBytes: 4096, frameTimeoutMs: 300, idleTimeoutMs: 2000 });
});
afterAll(() => listener.close());

test('binds to loopback on an ephemeral port and answers AA with MSA-2 = MSH-10', async () => {
  const c = await MllpClient.connect(listener.port);
  expect(msa(await c.send(msg('M1')))).toEqual({ code: 'AA', id: 'M1' });
  await c.close();
});

test('several messages in one TCP chunk all get ACKs, in order', async () => {
  const acks = await exchange(listener.port, [Buffer.concat(['A1', 'A2', 'A3', 'A4'].map((id) => frame(msg(id))))], 4);
  expect(acks.map((a) => msa(a).id)).toEqual(['A1', 'A2', 'A3', 'A4']);
});

test('a frame split across chunks, garbage between frames', async () => {
  const stream = Buffer.concat([Buffer.from('junk\r\n'), frame(msg('S1')), Buffer.from('more junk'), frame(msg('S2'))]);
  const pieces = [stream.subarray(0, 5), stream.subarray(5, 20), stream.subarray(20, 21), stream.subarray(21, 70), stream.subarray(70)];
  const acks = await exchange(listener.port, pieces, 2, 10);
  expect(acks.map((a) => msa(a).id)).toEqual(['S1', 'S2']);
});

test('500 pipelined messages on one persistent connection come back in order', async () => {
  const c = await MllpClient.connect(listener.port);
  const ids = Array.from({ length: 500 }, (_, i) => `P${i}`);
  const acks = await Promise.all(ids.map((id) => c.send(msg(id))));
  expect(acks.map((a) => msa(a).id)).toEqual(ids);
  await c.close();
});

test('oversized message → AR naming the limit; the connection keeps working', async () => {
  const c = await MllpClient.connect(listener.port);
  const big = msg('BIG') + 'OBX|1|TX|X||' + 'y'.repeat(10_000) + '\r';
  const nak = await c.send(big);
  expect(msa(nak)).toEqual({ code: 'AR', id: 'BIG' });
  expect(nak.toString()).toMatch(/4096-byte limit/);
  expect(msa(await c.send(msg('AFTER')))).toEqual({ code: 'AA', id: 'AFTER' });
  await c.close();
});

test('garbage and a message without MSH: AR, listener alive', async () => {
  const c = await MllpClient.connect(listener.port);
  c.write(Buffer.from([0, 1, 2, 3, 0xff, 0x1c, 0x0d]));
  expect(msa(await c.send(Buffer.from([0xde, 0xad, 0xbe, 0xef]))).code).toBe('AR');
  expect(msa(await c.send('PID|1||X')).code).toBe('AR');
  expect(msa(await c.send(msg('OK'))).code).toBe('AA');
  await c.close();
});

test('half-open: the sender ends its side and still gets its ACK', async () => {
  const acks = await new Promise<Buffer[]>((resolve) => {
    const s = connect({ port: listener.port, host: '127.0.0.1' }, () => s.end(frame(msg('H1'))));
    const f = new MllpFramer(1 << 20);
    const out: Buffer[] = [];
    s.on('data', (c: Buffer) => { for (const e of f.push(c)) if (e.kind === 'frame') out.push(e.data); });
    s.on('close', () => resolve(out));
  });
  expect(acks.map((a) => msa(a).id)).toEqual(['H1']);
});

test('a slow sender that never finishes its frame is closed; other connections are unaffected', async () => {
  const slow = connect({ port: listener.port, host: '127.0.0.1' });
  const closed = new Promise<void>((r) => slow.on('close', () => r()));
  slow.write(Buffer.concat([Buffer.from([0x0b]), Buffer.from('MSH|^~\\&|partial')]));
  const c = await MllpClient.connect(listener.port);
  expect(msa(await c.send(msg('FAST'))).code).toBe('AA');
  await closed;
  expect(msa(await c.send(msg('FAST2'))).code).toBe('AA');
  await c.close();
});

test('handler failure → AR asking for a resend, never AA', async () => {
  const l = await startMllpListener({ port: 0, logger: silent, handler: async () => { throw new Error('store down'); } });
  const c = await MllpClient.connect(l.port);
  const nak = await c.send(msg('F1'));
  expect(msa(nak)).toEqual({ code: 'AR', id: 'F1' });
  expect(nak.toString()).not.toMatch(/store down/);
  await c.close();
  await l.close();
});

test('back-pressure: a slow handler with a small window still answers everything in order, one at a time', async () => {
  let active = 0;
  let maxActive = 0;
  const inner = ackHandler(2);
  const l = await startMllpListener({
    port: 0, logger: silent, maxInFlight: 4,
    handler: async (raw, meta) => { active++; maxActive = Math.max(maxActive, active); try { return await inner(raw, meta); } finally { active--; } },
  });
  const c = await MllpClient.connect(l.port);
  const ids = Array.from({ length: 60 }, (_, i) => `B${i}`);
  const acks = await Promise.all(ids.map((id) => c.send(msg(id))));
  expect(acks.map((a) => msa(a).id)).toEqual(ids);
  expect(maxActive).toBe(1);
  await c.close();
  await l.close();
});

test('idle connections are closed', async () => {
  const l = await startMllpListener({ port: 0, logger: silent, handler: ackHandler(), idleTimeoutMs: 100 });
  const c = await MllpClient.connect(l.port);
  await c.send(msg('I1'));
  await new Promise((r) => setTimeout(r, 400));
  expect(c.closed).toBe(true);
  await l.close();
});

test('a sender that never reads its ACKs is closed once the idle time passes', async () => {
  const l = await startMllpListener({ port: 0, logger: silent, handler: async () => Buffer.alloc(256 * 1024, 0x41), idleTimeoutMs: 300, maxInFlight: 2 });
  try {
    const s = connect({ port: l.port, host: '127.0.0.1' });
    s.pause();
    for (let i = 0; i < 200; i++) s.write(frame(msg(`N${i}`)));
    await new Promise((r) => setTimeout(r, 1500));
    // Read what was sent before the listener gave up: far fewer than 200 ACKs.
    const f = new MllpFramer(1 << 20);
    let acks = 0;
    s.on('data', (c: Buffer) => { for (const e of f.push(c)) if (e.kind === 'frame') acks++; });
    s.on('error', () => {});
    await new Promise<void>((r) => { s.on('close', () => r()); s.resume(); });
    expect(acks).toBeLessThan(200);
    const c = await MllpClient.connect(l.port);
    expect(msa(buildAckBytes(parseHl7v2(Buffer.from(msg('X'))).messages[0], { code: 'AA' })).code).toBe('AA');
    await c.close();
  } finally {
    await l.close();
  }
}, 20000);

test('a handler that returns no bytes closes only its own connection', async () => {
  let calls = 0;
  const l = await startMllpListener({ port: 0, logger: silent, handler: async (raw, meta) => (calls++ === 0 ? (undefined as unknown as Buffer) : ackHandler()(raw, meta)) });
  const bad = await MllpClient.connect(l.port);
  await expect(bad.send(msg('U1'))).rejects.toThrow(/closed/);
  const good = await MllpClient.connect(l.port);
  expect(msa(await good.send(msg('U2'))).code).toBe('AA');
  await good.close();
  await l.close();
});
