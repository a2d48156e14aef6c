// Routes of the unidirectional transports (PROTOCOL.md §6.3), each mounted only when its section
// is enabled:
// - /connection/uni_websocket: the connect request from the `cf_connect` URL parameter, or else the
//   first message (over uni_websocket.message_size_limit → 1009; messages after it are ignored);
// - POST /connection/uni_http_stream: the connect request is the body;
// - /connection/uni_sse: GET with `cf_connect` (absent: an empty request), or POST with the body.
// The connect request is a ConnectRequest JSON object (token, data, name, version, subs, headers);
// anything else is 400 on HTTP and 3501 on the WebSocket. Origin, CORS, preflights, 405, 413 and
// the stream headers are those of the emulated transports (routes.ts).
import { randomUUID } from 'node:crypto';
import { Disconnects } from '@rotor/core';
import type { GatewayContext } from '../context.ts';
import { Format } from '../hub.ts';
import { originChecker } from '../origin.ts';
import { ProxyState } from '../proxy/wire.ts';
import { captureHeaders, hardBackpressureLimit, refuseUpgrade } from '../server.ts';
import type { HttpRequest, HttpResponse, TemplatedApp, WebSocket } from '../uws.ts';
import { Pending, mountStreamEndpoint, plain, requestInfo, writeCors, writeStreamHeaders } from './routes.ts';
import { UniHttpSocket, UniKind, UniSession, UniWsSocket } from './uni.ts';
import type { UniSocket, UniTopics, UniWsData } from './uni.ts';

export const UNI_WEBSOCKET_PATH = '/connection/uni_websocket';
export const UNI_HTTP_STREAM_PATH = '/connection/uni_http_stream';
export const UNI_SSE_PATH = '/connection/uni_sse';

const SSE_OPEN = new Uint8Array([0x0d, 0x0a]);
const COMMAND_PREFIX = new TextEncoder().encode('{"id":1,"connect":');
const MESSAGE_TOO_BIG = { code: 1009, reason: 'message too big' };
// ignoreBOM keeps a BOM in the text, so that JSON.parse refuses it as Centrifugo's decoder does
// (stripped here, it would stay in the wrapped bytes and fail the command later).
const fatalDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The connect command for a connect request (a JSON object, as text or UTF-8 bytes); null when it
 * is not one. The request is checked with JSON.parse, then wrapped as is (line breaks blanked): a
 * complete JSON object cannot add fields to the command around it.
 */
export function connectCommand(request: Uint8Array): Uint8Array | null {
  let v: unknown;
  try {
    v = JSON.parse(fatalDecoder.decode(request));
  } catch {
    return null;
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return null;
  const out = new Uint8Array(COMMAND_PREFIX.length + request.length + 1);
  out.set(COMMAND_PREFIX, 0);
  out.set(request, COMMAND_PREFIX.length);
  out[out.length - 1] = 0x7d;
  // JSON frames are newline-delimited: a CR or LF of a pretty-printed request (only ever
  // whitespace in valid JSON, strings escape them) would cut the command; blanked instead.
  for (let i = COMMAND_PREFIX.length; i < out.length - 1; i++) if (out[i] === 0x0a || out[i] === 0x0d) out[i] = 0x20;
  return out;
}

/** uWS idleTimeout in seconds (8 to 960, its resolution 4 s): the ping interval plus the pong timeout. */
export function uniIdleTimeout(pingIntervalMs: number, pongTimeoutMs: number): number {
  if (pingIntervalMs <= 0) return 120;
  const seconds = Math.ceil((pingIntervalMs + Math.max(0, pongTimeoutMs)) / 1000);
  return Math.min(960, Math.max(8, Math.ceil(seconds / 4) * 4));
}

/** Counts the connection and starts its stale timer (as server.ts does for WebSockets). */
function opened(gw: GatewayContext, session: UniSession, sock: UniSocket): void {
  session.ws = sock;
  gw.sessions.add(session);
  gw.metrics.connections[Format.json] = gw.metrics.connections[Format.json]! + 1;
  gw.keepalive.opened(session);
}

function start(gw: GatewayContext, session: UniSession, command: Uint8Array): void {
  gw.metrics.bytesIn[Format.json] = gw.metrics.bytesIn[Format.json]! + command.length;
  session.receive(command);
}

/** Mounts the routes of the unidirectional transports the config enables. */
export function mountUni(app: TemplatedApp, gw: GatewayContext, topics: UniTopics): void {
  const cfg = gw.config;
  if (!cfg.uniWebsocket.enabled && !cfg.uniHttpStream.enabled && !cfg.uniSse.enabled) return;
  const allowed = originChecker(cfg.client.allowedOrigins);
  const captured = gw.proxies.any ? gw.proxies.captureHeaders : null;

  if (cfg.uniWebsocket.enabled) mountUniWebSocket(app, gw, topics, allowed);

  const open = (res: HttpResponse, p: Pending, kind: UniKind, command: Uint8Array): UniHttpSocket | null => {
    if (p.aborted) return null;
    if (gw.draining || gw.closed) {
      plain(res, p.info, '503 Service Unavailable', 'draining');
      return null;
    }
    const session = new UniSession(gw, randomUUID());
    if (gw.proxies.any) session.proxy = new ProxyState(p.info.proxyHeaders);
    const sock = new UniHttpSocket(res, session, kind, topics);
    opened(gw, session, sock);
    res.cork(() => {
      res.writeStatus('200 OK');
      writeCors(res, p.info);
      writeStreamHeaders(res, kind === UniKind.sse ? 'text/event-stream; charset=utf-8' : 'application/json');
      if (kind === UniKind.sse) res.write(SSE_OPEN);
    });
    start(gw, session, command);
    return sock;
  };

  const handler = (kind: UniKind, limit: number, fromQuery: boolean) => (res: HttpResponse, req: HttpRequest) => {
    const info = requestInfo(req, captured);
    if (!allowed(info.origin)) {
      res.writeStatus('403 Forbidden').end('origin not allowed');
      return;
    }
    if (gw.draining || gw.closed) {
      res.writeStatus('503 Service Unavailable').end('draining');
      return;
    }
    const p = new Pending(info);
    let sock: UniHttpSocket | null = null;
    res.onAborted(() => {
      p.aborted = true;
      sock?.finish();
    });
    const withRequest = (body: Uint8Array): void => {
      const command = connectCommand(body);
      if (command === null) plain(res, info, '400 Bad Request', 'malformed connect request');
      else sock = open(res, p, kind, command);
    };
    if (fromQuery) {
      const request = new URLSearchParams(info.query).get('cf_connect') ?? '';
      const body = new TextEncoder().encode(request === '' ? '{}' : request);
      if (body.length > limit) plain(res, info, '413 Payload Too Large');
      else withRequest(body);
      return;
    }
    p.read(res, limit, (body) => {
      if (p.aborted) return;
      if (body === null) plain(res, info, '413 Payload Too Large');
      else withRequest(body);
    });
  };

  if (cfg.uniHttpStream.enabled) {
    mountStreamEndpoint(app, UNI_HTTP_STREAM_PATH, allowed, handler(UniKind.httpStream, cfg.uniHttpStream.maxRequestBodySize, false), null);
  }
  if (cfg.uniSse.enabled) {
    const limit = cfg.uniSse.maxRequestBodySize;
    mountStreamEndpoint(app, UNI_SSE_PATH, allowed, handler(UniKind.sse, limit, false), handler(UniKind.sse, limit, true));
  }
}

function mountUniWebSocket(app: TemplatedApp, gw: GatewayContext, topics: UniTopics, allowed: (origin: string) => boolean): void {
  const cfg = gw.config;
  const limit = cfg.uniWebsocket.messageSizeLimit;
  const captured = gw.proxies.any ? gw.proxies.captureHeaders : null;
  app.ws<UniWsData>(UNI_WEBSOCKET_PATH, {
    // The only inbound message that matters is the connect request; bigger ones get 1009 below,
    // far bigger ones uWS's own cut.
    maxPayloadLength: 4 * limit,
    // As on /connection/websocket: the soft limit (3008) is checked by the session and the topic
    // table, uWS's hard stop above it closes at once rather than dropping anything.
    maxBackpressure: hardBackpressureLimit(cfg.client.queueMaxSize),
    closeOnBackpressureLimit: 1,
    // A uni client sends nothing after its connect request and answers no `{}` ping, so only
    // WebSocket-level pings find a peer that went away silently (PROTOCOL.md §6.3, as Centrifugo's
    // uni_websocket): uWS pings after idleTimeout without input and closes when no pong follows.
    // Without them the session stayed until TCP gave up, or (ping_interval 0) a healthy client
    // was cut after 120 s.
    idleTimeout: uniIdleTimeout(cfg.client.pingIntervalMs, cfg.client.pongTimeoutMs),
    sendPingsAutomatically: true,
    upgrade: (res: HttpResponse, req: HttpRequest, context) => {
      const key = req.getHeader('sec-websocket-key');
      const extensions = req.getHeader('sec-websocket-extensions');
      const origin = req.getHeader('origin');
      const query = req.getQuery() ?? '';
      if (refuseUpgrade(res, gw, allowed, origin)) return;
      const connect = new URLSearchParams(query).get('cf_connect');
      const data: UniWsData = {
        socket: null,
        connect: connect === null || connect === '' ? null : connect,
        proxyHeaders: captured === null ? null : captureHeaders(req, captured),
      };
      // No subprotocol is echoed: the transport is JSON only.
      res.upgrade<UniWsData>(data, key, '', extensions, context);
    },
    open: (ws: WebSocket<UniWsData>) => {
      const data = ws.getUserData();
      const session = new UniSession(gw, randomUUID());
      if (gw.proxies.any) session.proxy = new ProxyState(data.proxyHeaders);
      const sock = new UniWsSocket(ws, session, topics, cfg.uniWebsocket.joinPushMessages);
      data.socket = sock;
      opened(gw, session, sock);
      const connect = data.connect;
      data.connect = null;
      if (connect !== null) begin(gw, sock, new TextEncoder().encode(connect), limit);
    },
    message: (ws: WebSocket<UniWsData>, message: ArrayBuffer) => {
      const sock = ws.getUserData().socket;
      if (sock === null || sock.started) return;
      begin(gw, sock, new Uint8Array(message), limit);
    },
    close: (ws: WebSocket<UniWsData>) => {
      ws.getUserData().socket?.finish();
    },
  });
}

/** The connect request of a uni_websocket connection (cf_connect or the first message). */
function begin(gw: GatewayContext, sock: UniWsSocket, request: Uint8Array, limit: number): void {
  sock.started = true;
  const session = sock.session;
  if (request.length > limit) {
    session.disconnect(MESSAGE_TOO_BIG);
    return;
  }
  const command = connectCommand(request);
  if (command === null) {
    session.disconnect(Disconnects.badRequest);
    return;
  }
  start(gw, session, command);
}
