import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Principal } from '../auth/context';
import type { Notification } from '../store/outbox';
import type { AnyResource } from '../store/types';
import type { LocalChannel } from './delivery';
import { CLIENT_TAG_SYSTEM } from './rules';

export const WEBSOCKET_PATH = '/fhir/websocket';

export interface WebsocketDeps {
  /** The Subscription as stored, to check the bind against. */
  read(id: string): Promise<AnyResource | undefined>;
  /** Under AUTH=smart: the principal of the upgrade's bearer token (undefined: refused). Absent: open. */
  verify?: (token: string) => Promise<Principal | undefined>;
}

/**
 * The R4 websocket channel: a client connects to /fhir/websocket, sends `bind {id}` for a
 * websocket Subscription, is answered `bound {id}`, and then receives `ping {id}` per
 * notification (followed by the resource as JSON when the Subscription has a payload).
 * A notification is taken off the queue once written to a bound socket.
 */
export class WebsocketChannel implements LocalChannel {
  readonly type = 'websocket';
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  private readonly bound = new Map<string, Set<WebSocket>>();

  constructor(private readonly deps: WebsocketDeps) {}

  attach(server: Server): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if ((req.url ?? '').split('?')[0] !== WEBSOCKET_PATH) return void socket.destroy();
      void this.admit(req).then((principal) => {
        if (principal === null) {
          socket.end('HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer\r\nContent-Length: 0\r\n\r\n');
          return;
        }
        this.wss.handleUpgrade(req, socket, head, (ws) => this.serve(ws, principal));
      });
    });
  }

  /** null: refused; undefined: no security layer. */
  private async admit(req: IncomingMessage): Promise<Principal | undefined | null> {
    if (!this.deps.verify) return undefined;
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    return (m ? await this.deps.verify(m[1]!) : undefined) ?? null;
  }

  private serve(ws: WebSocket, principal: Principal | undefined): void {
    const mine = new Set<string>();
    ws.on('message', (data) => {
      const text = data.toString();
      const m = /^bind ([A-Za-z0-9\-.]{1,64})$/.exec(text.trim());
      if (!m) return void ws.send(`error unknown command; send 'bind {subscription id}'`);
      const id = m[1]!;
      void this.deps.read(id).then((sub) => {
        const channel = (sub?.channel ?? {}) as { type?: string };
        const owner = sub?.meta?.tag?.find((t) => t.system === CLIENT_TAG_SYSTEM)?.code;
        if (!sub || channel.type !== 'websocket') return void ws.send(`error ${id} is not a websocket Subscription`);
        if (principal && !principal.admin && owner !== principal.clientId) return void ws.send(`error ${id} belongs to another client`);
        mine.add(id);
        let set = this.bound.get(id);
        if (!set) this.bound.set(id, (set = new Set()));
        set.add(ws);
        ws.send(`bound ${id}`);
      });
    });
    ws.on('close', () => {
      for (const id of mine) {
        const set = this.bound.get(id);
        set?.delete(ws);
        if (set?.size === 0) this.bound.delete(id);
      }
    });
  }

  has(subscriptionId: string): boolean {
    return (this.bound.get(subscriptionId)?.size ?? 0) > 0;
  }

  async send(subscriptionId: string, _n: Notification, resource: AnyResource | undefined): Promise<void> {
    const sockets = [...(this.bound.get(subscriptionId) ?? [])];
    if (sockets.length === 0) throw new Error('no bound listener');
    await Promise.all(
      sockets.map(
        (ws) =>
          new Promise<void>((resolve, reject) => {
            ws.send(`ping ${subscriptionId}`, (e) => (e ? reject(e) : resolve()));
            if (resource) ws.send(JSON.stringify(resource));
          }),
      ),
    );
  }

  close(): void {
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
  }
}
