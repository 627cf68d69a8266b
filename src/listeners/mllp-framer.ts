/**
 * MLLP framing (`<VT> message <FS><CR>`) over a byte stream that TCP cuts anywhere: several
 * frames in one chunk, one frame over many chunks, noise between frames. Each `push` returns
 * every event the new bytes completed, in order, so no frame after the first is ever dropped.
 */
export const VT = 0x0b;
export const FS = 0x1c;
export const CR = 0x0d;

export type FrameEvent =
  | { kind: 'frame'; data: Buffer }
  /** A frame over the size limit: its bytes were dropped, `head` keeps the start for a NAK. */
  | { kind: 'oversized'; size: number; head: Buffer }
  /** Bytes outside any frame, or a frame cut short by a new `<VT>`. */
  | { kind: 'garbage'; bytes: number };

const HEAD_BYTES = 4096;

export class MllpFramer {
  private inFrame = false;
  private afterEnd = false;
  private parts: Buffer[] = [];
  private size = 0;
  private oversized = false;
  private head: Buffer = Buffer.alloc(0);

  constructor(private readonly maxFrameBytes: number) {}

  /** Bytes of a frame started but not finished (a slow or stuck sender). */
  get partial(): boolean {
    return this.inFrame;
  }

  push(chunk: Buffer): FrameEvent[] {
    const events: FrameEvent[] = [];
    let garbage = 0;
    let i = 0;
    if (this.afterEnd && chunk.length > 0) {
      if (chunk[0] === CR) i = 1;
      this.afterEnd = false;
    }
    while (i < chunk.length) {
      if (!this.inFrame) {
        const start = chunk.indexOf(VT, i);
        if (start < 0) {
          garbage += chunk.length - i;
          break;
        }
        garbage += start - i;
        this.begin();
        i = start + 1;
        continue;
      }
      const fs = chunk.indexOf(FS, i);
      const vt = chunk.indexOf(VT, i);
      if (vt >= 0 && (fs < 0 || vt < fs)) {
        // A new start before the end: the sender gave up on the previous frame.
        garbage += this.size + (vt - i);
        this.begin();
        i = vt + 1;
        continue;
      }
      const end = fs < 0 ? chunk.length : fs;
      this.append(chunk.subarray(i, end));
      if (fs < 0) break;
      events.push(this.finish());
      i = fs + 1;
      if (i < chunk.length) {
        if (chunk[i] === CR) i++;
      } else {
        this.afterEnd = true;
      }
    }
    if (garbage > 0) events.unshift({ kind: 'garbage', bytes: garbage });
    return events;
  }

  private begin(): void {
    this.inFrame = true;
    this.parts = [];
    this.size = 0;
    this.oversized = false;
    this.head = Buffer.alloc(0);
  }

  private append(bytes: Buffer): void {
    if (bytes.length === 0) return;
    if (this.head.length < HEAD_BYTES) this.head = Buffer.concat([this.head, bytes.subarray(0, HEAD_BYTES - this.head.length)]);
    this.size += bytes.length;
    if (this.size > this.maxFrameBytes) {
      this.oversized = true;
      this.parts = [];
      return;
    }
    this.parts.push(bytes);
  }

  private finish(): FrameEvent {
    this.inFrame = false;
    const ev: FrameEvent = this.oversized
      ? { kind: 'oversized', size: this.size, head: this.head }
      : { kind: 'frame', data: this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.size) };
    this.parts = [];
    return ev;
  }
}

export function frame(message: Buffer | string): Buffer {
  const body = typeof message === 'string' ? Buffer.from(message, 'utf8') : message;
  const out = Buffer.allocUnsafe(body.length + 3);
  out[0] = VT;
  body.copy(out, 1);
  out[body.length + 1] = FS;
  out[body.length + 2] = CR;
  return out;
}
