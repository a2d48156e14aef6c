// One place that opens NATS connections with Rotor's settings: reconnect forever (a node without
// NATS is useless, and nats.js resubscribes every subscription after a reconnect), a short
// reconnect wait so a restarted nats-server is picked up quickly, and the node's name for
// `nats-server` monitoring.
import { connect, type NatsConnection } from 'nats';

export interface NatsConnectOptions {
  /** Comma-separated URLs are accepted (`nats://a:4222,nats://b:4222`). */
  url: string;
  /** Shown in nats-server's connection list. */
  name?: string;
  /** Milliseconds between reconnect attempts (default 250). */
  reconnectTimeWaitMs?: number;
  /** Initial connection timeout (default 5000). */
  timeoutMs?: number;
}

export function connectNats(opts: NatsConnectOptions): Promise<NatsConnection> {
  return connect({
    servers: opts.url.split(',').map((s) => s.trim()).filter((s) => s.length > 0),
    name: opts.name ?? 'rotor',
    maxReconnectAttempts: -1,
    reconnectTimeWait: opts.reconnectTimeWaitMs ?? 250,
    timeout: opts.timeoutMs ?? 5000,
    pingInterval: 10_000,
    maxPingOut: 3,
    // Our own messages on a channel subject must reach our own subscriptions (a node can be both
    // the publisher and a subscriber of a channel).
    noEcho: false,
  });
}

/**
 * Drains a connection (pending publishes are flushed, subscriptions end cleanly) but never waits
 * longer than `timeoutMs`: with the server gone, drain would wait for a reconnect forever.
 */
export async function closeNats(nc: NatsConnection, timeoutMs = 2000): Promise<void> {
  if (nc.isClosed()) return;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    const drained = nc.isDraining() ? nc.closed() : nc.drain();
    const outcome = await Promise.race([drained.then(() => 'drained' as const), timeout]);
    if (outcome === 'timeout') await nc.close();
  } catch (err) {
    // drain() rejects when the connection closed under it; closing is what we wanted anyway.
    if (!nc.isClosed()) await nc.close();
    if (!(err instanceof Error)) throw err;
  } finally {
    clearTimeout(timer);
  }
}
