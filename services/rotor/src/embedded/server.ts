// startEmbedded: every role in one process over the in-memory adapters — the gateway (WebSocket
// endpoint, /health, /metrics), the server API over HTTP on the gateway's own app and port, the
// gRPC API when grpc_api.enabled, and the demo page at `/`. The code paths are the cluster's:
// the same gateway, ApiService and ChannelSequencer, with memory adapters behind the contracts
// instead of NATS and JetStream. With opentelemetry.enabled and opentelemetry.api the OTLP tracer
// provider is registered first (service.name rotor) and flushed last, after drain/close.
import {
  ChannelSequencer,
  JoseTokenVerifier,
  MemoryBroker,
  MemoryControlBus,
  MemoryHistoryStore,
  MemoryPresenceStore,
} from '@rotor/core';
import type { Logger, RotorConfig } from '@rotor/core';
import { createApiService, mountHttpApi, startGrpcApi, startTracing } from '@rotor/api';
import type { ApiService, GrpcApi, Tracing } from '@rotor/api';
import { startGateway } from '@rotor/gateway';
import type { Gateway, TemplatedApp } from '@rotor/gateway';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { demoAssets } from './demo.ts';
import { DEMO_CHANNEL } from './dev-config.ts';
import { mountNotFound, mountStatic } from './static.ts';

export interface EmbeddedOptions {
  config: RotorConfig;
  log: Logger;
  /** Serve the demo page at `/` (default true). */
  demo?: boolean;
  /** Where OTEL_* variables are read when API tracing is on (default process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  /** service.version of the spans. */
  version?: string;
}

export interface EmbeddedServer {
  /** Port of the WebSocket endpoint, the HTTP API and the demo page (resolved when 0 was asked). */
  readonly httpPort: number;
  /** Port of the gRPC API, or null when grpc_api.enabled is false. */
  readonly grpcPort: number | null;
  readonly gateway: Gateway;
  readonly api: ApiService;
  /** Graceful stop: clients are disconnected with 3001 over rotor.drain_window, then close(). */
  drain(): Promise<void>;
  /** Immediate stop: clients get 3001 at once, listeners and adapters are closed. */
  close(): Promise<void>;
}

export async function startEmbedded(opts: EmbeddedOptions): Promise<EmbeddedServer> {
  const { config, log } = opts;
  // Before anything serves, so that the first call is traced; shut down last (closeRest).
  const tracing = await startTracing(config, {
    role: 'embedded',
    serviceName: 'rotor',
    node: config.rotor.nodeName,
    log: log.child({ role: 'api' }),
    ...(opts.env === undefined ? {} : { env: opts.env }),
    ...(opts.version === undefined ? {} : { version: opts.version }),
  });
  try {
    return await serve(opts, tracing);
  } catch (err) {
    await tracing?.shutdown();
    throw err;
  }
}

async function serve(opts: EmbeddedOptions, tracing: Tracing | null): Promise<EmbeddedServer> {
  const { config, log } = opts;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const broker = new MemoryBroker({ onHandlerError: (err) => log.error('broker handler failed', { error: String(err) }) });
  const history = new MemoryHistoryStore();
  const presence = new MemoryPresenceStore();
  const controlBus = new MemoryControlBus({ onHandlerError: (err) => log.error('control handler failed', { error: String(err) }) });
  const publisher = new ChannelSequencer({
    history,
    broker,
    onError: (err, channel) => log.error('stored publication not delivered to the broker', { channel, error: String(err) }),
  });
  const tokenVerifier = new JoseTokenVerifier(config.client);
  const api = createApiService({ config, publisher, history, presence, controlBus, log: log.child({ role: 'api' }), registry });

  const closeAdapters = async (): Promise<void> => {
    publisher.close();
    await Promise.all([broker.close(), history.close(), presence.close(), controlBus.close()]);
  };

  let gateway: Gateway;
  try {
    gateway = await startGateway({
      config,
      broker,
      history,
      presence,
      publisher,
      controlBus,
      tokenVerifier,
      log: log.child({ role: 'gateway' }),
      registry,
      exclusivePort: true,
      extraRoutes: (app: TemplatedApp) => {
        mountHttpApi(app, api, config, { log: log.child({ role: 'api' }) });
        if (opts.demo ?? true) {
          const anonymous = config.client.allowAnonymousConnectWithoutToken || config.client.insecure;
          mountStatic(app, demoAssets({ anonymous, channel: DEMO_CHANNEL }));
        }
        mountNotFound(app);
      },
    });
  } catch (err) {
    await closeAdapters();
    throw err;
  }

  let grpc: GrpcApi | null = null;
  if (config.grpcApi.enabled) {
    try {
      grpc = await startGrpcApi(api, config, { log: log.child({ role: 'api' }) });
    } catch (err) {
      await gateway.close();
      await closeAdapters();
      throw err;
    }
  }

  // The gateway stops first: while it drains, the HTTP API and gRPC still answer.
  let rest: Promise<void> | null = null;
  const closeRest = (): Promise<void> =>
    (rest ??= (async () => {
      await grpc?.close();
      await closeAdapters();
      await tracing?.shutdown();
    })());

  return {
    httpPort: gateway.port,
    grpcPort: grpc?.port ?? null,
    gateway,
    api,
    async drain() {
      await gateway.drain();
      await closeRest();
    },
    // Also cuts a drain in progress short (the gateway's close is shared with its drain).
    async close() {
      await gateway.close();
      await closeRest();
    },
  };
}
