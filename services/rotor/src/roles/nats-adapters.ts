// The NATS side of the gateway and api roles, built in one place: the connection (waited for at
// start-up, followed by a monitor afterwards) and the core contracts over it — NatsBroker,
// ShardHistoryClient, ShardPresenceClient, ClusterPublisher (routes to the history shards) and
// NatsControlBus (control commands, heartbeats, channels survey) and NatsEmulationRelay (/emulation
// requests routed to the gateway process holding the stream).
import type { NatsConnection } from 'nats';
import type { Logger, RotorConfig } from '@rotor/core';
import {
  ClusterPublisher,
  NatsBroker,
  NatsConnectionMonitor,
  NatsControlBus,
  NatsEmulationRelay,
  ShardHistoryClient,
  ShardPresenceClient,
  ShardRouter,
  closeNats,
  connectNatsWaiting,
} from '@rotor/nats';
import type { Readiness } from './probe-server.ts';

export interface NatsSession {
  readonly nc: NatsConnection;
  readonly monitor: NatsConnectionMonitor;
  /** Readiness of the connection, for /health. */
  readiness(): Readiness;
  close(): Promise<void>;
}

/** Connects (retrying until NATS answers or `signal` aborts) and starts following the connection. */
export async function openNatsSession(config: Readonly<RotorConfig>, log: Logger, role: string, signal: AbortSignal): Promise<NatsSession> {
  const nc = await connectNatsWaiting({ url: config.rotor.nats.url, name: `${config.rotor.nodeName}-${role}`, log, signal });
  const monitor = new NatsConnectionMonitor(nc, { log });
  return {
    nc,
    monitor,
    readiness() {
      const problem = monitor.problem();
      return problem === null ? { ok: true } : { ok: false, reason: problem };
    },
    close: () => closeNats(nc),
  };
}

export interface ClusterAdapters {
  readonly broker: NatsBroker;
  readonly history: ShardHistoryClient;
  readonly presence: ShardPresenceClient;
  readonly publisher: ClusterPublisher;
  readonly controlBus: NatsControlBus;
  /** /emulation requests between gateway processes (HTTP-streaming, SSE). */
  readonly emulationRelay: NatsEmulationRelay;
  /** Closes the adapters (not the connection). */
  close(): Promise<void>;
}

export interface ClusterAdapterOptions {
  /** This node's id: the control bus uid and the gateway's node id. */
  nodeId: string;
  /** Shard request timeout (default 5000 ms). */
  shardTimeoutMs?: number;
}

export function buildClusterAdapters(session: NatsSession, config: Readonly<RotorConfig>, log: Logger, opts: ClusterAdapterOptions): ClusterAdapters {
  const { nc, monitor } = session;
  const onError = (err: unknown, context: string): void => log.warn('nats adapter error', { context, error: String(err) });
  const broker = new NatsBroker(nc, { onError });
  const router = new ShardRouter(nc, { shards: config.rotor.history.shards, connection: monitor, ...(opts.shardTimeoutMs === undefined ? {} : { timeoutMs: opts.shardTimeoutMs }) });
  const history = new ShardHistoryClient(router);
  const presence = new ShardPresenceClient(router);
  const publisher = new ClusterPublisher(router, broker);
  const controlBus = new NatsControlBus(nc, { uid: opts.nodeId, onError });
  const emulationRelay = new NatsEmulationRelay(nc, { onError });
  return {
    broker,
    history,
    presence,
    publisher,
    controlBus,
    emulationRelay,
    async close() {
      await controlBus.close();
      await broker.close();
      await history.close();
      await presence.close();
      router.close();
    },
  };
}
