import { createServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type TlsOptions } from 'node:tls';
import pino from 'pino';
import { issue } from '../fhir/outcome';
import { buildAckBytes } from '../ingest/hl7v2/ack';
import { parseHl7v2 } from '../ingest/hl7v2/parse';
import { frame, MllpFramer } from './mllp-framer';

/**
 * The MLLP edge: TCP in, framed messages to a handler, framed ACKs back in the order the
 * messages came. One connection's messages are handled one at a time (an A08 must not
 * overtake the A01 it updates) while the socket keeps reading ahead up to `maxInFlight`;
 * past that the socket is paused, so a fast sender slows down instead of filling memory.
 */
export type MllpHandler = (raw: Buffer, meta: { remoteAddress: string; admitted?: unknown }) => Promise<Buffer>;

export interface MllpLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface MllpListenerOptions {
  handler: MllpHandler;
  /** Default `MLLP_PORT` or 2575; 0 picks a free port. */
  port?: number;
  /** Default `MLLP_HOST` or loopback: exposing the port is a deliberate act. */
  host?: string;
  maxMessageBytes?: number;
  /** Close a connection with nothing in flight after this long without bytes. */
  idleTimeoutMs?: number;
  /** Close a connection whose started frame is not finished after this long. */
  frameTimeoutMs?: number;
  /** Messages read ahead per connection before the socket is paused. */
  maxInFlight?: number;
  maxConnections?: number;
  logger?: MllpLogger;
  /** MLLP over TLS (client certificates are asked for and checked when `requestCert` is set). */
  tls?: TlsOptions;
  /**
   * Decides, once per connection, who the sender is; undefined closes the connection unanswered.
   * What it returns reaches the handler as `admitted`.
   */
  admit?: (socket: Socket) => unknown;
  /**
   * Back-pressure from behind the listener: handling waits until it resolves (the intake's
   * backlog is under its bound), so the read-ahead fills and the socket stops reading.
   */
  ready?: () => Promise<void>;
}

export interface MllpListener {
  port: number;
  close(): Promise<void>;
}

/** A NAK built without the handler: for frames we could not even hand over. */
function reject(head: Buffer, why: string, code: 'AR' | 'AE' = 'AR'): Buffer {
  const inbound = parseHl7v2(head).messages[0];
  return buildAckBytes(inbound, { code, issues: [issue('error', code === 'AR' ? 'too-long' : 'exception', why)], text: why });
}

export async function startMllpListener(opts: MllpListenerOptions): Promise<MllpListener> {
  const log = opts.logger ?? pino({ name: 'mllp' });
  const maxBytes = opts.maxMessageBytes ?? 10 * 1024 * 1024;
  const idleMs = opts.idleTimeoutMs ?? 300_000;
  const frameMs = opts.frameTimeoutMs ?? 30_000;
  const maxInFlight = opts.maxInFlight ?? 64;
  const sockets = new Set<Socket>();
  const drains = new Set<Promise<void>>();

  const onConnection = (socket: Socket) => {
    const remoteAddress = socket.remoteAddress ?? 'unknown';
    const admitted = opts.admit?.(socket);
    if (opts.admit && admitted === undefined) {
      log.warn({ remoteAddress }, 'mllp connection refused: sender not registered');
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    const framer = new MllpFramer(maxBytes);
    const queue: (() => Promise<Buffer>)[] = [];
    let working = false;
    let waitingDrain = false;
    let frameTimer: NodeJS.Timeout | undefined;
    sockets.add(socket);

    const closeWith = (reason: string) => {
      log.warn({ remoteAddress, reason }, 'mllp connection closed');
      socket.destroy();
    };

    const work = async () => {
      if (working) return;
      working = true;
      const done = (async () => {
        while (queue.length > 0 && !socket.destroyed) {
          if (opts.ready) await opts.ready();
          const next = queue.shift()!;
          const ack = await next();
          if (socket.isPaused() && queue.length <= maxInFlight / 2) socket.resume();
          if (socket.destroyed) break;
          if (!socket.write(frame(ack))) {
            waitingDrain = true;
            await new Promise<void>((r) => { socket.once('drain', r); socket.once('close', r); });
            waitingDrain = false;
          }
        }
        // A failure here closes this connection only; left unhandled it would end the process.
      })().catch((err: unknown) => closeWith(`internal error: ${(err as Error).message}`));
      drains.add(done);
      await done.finally(() => drains.delete(done));
      working = false;
    };

    const enqueue = (job: () => Promise<Buffer>) => {
      queue.push(job);
      if (queue.length >= maxInFlight) socket.pause();
      void work();
    };

    socket.setTimeout(idleMs, () => {
      if (queue.length === 0 && !working) closeWith('idle timeout');
      else if (waitingDrain) closeWith('peer stopped reading its ACKs');
    });
    socket.on('data', (chunk: Buffer) => {
      for (const ev of framer.push(chunk)) {
        if (ev.kind === 'garbage') {
          log.warn({ remoteAddress, bytes: ev.bytes }, 'mllp bytes outside a frame discarded');
        } else if (ev.kind === 'oversized') {
          log.warn({ remoteAddress, size: ev.size, max: maxBytes }, 'mllp message over the size limit rejected');
          enqueue(async () => reject(ev.head, `Message of ${ev.size} bytes is over the ${maxBytes}-byte limit`));
        } else {
          const data = ev.data;
          enqueue(async () => {
            try {
              return await opts.handler(data, { remoteAddress, ...(admitted !== undefined ? { admitted } : {}) });
            } catch (err) {
              log.error({ remoteAddress, err: (err as Error).message }, 'mllp handler failed');
              return reject(data.subarray(0, 4096), 'The message could not be taken in; send it again', 'AR');
            }
          });
        }
      }
      clearTimeout(frameTimer);
      frameTimer = framer.partial ? setTimeout(() => closeWith('frame not finished in time'), frameMs) : undefined;
    });
    socket.on('error', (err) => log.warn({ remoteAddress, err: err.message }, 'mllp socket error'));
    socket.on('end', () => {
      // Half-open: the sender is done writing; answer what it sent, then close our side.
      void (async () => {
        while (working || queue.length) await Promise.all([...drains]);
        socket.end();
      })();
    });
    socket.on('close', () => {
      clearTimeout(frameTimer);
      queue.length = 0;
      sockets.delete(socket);
    });
  };
  const server = opts.tls ? createTlsServer({ ...opts.tls, allowHalfOpen: true }, onConnection) : createServer({ noDelay: true, allowHalfOpen: true }, onConnection);
  server.on('tlsClientError', (err: Error, s: Socket) => log.warn({ remoteAddress: s.remoteAddress, err: err.message }, 'mllp tls handshake refused'));
  server.maxConnections = opts.maxConnections ?? 256;
  server.on('error', (err) => log.error({ err: err.message }, 'mllp server error'));

  const port = opts.port ?? Number(process.env.MLLP_PORT ?? 2575);
  const host = opts.host ?? process.env.MLLP_HOST ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  log.info({ host, port: bound }, 'mllp listening');

  return {
    port: bound,
    close: async () => {
      const closed = new Promise<void>((r) => server.close(() => r()));
      // Let answers already being worked on go out, but do not wait forever on a stuck handler.
      let grace: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all([...drains]), new Promise((r) => (grace = setTimeout(r, 5000)))]);
      clearTimeout(grace);
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}
