// The HTTP binding of the server API (PROTOCOL.md §7.1) as routes on a uWebSockets.js app: the
// embedded process mounts them on the gateway's app (port 8000, beside the WebSocket endpoint);
// the cluster api role on its own app (rotor.apiPort).
//
//   POST <prefix>/<method>   body = the method's request as JSON → {"result":…} | {"error":…}
//   POST <prefix>            legacy: `\n`-separated {"id","method","params"} → `\n`-separated replies
//
// Order of checks per request, all before the body is read: route (404), HTTP method (405), API
// key (401, empty body), Content-Length over http_api.max_request_body_size (413). The body is then
// streamed with the same limit enforced per chunk (413 as soon as it is crossed, nothing more is
// buffered), decoded (400 plain text when it is not the method's JSON), and handed to the service.
//
// uWS rules followed here: everything needed from the request is copied out synchronously (the
// HttpRequest dies when the handler returns); onAborted is registered before any asynchronous
// step; each onData chunk is copied (its ArrayBuffer is reused after the callback); every write
// after an await happens inside res.cork() and only when the request was not aborted.
import { apiKeyMatches, RotorError, silentLogger } from '@rotor/core';
import type { Logger, RotorConfig } from '@rotor/core';
import { api, encodeJson, tryDecodeMessage } from '@rotor/proto';
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { ERROR_MODE_HEADER, httpStatusForCode, useTransportErrors } from './error-mode.ts';
import { jsonSafeResult } from './json-safe.ts';
import { parseLegacyBody } from './legacy.ts';
import type { LegacyCommand } from './legacy.ts';
import { METHODS } from './methods.ts';
import type { MethodBinding } from './methods.ts';
import type { RejectReason } from './metrics.ts';
import { toApiError } from './service.ts';
import type { ApiService, CallContext } from './service.ts';
import { apiTracingEnabled } from './tracing.ts';

export interface HttpApiOptions {
  log?: Logger;
  /** Most commands in one legacy request. Default 10 000. */
  maxLegacyCommands?: number;
}

const CTX: CallContext = { protocol: 'http' };
const EMPTY = new Uint8Array(0);
const JSON_TYPE = 'application/json';
const TEXT_TYPE = 'text/plain; charset=utf-8';
const NEWLINE = new Uint8Array([0x0a]);
const utf8 = new TextEncoder();
const EMPTY_OBJECT = utf8.encode('{}');

/** Per-request state that outlives the synchronous part of the handler. */
interface Exchange {
  res: HttpResponse;
  aborted: boolean;
  /** A response was written (or the request aborted): ignore everything after. */
  done: boolean;
  transportErrors: boolean;
}

/** Mounts the HTTP server API on `app` under config.httpApi.handlerPrefix. */
export function mountHttpApi(app: TemplatedApp, service: ApiService, config: RotorConfig, options: HttpApiOptions = {}): void {
  const cfg = config.httpApi;
  const log = options.log ?? silentLogger();
  const maxLegacy = options.maxLegacyCommands ?? 10_000;
  const limit = cfg.maxRequestBodySize;
  const prefix = normalisePrefix(cfg.handlerPrefix);
  const metrics = service.metrics;
  const traced = apiTracingEnabled(config);
  /** The call context; traced, it carries the request's W3C trace context (read now: req dies with the handler). */
  const callContext = (req: HttpRequest): CallContext => {
    if (!traced) return CTX;
    const traceparent = req.getHeader('traceparent');
    if (traceparent === '') return CTX;
    const tracestate = req.getHeader('tracestate');
    return tracestate === '' ? { protocol: 'http', traceparent } : { protocol: 'http', traceparent, tracestate };
  };

  if (cfg.insecure) log.warn('HTTP API is insecure: requests are not authenticated (http_api.insecure)');
  else if (cfg.key === '') log.warn('HTTP API key is empty: every HTTP API request is refused with 401 (set http_api.key)');

  const reject = (res: HttpResponse, status: string, reason: RejectReason, body = ''): void => {
    metrics.rejected('http', reason);
    res.writeStatus(status).end(body);
  };

  /** Checks done in the synchronous part of every route; false when the response was written. */
  const admit = (res: HttpResponse, req: HttpRequest): boolean => {
    if (req.getMethod() !== 'post') {
      metrics.rejected('http', 'method_not_allowed');
      res.writeStatus('405 Method Not Allowed').writeHeader('Allow', 'POST').end();
      return false;
    }
    if (!cfg.insecure && !apiKeyMatches(cfg.key, requestKey(req))) {
      reject(res, '401 Unauthorized', 'unauthorized');
      return false;
    }
    const declared = req.getHeader('content-length');
    if (declared !== '' && Number(declared) > limit) {
      reject(res, '413 Payload Too Large', 'too_large');
      return false;
    }
    return true;
  };

  /** Runs the asynchronous part of a request; anything unexpected becomes a logged 500. */
  const guard = (ex: Exchange, work: () => Promise<void>): void => {
    work().catch((err: unknown) => {
      log.error('HTTP API request failed', { error: err instanceof Error ? err.message : String(err) });
      send(ex, '500 Internal Server Error', TEXT_TYPE, 'Internal Server Error\n');
    });
  };

  const handleMethod = (m: MethodBinding) => (res: HttpResponse, req: HttpRequest): void => {
    if (!admit(res, req)) return;
    const ex = exchange(res, useTransportErrors(cfg.errorMode, req.getHeader(ERROR_MODE_HEADER)));
    const ctx = callContext(req);
    readBody(ex, limit, () => metrics.rejected('http', 'too_large'), (body) =>
      guard(ex, async () => {
        // An empty body is the empty request (`/api/info` without a body is natural to write).
        const decoded = tryDecodeMessage(m.requestType, body.length === 0 ? EMPTY_OBJECT : body, 'json');
        if (!decoded.ok) {
          metrics.rejected('http', 'bad_body');
          send(ex, '400 Bad Request', TEXT_TYPE, `Bad Request: ${decoded.error}\n`);
          return;
        }
        let result: unknown;
        try {
          result = await m.call(service, decoded.value, ctx);
        } catch (err) {
          sendError(ex, m, RotorError.from(err));
          return;
        }
        send(ex, '200 OK', JSON_TYPE, encodeJson(m.responseType, m.ok(jsonSafeResult(m.name, result))));
      }),
    );
  };

  const handleLegacy = (res: HttpResponse, req: HttpRequest): void => {
    if (!admit(res, req)) return;
    const ex = exchange(res, false);
    const ctx = callContext(req);
    readBody(ex, limit, () => metrics.rejected('http', 'too_large'), (body) =>
      guard(ex, async () => {
        const parsed = parseLegacyBody(body, maxLegacy);
        if (!parsed.ok) {
          metrics.rejected('http', 'bad_body');
          send(ex, '400 Bad Request', TEXT_TYPE, `Bad Request: ${parsed.error}\n`);
          return;
        }
        send(ex, '200 OK', JSON_TYPE, joinLines(await runLegacy(service, body, parsed.commands, ctx)));
      }),
    );
  };

  for (const m of METHODS) app.any(`${prefix}/${m.name}`, handleMethod(m));
  app.any(prefix === '' ? '/' : prefix, handleLegacy);
  // Unknown methods under the prefix are 404. With an empty prefix that would be a catch-all for
  // the whole app, which belongs to the app's owner (uWS aborts on a duplicate route): skip it.
  if (prefix !== '') app.any(`${prefix}/*`, (res) => reject(res, '404 Not Found', 'not_found'));
}

function normalisePrefix(p: string): string {
  let out = p.startsWith('/') ? p : `/${p}`;
  while (out.length > 1 && out.endsWith('/')) out = out.slice(0, -1);
  return out === '/' ? '' : out;
}

/**
 * The key a request presents: `X-API-Key`; if that header is absent, `Authorization: apikey <key>`
 * (scheme case-insensitive); else the `api_key` query parameter. '' when none.
 */
function requestKey(req: HttpRequest): string {
  const header = req.getHeader('x-api-key');
  if (header !== '') return header;
  const auth = req.getHeader('authorization');
  if (auth !== '') {
    const space = auth.indexOf(' ');
    if (space > 0 && auth.slice(0, space).toLowerCase() === 'apikey') return auth.slice(space + 1).trim();
  }
  return req.getQuery('api_key') ?? '';
}

function exchange(res: HttpResponse, transportErrors: boolean): Exchange {
  const ex: Exchange = { res, aborted: false, done: false, transportErrors };
  res.onAborted(() => {
    ex.aborted = true;
    ex.done = true;
  });
  return ex;
}

/**
 * Streams the body into one buffer, refusing with 413 as soon as it grows past `limit` (nothing
 * beyond the limit is kept). `onBody` runs once with the complete body.
 */
function readBody(ex: Exchange, limit: number, onTooLarge: () => void, onBody: (body: Uint8Array) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  ex.res.onData((chunk, isLast) => {
    if (ex.done) return;
    size += chunk.byteLength;
    if (size > limit) {
      onTooLarge();
      send(ex, '413 Payload Too Large', null, '');
      return;
    }
    // The chunk's memory belongs to uWS and is reused after this callback: copy it.
    if (chunk.byteLength > 0) chunks.push(Buffer.from(new Uint8Array(chunk)));
    if (!isLast) return;
    const body = chunks.length === 0 ? EMPTY : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
    onBody(body);
  });
}

function send(ex: Exchange, status: string, contentType: string | null, body: string | Uint8Array): void {
  if (ex.done) return;
  ex.done = true;
  ex.res.cork(() => {
    ex.res.writeStatus(status);
    if (contentType !== null) ex.res.writeHeader('Content-Type', contentType);
    ex.res.end(body);
  });
}

function sendError(ex: Exchange, m: MethodBinding, err: RotorError): void {
  const error = toApiError(err);
  const inBody = ex.transportErrors ? null : m.fail(error);
  if (inBody !== null) {
    send(ex, '200 OK', JSON_TYPE, encodeJson(m.responseType, inBody));
    return;
  }
  // Transport mode, or a method without an error field (batch): the status carries the error.
  send(ex, httpStatusForCode(error.code ?? 100), JSON_TYPE, encodeJson(api.Error, error));
}

/** Runs legacy commands in order; each yields one reply line. */
async function runLegacy(service: ApiService, body: Uint8Array, commands: readonly LegacyCommand[], ctx: CallContext): Promise<Uint8Array[]> {
  const lines: Uint8Array[] = [];
  for (const cmd of commands) {
    let reply: Uint8Array;
    const m = cmd.method;
    if (m === null) {
      reply = encodeJson(api.PublishResponse, { error: { code: 104, message: 'method not found' } });
    } else {
      const decoded =
        cmd.paramsStart === cmd.paramsEnd
          ? tryDecodeMessage(m.requestType, EMPTY_OBJECT, 'json')
          : tryDecodeMessage(m.requestType, body.subarray(cmd.paramsStart, cmd.paramsEnd), 'json');
      if (!decoded.ok) {
        reply = encodeJson(m.responseType, m.fail({ code: 107, message: 'bad request' }));
      } else {
        try {
          const result = await m.call(service, decoded.value, ctx);
          reply = encodeJson(m.responseType, m.ok(jsonSafeResult(m.name, result)));
        } catch (err) {
          reply = encodeJson(m.responseType, m.fail(toApiError(RotorError.from(err))));
        }
      }
    }
    lines.push(cmd.id === null ? reply : withId(cmd.id, reply));
  }
  return lines;
}

/** `{"id":<id>,` + the reply object's members. */
function withId(id: string, reply: Uint8Array): Uint8Array {
  const head = utf8.encode(`{"id":${id}${reply.length > 2 ? ',' : ''}`);
  const out = new Uint8Array(head.length + reply.length - 1);
  out.set(head, 0);
  out.set(reply.subarray(1), head.length);
  return out;
}

function joinLines(lines: Uint8Array[]): Uint8Array {
  const parts: Uint8Array[] = [];
  lines.forEach((l, i) => {
    if (i > 0) parts.push(NEWLINE);
    parts.push(l);
  });
  return Buffer.concat(parts);
}
