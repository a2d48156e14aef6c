// startGateway: builds one gateway on a uWebSockets.js app — WebSocket endpoint, hub, keepalive,
// control handling, health and metrics — from injected adapters, so the same code runs embedded
// (memory adapters) and in cluster mode (NATS adapters).
import { randomUUID } from 'node:crypto';
import { ChannelRules, Disconnects, Unsubscribes, sharedCoarseClock, systemClock } from '@rotor/core';
import type { Clock, RotorConfig, StreamPosition } from '@rotor/core';
import type { Registry } from 'prom-client';
import type { GatewayCodec } from './codec.ts';
import { GatewayContext } from './context.ts';
import type { GatewayAdapters, Log } from './context.ts';
import { GatewayControl } from './control.ts';
import { Hub } from './hub.ts';
import type { FlushMode, HubEvents, HubMember, RepairOptions } from './hub.ts';
import { Keepalive } from './keepalive.ts';
import { protoCodec } from './proto-codec.ts';
import { GatewayMetrics } from './metrics.ts';
import { hardBackpressureLimit, mountHttp, mountWebSocket } from './server.ts';
import type { HealthState } from './server.ts';
import type { Subscription } from './subscription.ts';
import { loadUws } from './uws.ts';
import type { TemplatedApp, us_listen_socket } from './uws.ts';
import { removeSubscription } from './commands/establish.ts';
import { Emulation } from './emulation/emulation.ts';
import type { EmulationRelay } from './emulation/emulation.ts';
import { mountEmulation } from './emulation/routes.ts';
import { UniTopics } from './emulation/uni.ts';
import { mountUni } from './emulation/uni-routes.ts';

export const GATEWAY_VERSION = '0.1.0';

/** Optional health hook an adapter may implement (e.g. a NATS connection's state). */
export interface HealthReporter {
  healthy(): boolean;
}

export interface GatewayOptions extends GatewayAdapters {
  config: RotorConfig;
  log: Log;
  /** Codec of the client protocol; default @rotor/proto with the configured frame limit. */
  codec?: GatewayCodec;
  /** Mounts more routes on the same app and port (embedded mode: HTTP API, demo page). */
  extraRoutes?: (app: TemplatedApp) => void;
  clock?: Clock;
  /** Registry to put the gateway's metrics in (default: a new one). */
  registry?: Registry;
  /** When the hub flushes a turn's pushes (default setImmediate; see hub.ts and hub.bench.ts). */
  flushMode?: FlushMode;
  /** Extra readiness probes, e.g. the NATS connection. */
  healthChecks?: Array<() => { ok: boolean; reason?: string }>;
  nodeId?: string;
  version?: string;
  /** How often every socket's outbound buffer is checked against client.queue_max_size. */
  slowSweepMs?: number;
  /** Bounds of stream repairs from history (read size, retries, backoff); defaults in hub.ts. */
  repair?: RepairOptions;
  /**
   * Refuse a port another process already listens on. Default false: several gateway processes
   * may share a port (SO_REUSEPORT). The embedded mode sets it: two independent in-memory servers
   * sharing port 8000 would split clients between unconnected brokers.
   */
  exclusivePort?: boolean;
  /**
   * Cluster mode: carries /emulation requests to the gateway process holding the stream (several
   * gateways share the port). Without it only this gateway's streams are reachable.
   */
  emulationRelay?: EmulationRelay;
}

export interface Gateway {
  /** The port the app listens on (resolved when config asked for 0). */
  readonly port: number;
  readonly metrics: GatewayMetrics;
  readonly nodeId: string;
  /** Closes every connection with 3001 at once and stops listening. */
  close(): Promise<void>;
  /**
   * Stops accepting WebSockets (503) and turns readiness off, disconnects clients with 3001 spread
   * over rotor.drainWindowMs, then closes.
   */
  drain(): Promise<void>;
}

export async function startGateway(opts: GatewayOptions): Promise<Gateway> {
  const uws = loadUws();
  const { config, log } = opts;
  const clock = opts.clock ?? systemClock;
  const metrics = new GatewayMetrics(opts.registry, opts.registry === undefined);
  const rules = new ChannelRules(config.channel);
  const app = uws.App();
  const nodeId = opts.nodeId ?? randomUUID();
  const codec = opts.codec ?? protoCodec({ maxFrameBytes: config.websocket.messageSizeLimit });

  const events: HubEvents = {
    insufficientState(m: HubMember) {
      const sub = m as Subscription;
      const s = sub.session;
      if (s.closed) return;
      if (sub.serverSide) {
        s.disconnect(Disconnects.insufficientState);
        return;
      }
      removeSubscription(s, sub, true);
      s.push({ channel: sub.channel, unsubscribe: { code: Unsubscribes.insufficientState.code, reason: Unsubscribes.insufficientState.reason } });
      s.flushOut();
    },
    inappropriateProtocol(m: HubMember) {
      (m as Subscription).session.disconnect(Disconnects.inappropriateProtocol);
    },
  };
  const emulation = new Emulation(nodeId, config.client.queueMaxSize, opts.emulationRelay ?? null, log);
  const emulatedTopics = emulation.topics;
  // Unidirectional sockets (uni_websocket, uni_http_stream, uni_sse) get bare pushes: their own
  // topic table, which unwraps each frame once for all its members.
  const uniTopics = new UniTopics(config.client.queueMaxSize);
  const sink = {
    publish(topic: string, frame: Uint8Array, isBinary: boolean): void {
      app.publish(topic, frame, isBinary, false);
      // HTTP-streaming and SSE subscribers live in a JavaScript topic table; empty unless such
      // connections are subscribed somewhere, so WebSocket-only fan-out pays one size check.
      if (emulatedTopics.size !== 0) emulatedTopics.publish(topic, frame, isBinary);
      if (uniTopics.size !== 0) uniTopics.publish(topic, frame, isBinary);
    },
  };
  const hub = new Hub({
    broker: opts.broker,
    sink,
    encoder: codec,
    events,
    metrics,
    // Read once per publication (for position checks, which work in tens of seconds): the shared
    // coarse clock spares a Date.now() per publication unless a clock was injected.
    clock: opts.clock ?? sharedCoarseClock(),
    flushMode: opts.flushMode,
    // Gaps of the (at-most-once) broker are repaired from history; idle positioned channels are
    // checked against the history top every client.channel_position_check_delay.
    history: {
      read: (channel: string, since: StreamPosition, limit: number) => {
        const r = rules.resolve(channel);
        const metaTtlMs = r.ok ? r.channel.namespace.effectiveHistoryMetaTtlMs : config.channel.historyMetaTtlMs;
        return opts.history.read({ channel, since, limit, reverse: false, metaTtlMs });
      },
    },
    positionCheckMs: config.client.channelPositionCheckDelayMs,
    repair: opts.repair,
    // A quarter of the room between the soft limit (3008) and uWS's hard one (1006): a subscriber
    // crosses the soft limit by at most that much before its channel's next check sees it.
    slowCheckBytes: Math.max(16 * 1024, Math.floor((hardBackpressureLimit(config.client.queueMaxSize) - config.client.queueMaxSize) / 4)),
    onError: (err, what) => log.warn('hub error', { what, error: String(err) }),
  });
  const adapters: GatewayAdapters = {
    broker: opts.broker,
    history: opts.history,
    presence: opts.presence,
    publisher: opts.publisher,
    controlBus: opts.controlBus,
    tokenVerifier: opts.tokenVerifier,
  };
  const gw = new GatewayContext(config, adapters, rules, hub, codec, metrics, clock, log, nodeId, opts.version ?? GATEWAY_VERSION);
  if (gw.proxies.any) log.info('proxies enabled', { forwardedHeaders: gw.proxies.captureHeaders.length });
  const keepalive = new Keepalive(gw, opts.slowSweepMs);
  gw.keepalive = keepalive;
  opts.broker.setHandler(hub);
  opts.controlBus.setHandler(new GatewayControl(gw));

  const health: HealthState = {
    live: () => !gw.closed,
    ready: () => {
      if (gw.closed) return { ok: false, reason: 'closed' };
      if (gw.draining) return { ok: false, reason: 'draining' };
      for (const [name, a] of Object.entries(adapters)) {
        const h = a as Partial<HealthReporter>;
        if (typeof h.healthy === 'function' && !h.healthy()) return { ok: false, reason: `${name} unhealthy` };
      }
      for (const check of opts.healthChecks ?? []) {
        const r = check();
        if (!r.ok) return r;
      }
      return { ok: true };
    },
  };
  mountWebSocket(uws, app, gw);
  mountEmulation(app, gw, emulation);
  mountUni(app, gw, uniTopics);
  mountHttp(app, metrics, health, config.prometheus.enabled, config.health.enabled);
  opts.extraRoutes?.(app);

  const listenSocket = await new Promise<us_listen_socket>((resolve, reject) => {
    const onListen = (token: us_listen_socket | false): void => {
      if (token === false) reject(new Error(`gateway could not listen on ${config.httpServer.address || '*'}:${config.httpServer.port}`));
      else resolve(token);
    };
    // uWS binds with SO_REUSEPORT unless told LIBUS_LISTEN_EXCLUSIVE_PORT (1). The native listen
    // takes (host, port, options, cb) too; the bundled .d.ts only declares (port, options, cb).
    const flags = opts.exclusivePort === true ? 1 : 0;
    const listen = app.listen as unknown as (...args: unknown[]) => TemplatedApp;
    if (config.httpServer.address === '') listen.call(app, config.httpServer.port, flags, onListen);
    else listen.call(app, config.httpServer.address, config.httpServer.port, flags, onListen);
  });
  const port = uws.us_socket_local_port(listenSocket as never);
  if (config.httpStream.enabled || config.sse.enabled) {
    try {
      await emulation.start();
    } catch (err) {
      uws.us_listen_socket_close(listenSocket);
      throw err;
    }
  }

  const tickMs = hub.positionTickMs > 0 ? Math.min(keepalive.tickMs, hub.positionTickMs) : keepalive.tickMs;
  const timer = setInterval(() => {
    const now = clock.now();
    try {
      keepalive.tick(now);
      hub.checkPositions(now);
    } catch (err) {
      log.error('keepalive tick failed', { error: String(err) });
    }
  }, Math.max(10, tickMs));

  let listening = true;
  const stopListening = (): void => {
    if (!listening) return;
    listening = false;
    uws.us_listen_socket_close(listenSocket);
  };
  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      gw.draining = true;
      stopListening();
      emulation.stop();
      clearInterval(timer);
      keepalive.close();
      for (const s of [...gw.sessions]) s.disconnect(Disconnects.shutdown);
      gw.closed = true;
      hub.flush();
      await hub.idle();
      // Ends whatever is left (HTTP keep-alive sockets) so the process can exit. The native app
      // has close() since v20.2x; the bundled .d.ts does not declare it.
      (app as TemplatedApp & { close(): void }).close();
      log.info('gateway closed', { node: nodeId });
    })();
    return closing;
  };
  let draining: Promise<void> | null = null;
  const drain = (): Promise<void> => {
    draining ??= (async () => {
      // Still listening: readiness answers 503 and upgrades are refused with 503 until close().
      gw.draining = true;
      const sessions = [...gw.sessions];
      const windowMs = Math.max(0, config.rotor.drainWindowMs);
      // Batches at least 50 ms apart, the last one close to the end of the window.
      const per = Math.max(1, Math.ceil(sessions.length / Math.max(1, Math.floor(windowMs / 50))));
      const batches = Math.ceil(sessions.length / per);
      const pauseMs = batches > 0 ? windowMs / batches : 0;
      log.info('gateway draining', { node: nodeId, connections: sessions.length, windowMs });
      for (let b = 0; b < batches; b++) {
        for (let j = b * per; j < Math.min(sessions.length, (b + 1) * per); j++) sessions[j]!.disconnect(Disconnects.shutdown);
        if (b + 1 < batches) await new Promise((r) => setTimeout(r, pauseMs));
      }
      await close();
    })();
    return draining;
  };
  log.info('gateway listening', { node: nodeId, port });
  return { port, metrics, nodeId, close, drain };
}

/** Drains on SIGTERM/SIGINT, then exits (for the CLI's gateway and start commands). */
export function drainOnSignals(gateway: Gateway, log: Log, exit: (code: number) => void = (c) => process.exit(c)): void {
  const onSignal = (signal: NodeJS.Signals): void => {
    log.info('signal received, draining', { signal });
    gateway.drain().then(
      () => exit(0),
      (err: unknown) => {
        log.error('drain failed', { error: String(err) });
        exit(1);
      },
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}
