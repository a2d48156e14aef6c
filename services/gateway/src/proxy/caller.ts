// HttpProxy: one configured proxy endpoint (Centrifugo's HTTP proxy transport). Every call is a
// JSON POST; the backend answers 200 with `{"result":…}`, `{"error":…}` or `{"disconnect":…}`.
//
// A status listed in `http.status_to_code_transforms` stands for the error or disconnect it maps to.
// Anything else — connection refused, another status than 200, a body over the size limit, not
// JSON, no answer within `timeout` — is a ProxyFailure, which the commands turn into internal error
// 100 (temporary). The call is bounded in time (the whole exchange, body included, is aborted at
// the timeout) and in memory (the body is read incrementally and abandoned past the limit).
//
// Logs name the proxy and the call type only: endpoints may carry credentials in the URL, and
// headers (cookies, authorization) and payloads are the client's secrets.
import type { ProxyConfig } from '@rotor/core';

export const ProxyType = {
  connect: 'connect',
  refresh: 'refresh',
  subscribe: 'subscribe',
  publish: 'publish',
  subRefresh: 'sub_refresh',
  rpc: 'rpc',
} as const;
export type ProxyType = (typeof ProxyType)[keyof typeof ProxyType];

/** How a call ended, the `result` label of rotor_gateway_proxy_requests_total. */
export type ProxyCallResult = 'ok' | 'error' | 'disconnect' | 'timeout' | 'cancelled' | 'unreachable' | 'bad_status' | 'bad_response';

/** Largest response body accepted from a proxy. */
export const MAX_PROXY_RESPONSE_BYTES = 4 * 1024 * 1024;
/** Centrifugo's default proxy timeout, also used when a config sets 0. */
export const DEFAULT_PROXY_TIMEOUT_MS = 1000;

export interface ProxyErrorReply {
  code: number;
  message: string;
  temporary: boolean;
}

export interface ProxyDisconnectReply {
  code: number;
  reason: string;
}

/**
 * A backend answer: exactly one of the three is set (disconnect wins over error over result). A
 * response with none of them is a result of null (for connect: no credentials).
 */
export type ProxyReply =
  | { kind: 'result'; result: Record<string, unknown> | null; source: string }
  | { kind: 'error'; error: ProxyErrorReply }
  | { kind: 'disconnect'; disconnect: ProxyDisconnectReply };

/** The proxy could not be asked or did not answer usably. */
export class ProxyFailure extends Error {
  constructor(
    readonly result: Exclude<ProxyCallResult, 'ok' | 'error' | 'disconnect'>,
    message: string,
  ) {
    super(message);
    this.name = 'ProxyFailure';
  }
}

/** Where a proxy reports each call (GatewayMetrics implements it). */
export interface ProxyObserver {
  proxyCall(type: ProxyType, result: ProxyCallResult, seconds: number): void;
}

export class HttpProxy {
  readonly endpoint: string;
  readonly timeoutMs: number;
  readonly binary: boolean;
  readonly includeMeta: boolean;
  /** Lower-case names of the upgrade request headers this proxy forwards. */
  readonly forwardHeaders: readonly string[];
  private readonly staticHeaders: ReadonlyArray<readonly [string, string]>;
  /** http.status_to_code_transforms by status: the reply a non-200 status stands for. */
  private readonly statusReplies: ReadonlyMap<number, ProxyReply>;

  constructor(
    /** 'default' or the name in `proxies`, for logs. */
    readonly name: string,
    cfg: ProxyConfig,
    private readonly observer: ProxyObserver,
    private readonly maxResponseBytes = MAX_PROXY_RESPONSE_BYTES,
  ) {
    // fetch refuses a URL with credentials; Go's client turns them into Basic authorization
    // (unless an Authorization header is set), so an endpoint written for Centrifugo works here.
    // (An endpoint the loader would reject is kept as it is: its calls fail as unreachable.)
    const url = URL.canParse(cfg.endpoint) ? new URL(cfg.endpoint) : null;
    let basic: string | null = null;
    if (url !== null && (url.username !== '' || url.password !== '')) {
      basic = `Basic ${Buffer.from(`${percentDecoded(url.username)}:${percentDecoded(url.password)}`).toString('base64')}`;
      url.username = '';
      url.password = '';
    }
    this.endpoint = url === null ? cfg.endpoint : url.href;
    this.timeoutMs = cfg.timeoutMs > 0 ? cfg.timeoutMs : DEFAULT_PROXY_TIMEOUT_MS;
    this.binary = cfg.binaryEncoding;
    this.includeMeta = cfg.includeConnectionMeta;
    this.forwardHeaders = [...new Set(cfg.httpHeaders.map((h) => h.toLowerCase()))];
    const statics: Array<readonly [string, string]> = basic === null ? [] : [['authorization', basic]];
    this.staticHeaders = statics.concat(Object.entries(cfg.http.staticHeaders));
    const replies = new Map<number, ProxyReply>();
    for (const tr of cfg.http.statusToCodeTransforms) {
      if (replies.has(tr.statusCode)) continue;
      replies.set(
        tr.statusCode,
        tr.toDisconnect.code > 0
          ? { kind: 'disconnect', disconnect: { code: tr.toDisconnect.code, reason: tr.toDisconnect.reason } }
          : { kind: 'error', error: { code: tr.toError.code, message: tr.toError.message, temporary: tr.toError.temporary } },
      );
    }
    this.statusReplies = replies;
  }

  /**
   * POSTs `body` (JSON text). `clientHeaders` are the captured upgrade headers (lower-case names);
   * only the ones this proxy forwards are sent, over the static headers of the same name.
   * `cancel` (the connection's, aborted when it closes) aborts the exchange: its client is gone.
   */
  async call(type: ProxyType, body: string, clientHeaders: Readonly<Record<string, string>> | null, cancel?: AbortSignal): Promise<ProxyReply> {
    const started = performance.now();
    let result: ProxyCallResult = 'ok';
    try {
      const reply = await this.exchange(body, clientHeaders, cancel);
      result = reply.kind === 'result' ? 'ok' : reply.kind;
      return reply;
    } catch (err) {
      result = err instanceof ProxyFailure ? err.result : 'unreachable';
      throw err instanceof ProxyFailure ? err : new ProxyFailure('unreachable', `proxy ${this.name}: ${String(err)}`);
    } finally {
      this.observer.proxyCall(type, result, (performance.now() - started) / 1000);
    }
  }

  private async exchange(body: string, clientHeaders: Readonly<Record<string, string>> | null, cancel?: AbortSignal): Promise<ProxyReply> {
    const headers = new Headers();
    for (const [k, v] of this.staticHeaders) headers.set(k, v);
    if (clientHeaders !== null) {
      for (const name of this.forwardHeaders) {
        const v = clientHeaders[name];
        if (v !== undefined) headers.set(name, v);
      }
    }
    headers.set('content-type', 'application/json');
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), this.timeoutMs);
    const onCancel = (): void => abort.abort();
    cancel?.addEventListener('abort', onCancel);
    if (cancel?.aborted === true) abort.abort();
    const aborted = (): ProxyFailure =>
      cancel?.aborted === true
        ? new ProxyFailure('cancelled', `proxy ${this.name}: the connection closed`)
        : new ProxyFailure('timeout', `proxy ${this.name}: no complete answer within ${this.timeoutMs} ms`);
    try {
      let res: Response;
      try {
        res = await fetch(this.endpoint, { method: 'POST', headers, body, signal: abort.signal, redirect: 'manual' });
      } catch (err) {
        throw abort.signal.aborted ? aborted() : new ProxyFailure('unreachable', `proxy ${this.name}: ${causeOf(err)}`);
      }
      if (res.status !== 200) {
        await res.body?.cancel().catch(() => undefined);
        const transformed = this.statusReplies.get(res.status);
        if (transformed !== undefined) return transformed;
        throw new ProxyFailure('bad_status', `proxy ${this.name}: HTTP status ${res.status}`);
      }
      let text: string;
      try {
        text = await readLimited(res, this.maxResponseBytes);
      } catch (err) {
        if (err instanceof ProxyFailure) throw err;
        throw abort.signal.aborted ? aborted() : new ProxyFailure('unreachable', `proxy ${this.name}: ${causeOf(err)}`);
      }
      return parseReply(text, this.name);
    } finally {
      clearTimeout(timer);
      cancel?.removeEventListener('abort', onCancel);
    }
  }
}

/** URL userinfo as Go's url.User gives it; a stray '%' (no escape) stays as written. */
function percentDecoded(v: string): string {
  try {
    return decodeURIComponent(v);
  } catch (err) {
    if (err instanceof URIError) return v;
    throw err;
  }
}

function causeOf(err: unknown): string {
  const cause = (err as { cause?: unknown }).cause;
  const c = cause instanceof Error ? cause : err instanceof Error ? err : null;
  // The code (ECONNREFUSED, …) rather than a message that may repeat the URL.
  return (c as { code?: string } | null)?.code ?? c?.name ?? 'request failed';
}

async function readLimited(res: Response, limit: number): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? '0');
  if (declared > limit) {
    await res.body?.cancel().catch(() => undefined);
    throw new ProxyFailure('bad_response', `response body of ${declared} bytes exceeds ${limit}`);
  }
  const body = res.body;
  if (body === null) return '';
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw new ProxyFailure('bad_response', `response body exceeds ${limit} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Validates the shape of a proxy response (PROTOCOL: ConnectResponse, SubscribeResponse, …). */
export function parseReply(text: string, name: string): ProxyReply {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new ProxyFailure('bad_response', `proxy ${name}: response is not JSON`);
  }
  if (!isObject(v)) throw new ProxyFailure('bad_response', `proxy ${name}: response is not a JSON object`);
  const d = v['disconnect'];
  if (d !== undefined && d !== null) {
    if (!isObject(d) || !isUint(d['code'])) throw new ProxyFailure('bad_response', `proxy ${name}: malformed disconnect`);
    return { kind: 'disconnect', disconnect: { code: d['code'], reason: typeof d['reason'] === 'string' ? d['reason'] : '' } };
  }
  const e = v['error'];
  if (e !== undefined && e !== null) {
    if (!isObject(e) || !isUint(e['code'])) throw new ProxyFailure('bad_response', `proxy ${name}: malformed error`);
    return {
      kind: 'error',
      error: { code: e['code'], message: typeof e['message'] === 'string' ? e['message'] : '', temporary: e['temporary'] === true },
    };
  }
  const r = v['result'];
  if (r === undefined || r === null) return { kind: 'result', result: null, source: text };
  if (!isObject(r)) throw new ProxyFailure('bad_response', `proxy ${name}: result is not an object`);
  return { kind: 'result', result: r, source: text };
}

function isUint(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
}
