// The uWebSockets.js app: the client WebSocket endpoint and the gateway's HTTP routes.
//
// WebSocket upgrade (PROTOCOL.md §1.2, §1.3): refused with 503 while draining; an Origin that is
// present and not allowed → 403; protobuf when the client offers the `centrifuge-protobuf`
// subprotocol (echoed back, browsers require it) or asks with `?cf_protocol=protobuf` /
// `?format=protobuf`; JSON otherwise. Everything is read from the request synchronously, so the
// upgrade needs no onAborted handler.
//
// Limits: an inbound message above websocket.message_size_limit is closed with 1009, which the SDK
// treats as terminal (as Centrifugo does). uWS itself cuts a message over maxPayloadLength without
// a close frame (1006), so uWS gets four times the limit and the handler enforces the limit itself:
// oversized messages up to that bound get the proper 1009, bigger ones the 1006 cut.
// Outbound: uWS's `maxBackpressure` with `closeOnBackpressureLimit` is the hard stop — measured on
// uWS v20.30: without closeOnBackpressureLimit, topic messages for a socket over maxBackpressure
// are skipped silently and `send` returns 2 (dropped); with it, that socket is closed at once
// (the client sees 1006, no close frame). The session's soft limit (client.queue_max_size) closes
// with 3008 below the hard stop, while the close frame still fits; the hard stop sits 1 MiB (at
// least the soft limit again) above it, so nothing is ever skipped for a live subscriber. The soft
// limit is checked after every direct write, for all subscribers of a channel after every quarter
// of that margin published to it (hub `slowCheckBytes`), and by the keepalive's 250 ms sweep.
import type { GatewayContext } from './context.ts';
import { Format } from './hub.ts';
import type { GatewayMetrics } from './metrics.ts';
import { originChecker } from './origin.ts';
import { Session } from './session.ts';
import { ProxyState } from './proxy/wire.ts';
import type { HttpRequest, HttpResponse, TemplatedApp, UwsModule, WebSocket } from './uws.ts';

export const WEBSOCKET_PATH = '/connection/websocket';

/**
 * uWS user data. uWS copies the own properties of the object given to upgrade() into an object of
 * its own (a class prototype would be lost), so the Session rides in one property.
 */
export interface SocketData {
  session: Session;
}
const PROTOBUF_SUBPROTOCOL = 'centrifuge-protobuf';
/** WebSocket close code 1009 (RFC 6455: message too big). */
const MESSAGE_TOO_BIG = { code: 1009, reason: 'message too big' };
const JSON_SUBPROTOCOL = 'centrifuge-json';

/** Hard outbound limit handed to uWS, from the soft limit. */
export function hardBackpressureLimit(queueMaxSize: number): number {
  return queueMaxSize + Math.max(queueMaxSize, 1024 * 1024);
}

/** Picks the protocol format and the subprotocol to echo. */
export function negotiateFormat(subprotocols: string, query: string): { format: Format; echo: string } {
  const offered = subprotocols === '' ? [] : subprotocols.split(',').map((p) => p.trim());
  if (offered.includes(PROTOBUF_SUBPROTOCOL)) return { format: Format.protobuf, echo: PROTOBUF_SUBPROTOCOL };
  const params = new URLSearchParams(query);
  const asked = params.get('cf_protocol') ?? params.get('format');
  const echo = offered.includes(JSON_SUBPROTOCOL) ? JSON_SUBPROTOCOL : '';
  if (asked === 'protobuf') return { format: Format.protobuf, echo };
  return { format: Format.json, echo };
}

export interface HealthState {
  live(): boolean;
  ready(): { ok: boolean; reason?: string };
}

export function mountWebSocket(uws: UwsModule, app: TemplatedApp, gw: GatewayContext): void {
  const cfg = gw.config;
  const allowed = originChecker(cfg.client.allowedOrigins);
  const metrics = gw.metrics;
  const sizeLimit = cfg.websocket.messageSizeLimit;
  const proxies = gw.proxies;
  app.ws<SocketData>(WEBSOCKET_PATH, {
    maxPayloadLength: 4 * cfg.websocket.messageSizeLimit,
    maxBackpressure: hardBackpressureLimit(cfg.client.queueMaxSize),
    // Typed as number in the bundled .d.ts; the addon reads it as a boolean.
    closeOnBackpressureLimit: 1,
    // Our own pings keep connections alive and detect dead peers (3012); uWS's idle timeout would
    // close silently with 1006 instead.
    idleTimeout: cfg.client.pingIntervalMs > 0 ? 0 : 120,
    sendPingsAutomatically: false,
    compression: cfg.websocket.compression ? uws.SHARED_COMPRESSOR : uws.DISABLED,
    upgrade: (res: HttpResponse, req: HttpRequest, context) => {
      const key = req.getHeader('sec-websocket-key');
      const protocols = req.getHeader('sec-websocket-protocol');
      const extensions = req.getHeader('sec-websocket-extensions');
      const origin = req.getHeader('origin');
      const query = req.getQuery() ?? '';
      if (refuseUpgrade(res, gw, allowed, origin)) return;
      const { format, echo } = negotiateFormat(protocols, query);
      const session = new Session(gw, format);
      if (proxies.any) session.proxy = new ProxyState(captureHeaders(req, proxies.captureHeaders));
      res.upgrade<SocketData>({ session }, key, echo, extensions, context);
    },
    open: (ws: WebSocket<SocketData>) => {
      const s = ws.getUserData().session;
      s.ws = ws;
      gw.sessions.add(s);
      metrics.connections[s.format] = metrics.connections[s.format]! + 1;
      gw.keepalive.opened(s);
    },
    message: (ws: WebSocket<SocketData>, message: ArrayBuffer) => {
      const s = ws.getUserData().session;
      metrics.bytesIn[s.format] = metrics.bytesIn[s.format]! + message.byteLength;
      if (message.byteLength > sizeLimit) {
        s.disconnect(MESSAGE_TOO_BIG);
        return;
      }
      // uWS neuters the buffer when this callback returns. The frame is decoded synchronously
      // into copies (@rotor/proto never aliases its input); receive() copies it only when it has
      // to wait behind a running command.
      s.receive(new Uint8Array(message));
    },
    close: (ws: WebSocket<SocketData>) => {
      ws.getUserData().session.onClose();
    },
  });
}

/**
 * The upgrade request headers named in `names` (lower case, as uWS wants them) that are present;
 * null when none is asked for or present. Only these are kept, for the session's lifetime.
 */
/**
 * Answers an upgrade the gateway does not take: 503 while draining or closed, 403 for an Origin
 * outside `client.allowed_origins`. True when it answered.
 */
export function refuseUpgrade(res: HttpResponse, gw: GatewayContext, allowed: (origin: string) => boolean, origin: string): boolean {
  if (gw.draining || gw.closed) {
    res.writeStatus('503 Service Unavailable').end('draining');
    return true;
  }
  if (!allowed(origin)) {
    res.writeStatus('403 Forbidden').end('origin not allowed');
    return true;
  }
  return false;
}

export function captureHeaders(req: HttpRequest, names: readonly string[]): Record<string, string> | null {
  let out: Record<string, string> | null = null;
  for (const name of names) {
    const v = req.getHeader(name);
    if (v !== '') (out ??= {})[name] = v;
  }
  return out;
}

/** /health (readiness, also /health/ready), /health/live, /metrics, /connection/init. */
export function mountHttp(app: TemplatedApp, metrics: GatewayMetrics, health: HealthState, prometheus: boolean, healthOn: boolean): void {
  if (healthOn) {
    const ready = (res: HttpResponse): void => {
      const r = health.ready();
      res
        .writeStatus(r.ok ? '200 OK' : '503 Service Unavailable')
        .writeHeader('Content-Type', 'application/json')
        .end(JSON.stringify(r.ok ? { status: 'ok' } : { status: 'unavailable', reason: r.reason ?? '' }));
    };
    app.get('/health', ready);
    app.get('/health/ready', ready);
    app.get('/health/live', (res) => {
      const ok = health.live();
      res
        .writeStatus(ok ? '200 OK' : '503 Service Unavailable')
        .writeHeader('Content-Type', 'application/json')
        .end(JSON.stringify({ status: ok ? 'ok' : 'unavailable' }));
    });
  }
  if (prometheus) {
    app.get('/metrics', (res) => {
      let aborted = false;
      res.onAborted(() => {
        aborted = true;
      });
      metrics.exposition().then(
        (text) => {
          if (aborted) return;
          res.cork(() => {
            res.writeStatus('200 OK').writeHeader('Content-Type', metrics.contentType).end(text);
          });
        },
        (err: unknown) => {
          if (aborted) return;
          res.cork(() => {
            res.writeStatus('500 Internal Server Error').end(String(err));
          });
        },
      );
    });
  }
  app.get('/connection/init', (res) => {
    res.writeHeader('Content-Type', 'application/json').end('{}');
  });
}
