// HTTP routes of the emulated transports (PROTOCOL.md §6.1, §6.2): /connection/http_stream,
// /connection/sse and /emulation, each with its OPTIONS preflight and 405 for other methods.
//
// Origin: as for the WebSocket upgrade, a request carrying an Origin that client.allowed_origins
// does not allow is refused (403); an allowed one gets the CORS headers Centrifugo's middleware
// sets (the origin echoed, credentials allowed, the requested headers allowed).
// Bodies are read up to the section's max_request_body_size (413 beyond) before anything else; the
// request headers are copied first, since uWS's HttpRequest is only valid during the handler.
import { randomUUID } from 'node:crypto';
import { Session } from '../session.ts';
import type { GatewayContext } from '../context.ts';
import { Format } from '../hub.ts';
import { originChecker } from '../origin.ts';
import { ProxyState } from '../proxy/wire.ts';
import { captureHeaders } from '../server.ts';
import type { HttpRequest, HttpResponse, TemplatedApp } from '../uws.ts';
import { tryDecodeMessage, client as proto } from '@rotor/proto';
import type { Emulation } from './emulation.ts';
import { RouteResult } from './emulation.ts';
import { EmulatedKind, EmulatedSocket } from './stream.ts';

export const HTTP_STREAM_PATH = '/connection/http_stream';
export const SSE_PATH = '/connection/sse';
export const EMULATION_PATH = '/emulation';

const OCTET_STREAM = 'application/octet-stream';
const SSE_OPEN = new Uint8Array([0x0d, 0x0a]);
const encoder = new TextEncoder();

/** What a handler needs from the request, copied while uWS's HttpRequest is valid. */
export interface RequestInfo {
  /** Headers some proxy forwards (captured only when a proxy is configured). */
  proxyHeaders: Record<string, string> | null;
  origin: string;
  contentType: string;
  requestHeaders: string;
  query: string;
}

export function requestInfo(req: HttpRequest, captured: readonly string[] | null = null): RequestInfo {
  return {
    proxyHeaders: captured === null ? null : captureHeaders(req, captured),
    origin: req.getHeader('origin'),
    contentType: req.getHeader('content-type'),
    requestHeaders: req.getHeader('access-control-request-headers'),
    query: req.getQuery() ?? '',
  };
}

/** The CORS headers for an allowed Origin (none for a request without one). */
export function writeCors(res: HttpResponse, info: RequestInfo): void {
  if (info.origin === '') return;
  res.writeHeader('Access-Control-Allow-Origin', info.origin);
  res.writeHeader('Access-Control-Allow-Credentials', 'true');
  if (info.requestHeaders !== '' && info.requestHeaders !== 'null') res.writeHeader('Access-Control-Allow-Headers', info.requestHeaders);
  res.writeHeader('Vary', 'Origin');
}

export function writeStreamHeaders(res: HttpResponse, contentType: string): void {
  res.writeHeader('Content-Type', contentType);
  res.writeHeader('Cache-Control', 'private, no-cache, no-store, must-revalidate, max-age=0');
  res.writeHeader('Pragma', 'no-cache');
  res.writeHeader('Expire', '0');
  res.writeHeader('X-Accel-Buffering', 'no');
  res.writeHeader('Connection', 'keep-alive');
}

export function plain(res: HttpResponse, info: RequestInfo, status: string, body = ''): void {
  res.cork(() => {
    res.writeStatus(status);
    writeCors(res, info);
    res.end(body);
  });
}

/** A request's progress: the body while it arrives, then (streams) the emulated socket. */
export class Pending {
  aborted = false;
  socket: EmulatedSocket | null = null;
  private parts: Uint8Array[] | null = [];
  private bytes = 0;

  constructor(readonly info: RequestInfo) {}

  /** Collects the body; `done` gets it, or null when it exceeded `limit` (answer 413). */
  read(res: HttpResponse, limit: number, done: (body: Uint8Array | null) => void): void {
    res.onData((chunk, isLast) => {
      const parts = this.parts;
      if (parts === null) return;
      this.bytes += chunk.byteLength;
      if (this.bytes > limit) {
        this.parts = null;
        done(null);
        return;
      }
      // uWS neuters the chunk after the callback: copy it.
      if (chunk.byteLength > 0) parts.push(new Uint8Array(chunk.slice(0)));
      if (!isLast) return;
      this.parts = null;
      if (parts.length === 1) done(parts[0]!);
      else {
        const body = new Uint8Array(this.bytes);
        let o = 0;
        for (const p of parts) {
          body.set(p, o);
          o += p.length;
        }
        done(body);
      }
    });
  }
}

function preflight(allowed: (origin: string) => boolean, methods: string) {
  return (res: HttpResponse, req: HttpRequest): void => {
    const info = requestInfo(req);
    if (!allowed(info.origin)) {
      res.writeStatus('403 Forbidden').end('origin not allowed');
      return;
    }
    res.writeStatus('204 No Content');
    writeCors(res, info);
    res.writeHeader('Access-Control-Allow-Methods', methods);
    res.writeHeader('Access-Control-Max-Age', '300');
    res.endWithoutBody();
  };
}

function notAllowed(methods: string) {
  return (res: HttpResponse): void => {
    res.writeStatus('405 Method Not Allowed').writeHeader('Allow', methods).end();
  };
}

/**
 * A stream endpoint: POST (and GET with the request in the query, for SSE), the CORS preflight,
 * 405 for any other method.
 */
export function mountStreamEndpoint(
  app: TemplatedApp,
  path: string,
  allowed: (origin: string) => boolean,
  post: (res: HttpResponse, req: HttpRequest) => void,
  get: ((res: HttpResponse, req: HttpRequest) => void) | null,
): void {
  const methods = get === null ? 'POST, OPTIONS' : 'GET, POST, OPTIONS';
  if (get !== null) app.get(path, get);
  app.post(path, post);
  app.options(path, preflight(allowed, methods));
  app.any(path, notAllowed(methods));
}

/** Mounts the routes of the transports the config enables (and /emulation when one is). */
export function mountEmulation(app: TemplatedApp, gw: GatewayContext, emu: Emulation): void {
  const cfg = gw.config;
  if (!cfg.httpStream.enabled && !cfg.sse.enabled) return;
  const allowed = originChecker(cfg.client.allowedOrigins);
  const metrics = gw.metrics;

  /** Opens the stream once the connect command is known: headers, session, the command. */
  const open = (res: HttpResponse, p: Pending, kind: EmulatedKind, format: Format, command: Uint8Array): void => {
    if (p.aborted) return;
    if (gw.draining || gw.closed) {
      plain(res, p.info, '503 Service Unavailable', 'draining');
      return;
    }
    const session = new Session(gw, format);
    if (gw.proxies.any) session.proxy = new ProxyState(p.info.proxyHeaders);
    const sock = new EmulatedSocket(res, session, kind, randomUUID(), emu.topics, (s) => emu.remove(s));
    p.socket = sock;
    session.ws = sock;
    emu.add(sock);
    gw.sessions.add(session);
    metrics.connections[format] = metrics.connections[format]! + 1;
    gw.keepalive.opened(session);
    res.cork(() => {
      res.writeStatus('200 OK');
      writeCors(res, p.info);
      writeStreamHeaders(res, kind === EmulatedKind.sse ? 'text/event-stream; charset=utf-8' : format === Format.protobuf ? OCTET_STREAM : 'application/json');
      // SSE: the first bytes make the EventSource open; HTTP-streaming headers go out with the
      // connect reply.
      if (kind === EmulatedKind.sse) res.write(SSE_OPEN);
    });
    metrics.bytesIn[format] = metrics.bytesIn[format]! + command.length;
    session.receive(command);
  };

  /** A stream request: origin, draining, then the body (or `fromQuery`) as the connect command. */
  const captured = gw.proxies.any ? gw.proxies.captureHeaders : null;
  const streamHandler = (kind: EmulatedKind, limit: number, fromQuery: boolean) => (res: HttpResponse, req: HttpRequest) => {
    const info = requestInfo(req, captured);
    if (!allowed(info.origin)) {
      res.writeStatus('403 Forbidden').end('origin not allowed');
      return;
    }
    if (gw.draining || gw.closed) {
      res.writeStatus('503 Service Unavailable').end('draining');
      return;
    }
    const format = kind === EmulatedKind.httpStream && info.contentType === OCTET_STREAM ? Format.protobuf : Format.json;
    if (fromQuery) {
      const connect = new URLSearchParams(info.query).get('cf_connect');
      if (connect === null || connect === '') {
        plain(res, info, '400 Bad Request', 'cf_connect required');
        return;
      }
      const command = encoder.encode(connect);
      if (command.length > limit) {
        plain(res, info, '413 Payload Too Large');
        return;
      }
      const p = new Pending(info);
      res.onAborted(() => aborted(p));
      open(res, p, kind, format, command);
      return;
    }
    const p = new Pending(info);
    res.onAborted(() => aborted(p));
    p.read(res, limit, (body) => {
      if (p.aborted) return;
      if (body === null) plain(res, info, '413 Payload Too Large');
      else if (body.length === 0) plain(res, info, '400 Bad Request', 'connect command required');
      else open(res, p, kind, format, body);
    });
  };

  const aborted = (p: Pending): void => {
    p.aborted = true;
    p.socket?.aborted();
  };

  if (cfg.httpStream.enabled) {
    mountStreamEndpoint(app, HTTP_STREAM_PATH, allowed, streamHandler(EmulatedKind.httpStream, cfg.httpStream.maxRequestBodySize, false), null);
  }
  if (cfg.sse.enabled) {
    const limit = cfg.sse.maxRequestBodySize;
    mountStreamEndpoint(app, SSE_PATH, allowed, streamHandler(EmulatedKind.sse, limit, false), streamHandler(EmulatedKind.sse, limit, true));
  }

  app.post(EMULATION_PATH, (res, req) => {
    const info = requestInfo(req);
    if (!allowed(info.origin)) {
      res.writeStatus('403 Forbidden').end('origin not allowed');
      return;
    }
    const p = new Pending(info);
    res.onAborted(() => {
      p.aborted = true;
    });
    p.read(res, cfg.emulation.maxRequestBodySize, (body) => {
      if (p.aborted) return;
      if (body === null) {
        plain(res, info, '413 Payload Too Large');
        return;
      }
      const request = decodeEmulationRequest(body, info.contentType === OCTET_STREAM);
      if (request === null) {
        plain(res, info, '400 Bad Request', 'malformed emulation request');
        return;
      }
      emu.route(request.node, request.session, request.data).then(
        (result) => {
          if (p.aborted) return;
          if (result === RouteResult.delivered) {
            res.cork(() => {
              res.writeStatus('204 No Content');
              writeCors(res, info);
              res.endWithoutBody();
            });
          } else {
            plain(res, info, '404 Not Found', 'unknown node');
          }
        },
        (err: unknown) => {
          gw.log.warn('emulation request could not be routed', { node: request.node, error: String(err) });
          if (!p.aborted) plain(res, info, '503 Service Unavailable', 'node unreachable');
        },
      );
    });
  });
  app.options(EMULATION_PATH, preflight(allowed, 'POST, OPTIONS'));
  app.any(EMULATION_PATH, notAllowed('POST, OPTIONS'));
}

export interface EmulationRequestBody {
  node: string;
  session: string;
  data: Uint8Array;
}

/**
 * An /emulation body: protobuf EmulationRequest, or JSON `{session, node, data}` with `data` a
 * string of `\n`-joined commands. Null when it is neither.
 */
export function decodeEmulationRequest(body: Uint8Array, protobuf: boolean): EmulationRequestBody | null {
  if (protobuf) {
    const r = tryDecodeMessage(proto.EmulationRequest, body, 'protobuf');
    if (!r.ok) return null;
    const m = r.value;
    if (m.node === undefined || m.node === '' || m.session === undefined || m.session === '') return null;
    return { node: m.node, session: m.session, data: m.data ?? new Uint8Array(0) };
  }
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch {
    return null;
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return null;
  const o = v as Record<string, unknown>;
  const { node, session, data } = o;
  if (typeof node !== 'string' || node === '' || typeof session !== 'string' || session === '') return null;
  if (data !== undefined && typeof data !== 'string') return null;
  return { node, session, data: encoder.encode(data ?? '') };
}
