// startApiRole: the cluster `api` role — one ApiService over injected (NATS-backed) adapters,
// served over HTTP on its own uWebSockets.js app (rotor.apiPort, with /metrics, /health and
// /health/live) and over gRPC (grpc_api.*, when grpc_api.enabled). With opentelemetry.enabled and
// opentelemetry.api it registers the OTLP tracer provider (service.name rotor-api) and flushes
// it on close(). The embedded mode does not
// use this: it mounts the HTTP routes on the gateway's app (mountHttpApi) and calls
// startGrpcApi itself.
import { silentLogger } from '@rotor/core';
import type { Logger, RotorConfig } from '@rotor/core';
import type { us_listen_socket } from 'uWebSockets.js';
import { startGrpcApi } from './grpc.ts';
import type { GrpcApi, GrpcApiOptions } from './grpc.ts';
import { mountHttpApi } from './http.ts';
import { createApiService } from './service.ts';
import type { ApiDeps, ApiService } from './service.ts';
import { startTracing } from './tracing.ts';
import type { Tracing } from './tracing.ts';
import { loadNativeUws } from './uws.ts';

export interface ApiRoleDeps extends Omit<ApiDeps, 'config'> {
  /** Readiness probes (e.g. the NATS connection); /health answers 503 while one fails. */
  healthChecks?: Array<() => { ok: boolean; reason?: string }>;
  grpc?: Omit<GrpcApiOptions, 'log'>;
  /** Tracing: where OTEL_* variables come from (default process.env) and resource details. */
  tracing?: { env?: Readonly<Record<string, string | undefined>>; instanceId?: string; version?: string };
}

export interface ApiRole {
  readonly service: ApiService;
  /** Port of the HTTP API (and /metrics, /health, /health/live). */
  readonly httpPort: number;
  /** Port of the gRPC API, or null when grpc_api.enabled is false. */
  readonly grpcPort: number | null;
  close(): Promise<void>;
}

export async function startApiRole(config: RotorConfig, deps: ApiRoleDeps): Promise<ApiRole> {
  const uws = loadNativeUws();
  const log = deps.log ?? silentLogger();
  const tracing: Tracing | null = await startTracing(config, { role: 'api', serviceName: 'rotor-api', node: config.rotor.nodeName, log, ...deps.tracing });
  try {
    return await serve(config, deps, log, uws, tracing);
  } catch (err) {
    await tracing?.shutdown();
    throw err;
  }
}

async function serve(config: RotorConfig, deps: ApiRoleDeps, log: Logger, uws: ReturnType<typeof loadNativeUws>, tracing: Tracing | null): Promise<ApiRole> {
  const service = createApiService({ ...deps, config });
  const app = uws.App();
  let closed = false;

  mountHttpApi(app, service, config, { log });

  if (config.prometheus.enabled) {
    const registry = service.metrics.registry;
    app.get('/metrics', (res) => {
      let aborted = false;
      res.onAborted(() => {
        aborted = true;
      });
      registry.metrics().then(
        (text) => {
          if (!aborted) res.cork(() => res.writeHeader('Content-Type', registry.contentType).end(text));
        },
        (err: unknown) => {
          log.error('metrics collection failed', { error: String(err) });
          if (!aborted) res.cork(() => res.writeStatus('500 Internal Server Error').end());
        },
      );
    });
  }

  const ready = (): { ok: boolean; reason?: string } => {
    if (closed) return { ok: false, reason: 'closed' };
    for (const check of deps.healthChecks ?? []) {
      const r = check();
      if (!r.ok) return r;
    }
    return { ok: true };
  };
  app.get('/health', (res) => {
    const r = ready();
    res.writeStatus(r.ok ? '200 OK' : '503 Service Unavailable').writeHeader('Content-Type', 'application/json');
    res.end(r.ok ? '{}' : JSON.stringify({ error: r.reason ?? 'not ready' }));
  });
  // Liveness: 200 for as long as this process serves, whatever NATS does. A NATS outage makes
  // /health 503 (out of the load balancer) but must not get the pods restarted.
  app.get('/health/live', (res) => {
    res.writeStatus('200 OK').writeHeader('Content-Type', 'application/json').end('{}');
  });

  // uWS drops the connection for a request no route matches; answer 404 instead.
  app.any('/*', (res) => void res.writeStatus('404 Not Found').end());

  const address = config.httpServer.address;
  const port = config.rotor.apiPort;
  const listenSocket = await new Promise<us_listen_socket>((resolve, reject) => {
    const onListen = (token: us_listen_socket | false): void => {
      if (token === false) reject(new Error(`api role could not listen on ${address || '*'}:${port}`));
      else resolve(token);
    };
    if (address === '') app.listen(port, onListen);
    else app.listen(address, port, onListen);
  });
  const httpPort = uws.us_socket_local_port(listenSocket as never);

  let grpcApi: GrpcApi | null = null;
  if (config.grpcApi.enabled) {
    try {
      grpcApi = await startGrpcApi(service, config, { ...deps.grpc, log });
    } catch (err) {
      uws.us_listen_socket_close(listenSocket);
      (app as typeof app & { close(): void }).close();
      throw err;
    }
  }
  log.info('api role listening', { httpPort, grpcPort: grpcApi?.port ?? null });

  let closing: Promise<void> | null = null;
  return {
    service,
    httpPort,
    grpcPort: grpcApi?.port ?? null,
    close(): Promise<void> {
      closing ??= (async () => {
        closed = true;
        uws.us_listen_socket_close(listenSocket);
        await grpcApi?.close();
        // Ends keep-alive HTTP sockets too; the native app has close() (the bundled .d.ts lacks it).
        (app as typeof app & { close(): void }).close();
        // Last: the spans of the calls that just finished are exported too.
        await tracing?.shutdown();
      })();
      return closing;
    },
  };
}
