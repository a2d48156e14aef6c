// A small HTTP server for probes: /health (= /health/ready), /health/live and /metrics, on
// uWebSockets.js like the other roles. Two uses:
// - the history role's own port (rotor.history.http_port), for its whole life;
// - a stand-in on the gateway's or api's port while the role waits for NATS at start-up, so a
//   probe gets "503 nats unreachable" instead of a refused connection; every other request gets
//   503 too (see stand-in.ts).
import { loadUws } from '@rotor/gateway';
import type { HttpResponse, TemplatedApp } from '@rotor/gateway';
import type { Registry } from 'prom-client';

export interface Readiness {
  ok: boolean;
  reason?: string;
}

export interface ProbeServerOptions {
  address: string;
  port: number;
  ready: () => Readiness;
  live?: () => boolean;
  /** Served at /metrics when given. */
  registry?: Registry | null;
  /** Answer every other path with 503 (the stand-in) instead of 404. */
  unavailableElsewhere?: string;
  /** Refuse a port another process listens on (no SO_REUSEPORT): one shard, one probe port. */
  exclusive?: boolean;
}

export interface ProbeServer {
  readonly port: number;
  close(): void;
}

function json(res: HttpResponse, ok: boolean, body: unknown): void {
  res.writeStatus(ok ? '200 OK' : '503 Service Unavailable').writeHeader('Content-Type', 'application/json').end(JSON.stringify(body));
}

export async function startProbeServer(opts: ProbeServerOptions): Promise<ProbeServer> {
  const uws = loadUws();
  const app: TemplatedApp = uws.App();
  const ready = (res: HttpResponse): void => {
    const r = opts.ready();
    json(res, r.ok, r.ok ? { status: 'ok' } : { status: 'unavailable', reason: r.reason ?? '' });
  };
  app.get('/health', ready);
  app.get('/health/ready', ready);
  app.get('/health/live', (res) => {
    const ok = opts.live?.() ?? true;
    json(res, ok, { status: ok ? 'ok' : 'unavailable' });
  });
  const registry = opts.registry;
  if (registry) {
    app.get('/metrics', (res) => {
      let aborted = false;
      res.onAborted(() => {
        aborted = true;
      });
      registry.metrics().then(
        (text) => {
          if (!aborted) res.cork(() => res.writeStatus('200 OK').writeHeader('Content-Type', registry.contentType).end(text));
        },
        (err: unknown) => {
          if (!aborted) res.cork(() => res.writeStatus('500 Internal Server Error').end(String(err)));
        },
      );
    });
  }
  const elsewhere = opts.unavailableElsewhere;
  if (elsewhere !== undefined) app.any('/*', (res) => json(res, false, { status: 'unavailable', reason: elsewhere }));
  else app.any('/*', (res) => void res.writeStatus('404 Not Found').end());

  const token = await new Promise<unknown>((resolve, reject) => {
    const onListen = (t: unknown): void => {
      if (t === false) reject(new Error(`could not listen on ${opts.address || '*'}:${opts.port}`));
      else resolve(t);
    };
    // uWS listens with SO_REUSEPORT unless told LIBUS_LISTEN_EXCLUSIVE_PORT (1). The native listen
    // takes (host, port, options, cb) too; the bundled .d.ts only declares (port, options, cb).
    const flags = opts.exclusive === true ? 1 : 0;
    const listen = app.listen as unknown as (...args: unknown[]) => TemplatedApp;
    if (opts.address === '') listen.call(app, opts.port, flags, onListen);
    else listen.call(app, opts.address, opts.port, flags, onListen);
  });
  const port = uws.us_socket_local_port(token as never);
  let closed = false;
  return {
    port,
    close() {
      if (closed) return;
      closed = true;
      uws.us_listen_socket_close(token as never);
      // Ends keep-alive sockets too (the native app has close(); the bundled .d.ts lacks it).
      (app as TemplatedApp & { close(): void }).close();
    },
  };
}
