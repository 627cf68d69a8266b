/**
 * A growing window over the input bytes: a Buffer is used in place (no copy), a stream is
 * appended chunk by chunk and consumed from the front, so memory stays at one HOSO plus a chunk.
 */
export class ByteWindow {
  buf: Buffer = Buffer.alloc(0);
  done = false;
  total = 0;
  private readonly it: AsyncIterator<Uint8Array> | Iterator<Uint8Array>;

  constructor(input: Uint8Array | AsyncIterable<Uint8Array>, private readonly maxBytes: number) {
    this.it = input instanceof Uint8Array ? [input][Symbol.iterator]() : input[Symbol.asyncIterator]();
  }

  /** Appends the next chunk; false at the end of input. Throws past the size limit. */
  async more(): Promise<boolean> {
    if (this.done) return false;
    const n = await this.it.next();
    if (n.done) { this.done = true; return false; }
    const chunk = Buffer.from(n.value.buffer, n.value.byteOffset, n.value.byteLength);
    this.total += chunk.length;
    if (this.total > this.maxBytes) throw new SizeError(`file is larger than ${this.maxBytes} bytes`);
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    return true;
  }

  drop(n: number): void {
    this.buf = this.buf.subarray(n);
  }
}

export class SizeError extends Error {}

export const HOSO_OPEN = Buffer.from('<HOSO');
export const HOSO_CLOSE = Buffer.from('</HOSO>');

/** Index of `<HOSO>` / `<HOSO …>` (not `<HOSOX>`) at or after `from`. */
export function findHosoOpen(buf: Buffer, from: number): number {
  for (let i = buf.indexOf(HOSO_OPEN, from); i !== -1; i = buf.indexOf(HOSO_OPEN, i + 1)) {
    const next = buf[i + HOSO_OPEN.length];
    if (next === undefined || next === 0x3e || next === 0x20 || next === 0x09 || next === 0x0a || next === 0x0d || next === 0x2f) return i;
  }
  return -1;
}

