// One place that opens NATS connections with Rotor's settings: reconnect forever (a node without
// NATS is useless, and nats.js resubscribes every subscription after a reconnect), a short
// reconnect wait so a restarted nats-server is picked up quickly, and the node's name for
// `nats-server` monitoring.
//
// A role process uses three pieces: `connectNatsWaiting` (the first connection, retried until it
// succeeds, with a log line per phase instead of a crash), `NatsConnectionMonitor` (connected or
// not, as seen from the status events; readiness and fail-fast publishing read it) and
// `closeNats` (drain with a deadline).
import { setTimeout as delay } from 'node:timers/promises';
import { connect, Events, type NatsConnection } from 'nats';

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

export function natsServers(url: string): string[] {
  return url
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

export function connectNats(opts: NatsConnectOptions): Promise<NatsConnection> {
  return connect({
    servers: natsServers(opts.url),
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

/** Where connection events are reported (a core Logger fits). */
export interface NatsEventLog {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
}

export interface ConnectWaitingOptions extends NatsConnectOptions {
  log: NatsEventLog;
  /** Stops waiting (the promise rejects with the signal's reason). */
  signal?: AbortSignal;
  /** Pause between attempts: starts at `retryMinMs` (default 250), doubles up to `retryMaxMs` (2000). */
  retryMinMs?: number;
  retryMaxMs?: number;
  /** A "still waiting" line at most this often (default 10 000 ms); the first failure is always logged. */
  logEveryMs?: number;
}

/**
 * The first connection of a role process: retried until NATS answers (or `signal` aborts), so a
 * node started before its NATS waits instead of crashing. Every phase is logged: the first
 * failure with its reason, then a reminder every `logEveryMs`, then the connection.
 */
export async function connectNatsWaiting(opts: ConnectWaitingOptions): Promise<NatsConnection> {
  const min = opts.retryMinMs ?? 250;
  const max = opts.retryMaxMs ?? 2000;
  const logEveryMs = opts.logEveryMs ?? 10_000;
  const started = Date.now();
  let attempts = 0;
  let lastLog = 0;
  let pause = min;
  for (;;) {
    opts.signal?.throwIfAborted();
    attempts++;
    try {
      const nc = await connectNats({ ...opts, timeoutMs: opts.timeoutMs ?? 2000 });
      if (attempts > 1) opts.log.info('nats connected', { server: nc.getServer(), attempts, waitedMs: Date.now() - started });
      else opts.log.info('nats connected', { server: nc.getServer() });
      return nc;
    } catch (err) {
      const now = Date.now();
      if (attempts === 1 || now - lastLog >= logEveryMs) {
        lastLog = now;
        opts.log.warn(attempts === 1 ? 'nats unreachable, retrying' : 'nats still unreachable, retrying', {
          servers: natsServers(opts.url).join(','),
          error: (err as Error).message,
          attempts,
          waitedMs: now - started,
        });
      }
    }
    await delay(pause, undefined, opts.signal === undefined ? {} : { signal: opts.signal });
    pause = Math.min(max, pause * 2);
  }
}

export interface MonitorOptions {
  log?: NatsEventLog;
}

/**
 * Follows a connection's status events: `connected` is false from a disconnect until the next
 * reconnect, and once the connection drains or closes. Readiness probes (`healthy`) and
 * fail-fast publishing read it. Each transition is logged once.
 */
export class NatsConnectionMonitor {
  private isConnected = true;
  private disconnectedAt = 0;
  /** Disconnects seen (a metric). */
  disconnects = 0;

  constructor(
    private readonly nc: NatsConnection,
    private readonly opts: MonitorOptions = {},
  ) {
    void this.watch();
  }

  get connected(): boolean {
    return this.isConnected && !this.nc.isClosed() && !this.nc.isDraining();
  }

  /** Readiness: a reason when not usable, null when fine. */
  problem(): string | null {
    if (this.nc.isClosed()) return 'nats connection closed';
    if (this.nc.isDraining()) return 'nats connection draining';
    if (!this.isConnected) return 'nats disconnected';
    return null;
  }

  healthy(): boolean {
    return this.problem() === null;
  }

  private async watch(): Promise<void> {
    const log = this.opts.log;
    try {
      for await (const s of this.nc.status()) {
        if (s.type === Events.Disconnect) {
          if (!this.isConnected) continue;
          this.isConnected = false;
          this.disconnects++;
          this.disconnectedAt = Date.now();
          log?.warn('nats disconnected, reconnecting', { server: String(s.data) });
        } else if (s.type === Events.Reconnect) {
          const wasDown = !this.isConnected;
          this.isConnected = true;
          log?.info('nats reconnected', { server: String(s.data), ...(wasDown ? { downMs: Date.now() - this.disconnectedAt } : {}) });
        } else if (s.type === Events.Error) {
          log?.warn('nats error', { error: String(s.data) });
        } else if (s.type === Events.LDM) {
          log?.warn('nats server entering lame duck mode', { server: String(s.data) });
        }
      }
    } catch (err) {
      log?.warn('nats status stream failed', { error: (err as Error).message });
    }
  }
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
