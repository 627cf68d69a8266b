import { createClient } from 'redis';

/**
 * The one way the gateway opens Redis (read cache, card lookups, token replay and rate limits):
 * commands fail at once while it is away instead of queueing, reconnects back off to a second,
 * and connection errors surface as failed commands rather than 'error' events.
 */
export function redisClient(url: string, commandTimeoutMs?: number) {
  const client = createClient({
    url,
    disableOfflineQueue: true,
    ...(commandTimeoutMs ? { commandOptions: { timeout: commandTimeoutMs } } : {}),
    socket: { connectTimeout: 1000, reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 1000) },
  });
  client.on('error', () => undefined);
  return client;
}

/**
 * Connects, waiting at most `waitMs`. A paused Redis accepts the TCP connection and then never
 * answers the handshake, which `connect()` alone would wait for: a gateway's start must not.
 * The client goes on connecting in the background; commands fail fast until it is ready.
 */
export async function connectWithin(client: { connect(): Promise<unknown> }, waitMs = 1000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([client.connect().catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, waitMs)))]);
  clearTimeout(timer);
}
