// Unidirectional transports (PROTOCOL.md §6.3): uni_websocket, uni_http_stream and uni_sse.
//
// A unidirectional connection is an ordinary Session (connect, server-side subscriptions,
// recovery, keepalive, expiry, presence, slow sweep, drain) with two differences:
// - its connect command is built from the connect request the client gives once (URL parameter,
//   first WebSocket message or request body); it can send nothing else;
// - its output is bare Push messages, JSON only: the first is `connect` (the ConnectResult without
//   `pong`, with the `session` id), then pushes and `{}` pings. A connect that fails with an error
//   reply ends with the mapped disconnect instead (109/110 → 3005, 111 → 3013, 103 → 3507, others
//   → 3004), since the client has no way to act on an error reply.
//
// Unwrapping. Sessions and the hub produce Reply frames (`{"push":{…}}` lines). A uni socket
// rewrites each frame it is given: a push line loses its 8-byte `{"push":` prefix and the closing
// brace (a subarray, no copy), a ping `{}` stays, anything else (a reply: none can be asked for)
// is dropped. Hub topic frames reach uni sockets through their own JavaScript topic table, filled
// only by uni sockets: a frame is unwrapped once per publish for all uni members and framed once
// per kind, and while no uni socket is subscribed anywhere the WebSocket fan-out pays one
// `Map.size` check per topic frame (gateway.ts sink). Nothing of this runs for WebSocket or
// emulated sessions.
//
// Framing: uni_http_stream `push\n` per push; uni_sse `data: push\n\n` per push (after a first
// `\r\n`); uni_websocket one text message per push, or with uni_websocket.join_push_messages the
// pushes of one write joined by '\n' in one message. A disconnect is a `disconnect` push, then the
// end of the stream (uni_websocket: then the close frame with the same code and reason).
//
// Backpressure and slow consumers as for the emulated transports (stream.ts): HTTP responses count
// the bytes written since the last complete write, WebSockets report uWS's buffered amount; over
// client.queue_max_size the session ends with 3008. An aborted response or a closed WebSocket
// releases the session like any close.
import { Disconnects } from '@rotor/core';
import type { Disconnect, ErrorCode } from '@rotor/core';
import type { GatewayContext } from '../context.ts';
import { Format } from '../hub.ts';
import { Session } from '../session.ts';
import type { SessionSocket } from '../transport.ts';
import type { HttpResponse, WebSocket } from '../uws.ts';
import type { Reply } from '../wire-types.ts';
import { TopicTable } from './topic-table.ts';

export const UniKind = { websocket: 0, httpStream: 1, sse: 2 } as const;
export type UniKind = (typeof UniKind)[keyof typeof UniKind];

/** The transport names Centrifugo reports (proxy requests: `transport`). */
export const UNI_TRANSPORT_NAMES = ['uni_websocket', 'uni_http_stream', 'uni_sse'] as const;

const PUSH_PREFIX = new TextEncoder().encode('{"push":');
const SSE_PREFIX = new TextEncoder().encode('data: ');
const SSE_SUFFIX = new Uint8Array([0x0a, 0x0a]);
const NEWLINE = 0x0a;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Whether frame[start, end) is a Reply holding only a push: `{"push":…}`. */
function isPushAt(frame: Uint8Array, start: number, end: number): boolean {
  if (end - start < PUSH_PREFIX.length + 1) return false;
  for (let i = 0; i < PUSH_PREFIX.length; i++) if (frame[start + i] !== PUSH_PREFIX[i]) return false;
  return true;
}

/**
 * The bare pushes of a JSON Reply frame (messages joined by '\n'): push lines unwrapped (views of
 * `frame`), pings kept, replies dropped.
 */
export function unwrapFrame(frame: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  const n = frame.length;
  let start = 0;
  for (;;) {
    let end = frame.indexOf(NEWLINE, start);
    if (end < 0) end = n;
    if (isPushAt(frame, start, end)) out.push(frame.subarray(start + PUSH_PREFIX.length, end - 1));
    else if (end - start === 2 && frame[start] === 0x7b && frame[start + 1] === 0x7d) out.push(frame.subarray(start, end));
    if (end >= n) break;
    start = end + 1;
  }
  return out;
}

/** Pushes joined by '\n', with (uni_http_stream) or without (joined WebSocket message) a final one. */
export function joinPushes(msgs: readonly Uint8Array[], trailing: boolean): Uint8Array {
  let n = trailing ? msgs.length : msgs.length - 1;
  for (const m of msgs) n += m.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (let i = 0; i < msgs.length; i++) {
    const m = msgs[i]!;
    out.set(m, o);
    o += m.length;
    if (trailing || i + 1 < msgs.length) out[o++] = NEWLINE;
  }
  return out;
}

/**
 * One SSE event per push. A lone CR also ends an SSE line; in a JSON push it can only be
 * whitespace of a raw payload (JSON strings escape it), so it is dropped rather than let a
 * publisher cut the event for every subscriber.
 */
export function sseEvents(msgs: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const m of msgs) {
    n += SSE_PREFIX.length + m.length + SSE_SUFFIX.length;
    for (let i = 0; i < m.length; i++) if (m[i] === 0x0d) n--;
  }
  const out = new Uint8Array(n);
  let o = 0;
  for (const m of msgs) {
    out.set(SSE_PREFIX, o);
    o += SSE_PREFIX.length;
    if (m.indexOf(0x0d) < 0) {
      out.set(m, o);
      o += m.length;
    } else {
      for (let i = 0; i < m.length; i++) if (m[i] !== 0x0d) out[o++] = m[i]!;
    }
    out.set(SSE_SUFFIX, o);
    o += SSE_SUFFIX.length;
  }
  return out;
}

/** The disconnect a failed unidirectional connect ends with (LIB `extractUnidirectionalDisconnect`). */
export function uniConnectDisconnect(code: number): Disconnect {
  switch (code) {
    case 109:
    case 110:
      return Disconnects.expired;
    case 111:
      return Disconnects.tooManyRequests;
    case 103:
      return Disconnects.permissionDenied;
    default:
      return Disconnects.internal;
  }
}

/** Framings of one delivery, computed at most once per kind for all members of a topic. */
interface Framed {
  msgs: Uint8Array[];
  lines: Uint8Array | null;
  sse: Uint8Array | null;
  joined: Uint8Array | null;
}

function framed(msgs: Uint8Array[]): Framed {
  return { msgs, lines: null, sse: null, joined: null };
}

/** A unidirectional session: connect answered by a connect push, its errors by disconnects. */
export class UniSession extends Session {
  constructor(
    gw: GatewayContext,
    /** ConnectPush.session. */
    readonly sessionId: string,
  ) {
    super(gw, Format.json);
  }

  /** Only the connect can be answered (no other command can arrive): as the connect push. */
  override reply(_id: number, reply: Reply): void {
    const result = reply.connect;
    if (result === undefined) return;
    // No pong is expected on a unidirectional connection; ConnectResult.node is for /emulation.
    delete result.pong;
    delete result.node;
    result.session = this.sessionId;
    this.push({ connect: result });
  }

  /**
   * A connect error reply becomes its disconnect. Deferred: the connect handler marks the session
   * failed right after this call, and the disconnect must come after that to release it.
   */
  override replyError(_id: number, err: ErrorCode): void {
    const d = uniConnectDisconnect(err.code);
    queueMicrotask(() => this.disconnect(d));
  }

  /**
   * The refresh push (PROTOCOL.md §2.3 field 12): whether the connection still expires and in how
   * many seconds. With a refresh proxy the server refreshes again by itself: `expires` false.
   */
  override refreshed(): void {
    const expireAt = this.expireAt;
    const gw = this.gw;
    if (expireAt > 0 && gw.proxies.refresh === null) {
      this.push({ refresh: { expires: true, ttl: Math.max(1, Math.ceil((expireAt - gw.clock.now()) / 1000)) } });
    } else {
      this.push({ refresh: {} });
    }
    this.flushOut();
  }

  /** Pings go out, but no pong is expected: 3012 never applies. */
  override disconnect(d: Disconnect): void {
    if (d.code === Disconnects.noPong.code) return;
    super.disconnect(d);
  }
}

/** Uni sockets by fan-out topic: the hub's sink delivers here besides uWS's native topics. */
export class UniTopics extends TopicTable<UniSocket> {
  constructor(private readonly queueMaxSize: number) {
    super();
  }

  /** One hub frame to every uni member of `topic` (JSON topics only); slow ones get 3008. */
  publish(topic: string, frame: Uint8Array, isBinary: boolean): void {
    if (isBinary) return;
    const set = this.members(topic);
    if (set === undefined) return;
    const msgs = unwrapFrame(frame);
    if (msgs.length === 0) return;
    const f = framed(msgs);
    // A slow member's close removes it from the set: safe during for-of.
    for (const s of set) {
      s.deliver(f);
      if (s.getBufferedAmount() > this.queueMaxSize) s.session.slow();
    }
  }
}

/** The output side shared by the three transports: unwrapping, topics, ending. */
export abstract class UniSocket implements SessionSocket {
  protected done = false;
  private readonly joined: string[] = [];

  constructor(
    readonly session: UniSession,
    readonly kind: UniKind,
    private readonly topics: UniTopics,
  ) {}

  get closed(): boolean {
    return this.done;
  }

  /** The transport name of proxy requests (stream.ts `transportName`). */
  get uniTransport(): (typeof UNI_TRANSPORT_NAMES)[number] {
    return UNI_TRANSPORT_NAMES[this.kind];
  }

  /** Writes pushes already unwrapped; returns 1 written, 0 buffered, 2 dropped. */
  abstract deliver(f: Framed): number;
  abstract cork(cb: () => void): unknown;
  abstract getBufferedAmount(): number;
  /** Ends the transport after the disconnect push was written. */
  protected abstract close(code: number, reason: string): void;

  send(frame: Uint8Array, _isBinary: boolean, _compress: boolean): number {
    if (this.done) return 1;
    const msgs = unwrapFrame(frame);
    if (msgs.length === 0) return 1;
    return this.deliver(framed(msgs));
  }

  /** The disconnect push, then the end of the transport; releases the session. */
  end(code: number, reason: string | Uint8Array): void {
    if (this.done) return;
    const text = typeof reason === 'string' ? reason : decoder.decode(reason);
    this.deliver(framed([encoder.encode(JSON.stringify({ disconnect: { code, reason: text } }))]));
    this.close(code, text);
    this.finish();
  }

  subscribe(topic: string): boolean {
    if (this.done) return false;
    this.topics.join(this.joined, topic, this);
    return true;
  }

  unsubscribe(topic: string): boolean {
    return this.topics.leave(this.joined, topic, this);
  }

  /** The transport is gone (aborted response, closed WebSocket): release the session once. */
  finish(): void {
    if (this.done) return;
    this.done = true;
    this.topics.leaveAll(this.joined, this);
    this.session.onClose();
  }
}

function noop(): void {}

/** uni_http_stream and uni_sse over a streaming HttpResponse. */
export class UniHttpSocket extends UniSocket {
  /** Bytes written since the last write uWS took whole (an upper bound of its buffer, see stream.ts). */
  private backlog = 0;
  private chunk: Uint8Array | null = null;
  private wrote = false;
  private readonly writeBound = (): void => {
    this.wrote = this.res.write(this.chunk!);
  };

  constructor(
    private readonly res: HttpResponse,
    session: UniSession,
    kind: UniKind,
    topics: UniTopics,
  ) {
    super(session, kind, topics);
    res.onWritable(() => {
      // uWS does not drain its buffer by itself once a writable handler exists: an empty cork does.
      if (!this.done) this.res.cork(noop);
      return true;
    });
  }

  deliver(f: Framed): number {
    if (this.done) return 1;
    const bytes = this.kind === UniKind.sse ? (f.sse ??= sseEvents(f.msgs)) : (f.lines ??= joinPushes(f.msgs, true));
    this.chunk = bytes;
    this.res.cork(this.writeBound);
    this.chunk = null;
    if (this.wrote) {
      this.backlog = 0;
      return 1;
    }
    this.backlog += bytes.length;
    return 0;
  }

  cork(cb: () => void): void {
    if (this.done) cb();
    else this.res.cork(cb);
  }

  getBufferedAmount(): number {
    return this.backlog;
  }

  protected close(): void {
    this.res.cork(() => {
      this.res.end();
    });
  }
}

/** uWS user data of a uni_websocket connection. */
export interface UniWsData {
  socket: UniWsSocket | null;
  /** The cf_connect URL parameter (null: the first message is the connect request). */
  connect: string | null;
  proxyHeaders: Record<string, string> | null;
}

/** uni_websocket over a uWS WebSocket (not joined to native topics: frames need unwrapping). */
export class UniWsSocket extends UniSocket {
  /** The connect request was taken (from cf_connect or the first message). */
  started = false;

  constructor(
    private readonly ws: WebSocket<UniWsData>,
    session: UniSession,
    topics: UniTopics,
    private readonly joinMessages: boolean,
  ) {
    super(session, UniKind.websocket, topics);
  }

  deliver(f: Framed): number {
    if (this.done) return 1;
    const ws = this.ws;
    if (this.joinMessages || f.msgs.length === 1) {
      return ws.send(f.msgs.length === 1 ? f.msgs[0]! : (f.joined ??= joinPushes(f.msgs, false)), false, false);
    }
    let worst = 1;
    for (const m of f.msgs) {
      const r = ws.send(m, false, false);
      if (r === 2) return 2;
      if (r === 0) worst = 0;
    }
    return worst;
  }

  cork(cb: () => void): void {
    if (this.done) cb();
    else this.ws.cork(cb);
  }

  getBufferedAmount(): number {
    return this.done ? 0 : this.ws.getBufferedAmount();
  }

  protected close(code: number, reason: string): void {
    // uWS runs the close handler (which calls finish) synchronously inside end().
    this.ws.end(code, reason);
  }
}
