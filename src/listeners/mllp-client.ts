import { connect, type Socket } from 'node:net';
import { connect as connectTls, type ConnectionOptions } from 'node:tls';
import { frame, MllpFramer } from './mllp-framer';

/**
 * A small MLLP sender for tests, the benchmark and tools: one persistent connection, any
 * number of messages in flight, ACKs matched to sends by order (MLLP has no other key).
 */
export class MllpClient {
  private readonly framer = new MllpFramer(64 * 1024 * 1024);
  private readonly waiting: { resolve(ack: Buffer): void; reject(err: Error): void }[] = [];

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const ev of this.framer.push(chunk)) {
        if (ev.kind === 'frame') this.waiting.shift()?.resolve(ev.data);
      }
    });
    const failAll = (err: Error) => {
      for (const w of this.waiting.splice(0)) w.reject(err);
    };
    socket.on('error', failAll);
    socket.on('close', () => failAll(new Error('connection closed before the ACK')));
  }

  static connect(port: number, host = '127.0.0.1'): Promise<MllpClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host, noDelay: true }, () => {
        socket.off('error', reject);
        resolve(new MllpClient(socket));
      });
      socket.once('error', reject);
    });
  }

  /** MLLP over TLS: `options` carry the CA and, where the listener asks for one, the client certificate. */
  static connectTls(port: number, options: ConnectionOptions, host = '127.0.0.1'): Promise<MllpClient> {
    return new Promise((resolve, reject) => {
      const socket = connectTls({ port, host, ...options }, () => {
        socket.off('error', reject);
        resolve(new MllpClient(socket));
      });
      socket.once('error', reject);
    });
  }

  /** Sends one message (without framing) and resolves with the ACK bytes (without framing). */
  send(message: Buffer | string): Promise<Buffer> {
    return this.sendRaw(frame(message));
  }

  /** Writes bytes as given, for tests of broken framing; resolves with the next ACK. */
  sendRaw(bytes: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.socket.write(bytes);
    });
  }

  /** Writes bytes that are not expected to produce an ACK. */
  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  get closed(): boolean {
    return this.socket.destroyed;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed) return resolve();
      this.socket.once('close', () => resolve());
      this.socket.end();
    });
  }
}
