// The emulated bidirectional transports' output side (PROTOCOL.md §6.1, §6.2): a SessionSocket
// over a streaming uWS HttpResponse, and the JavaScript topic table that gives such sockets the
// hub's channel frames.
//
// Framing. The session and the hub produce WebSocket-style frames (JSON: replies joined by '\n';
// protobuf: varint-delimited replies). HTTP-streaming JSON writes a frame followed by '\n' (one
// reply per line); protobuf writes the frame unchanged; SSE writes each reply of the frame as its
// own event, `data: <reply>\n\n` (a JSON reply never holds a raw '\n': the encoder strips them from
// embedded payloads, PROTOCOL.md §1.1).
//
// Backpressure, measured on uWS v20.30: HttpResponse.write never drops data — what the kernel does
// not take is kept in uWS's per-socket buffer and write returns false; HttpResponse exposes
// neither that buffer's size nor a meaningful getWriteOffset for chunked writes; and with an
// onWritable handler registered uWS does not drain that buffer by itself on writable events (the
// handler must write; an empty cork flushes it). So `backlog` counts the bytes written since the
// last write that returned true (an upper bound of the buffer: a successful write means uWS's
// buffer was emptied first), and the writable handler flushes. The session closes the stream with
// the 3008 disconnect push once that bound passes client.queue_max_size, exactly where a WebSocket
// would be closed: memory per stream stays below the limit plus one frame. A reader that stops
// altogether is also cut by uWS's own HTTP timeout (10 s after a failed write), which surfaces as
// an abort.
//
// Ending. `end` writes the disconnect push and ends the response; an abort (the client went away)
// releases the session the same way a WebSocket close does. Both leave every topic.
import type { Session } from '../session.ts';
import type { SessionSocket } from '../transport.ts';
import type { HttpResponse } from '../uws.ts';
import { Format } from '../hub.ts';
import { TopicTable } from './topic-table.ts';

export const EmulatedKind = { httpStream: 0, sse: 1 } as const;
export type EmulatedKind = (typeof EmulatedKind)[keyof typeof EmulatedKind];

const SSE_PREFIX = new Uint8Array([0x64, 0x61, 0x74, 0x61, 0x3a, 0x20]); // "data: "
const SSE_SUFFIX = new Uint8Array([0x0a, 0x0a]);
const decoder = new TextDecoder();

function noop(): void {}

/** A hub/session frame in the framing of an emulated stream (see the header). */
export function streamBytes(kind: EmulatedKind, format: Format, frame: Uint8Array): Uint8Array {
  if (kind === EmulatedKind.sse) {
    // A lone CR also ends an SSE line; in a JSON reply it can only be whitespace of a raw payload
    // (JSON strings escape it), so it is dropped rather than let it cut the event.
    let n = 1;
    let cr = 0;
    for (let i = 0; i < frame.length; i++) {
      const b = frame[i];
      if (b === 0x0a) n++;
      else if (b === 0x0d) cr++;
    }
    const out = new Uint8Array(frame.length - cr - (n - 1) + n * (SSE_PREFIX.length + SSE_SUFFIX.length));
    let o = 0;
    let start = 0;
    for (;;) {
      let end = frame.indexOf(0x0a, start);
      if (end < 0) end = frame.length;
      out.set(SSE_PREFIX, o);
      o += SSE_PREFIX.length;
      if (cr === 0) {
        out.set(frame.subarray(start, end), o);
        o += end - start;
      } else {
        for (let i = start; i < end; i++) if (frame[i] !== 0x0d) out[o++] = frame[i]!;
      }
      out.set(SSE_SUFFIX, o);
      o += SSE_SUFFIX.length;
      if (end >= frame.length) break;
      start = end + 1;
    }
    return out;
  }
  if (format === Format.protobuf) return frame;
  const out = new Uint8Array(frame.length + 1);
  out.set(frame, 0);
  out[frame.length] = 0x0a;
  return out;
}

/** Emulated sockets by fan-out topic: the hub's sink delivers here besides uWS's native topics. */
export class EmulatedTopics extends TopicTable<EmulatedSocket> {
  constructor(private readonly queueMaxSize: number) {
    super();
  }

  /** One hub frame to every emulated member of `topic`; the slow ones are closed with 3008. */
  publish(topic: string, frame: Uint8Array, isBinary: boolean): void {
    const set = this.members(topic);
    if (set === undefined) return;
    // Converted once per framing in use (SSE, HTTP-stream JSON, HTTP-stream protobuf).
    let sse: Uint8Array | null = null;
    let lines: Uint8Array | null = null;
    // A slow member's close removes it from the set: safe during for-of.
    for (const s of set) {
      let bytes: Uint8Array;
      if (s.kind === EmulatedKind.sse) bytes = sse ??= streamBytes(EmulatedKind.sse, Format.json, frame);
      else if (isBinary) bytes = frame;
      else bytes = lines ??= streamBytes(EmulatedKind.httpStream, Format.json, frame);
      s.write(bytes);
      if (s.getBufferedAmount() > this.queueMaxSize) s.session.slow();
    }
  }
}

export class EmulatedSocket implements SessionSocket {
  /** Bytes written since the last write uWS took whole (an upper bound of its buffer). */
  private backlog = 0;
  private done = false;
  /** Topics joined, left on close (at most one or two per subscription). */
  private readonly joined: string[] = [];
  private readonly flushBound = (): boolean => this.onWritable();
  // cork() takes a callback: these fields let one bound function per socket do the write.
  private chunk: Uint8Array | null = null;
  private wrote = false;
  private readonly writeBound = (): void => {
    this.wrote = this.res.write(this.chunk!);
  };

  constructor(
    private readonly res: HttpResponse,
    readonly session: Session,
    readonly kind: EmulatedKind,
    /** The emulation session id (ConnectResult.session), the key of /emulation requests. */
    readonly sessionId: string,
    private readonly topics: EmulatedTopics,
    /** Called once the stream is over (ended or aborted), after the session was released. */
    private readonly onDone: (s: EmulatedSocket) => void,
  ) {
    res.onWritable(this.flushBound);
  }

  get closed(): boolean {
    return this.done;
  }

  send(frame: Uint8Array, _isBinary: boolean, _compress: boolean): number {
    if (this.done) return 1;
    return this.write(streamBytes(this.kind, this.session.format, frame));
  }

  /** Writes bytes already in the stream's framing (see `streamBytes`). */
  write(bytes: Uint8Array): number {
    if (this.done) return 1;
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
    if (this.done) {
      cb();
      return;
    }
    this.res.cork(cb);
  }

  getBufferedAmount(): number {
    return this.backlog;
  }

  /** The disconnect push, then the end of the stream (PROTOCOL.md §5.4); releases the session. */
  end(code: number, reason: string | Uint8Array): void {
    if (this.done) return;
    const text = typeof reason === 'string' ? reason : decoder.decode(reason);
    const gw = this.session.gw;
    const push = gw.codec.reply({ push: { disconnect: { code, reason: text } } }, this.session.format);
    this.send(push, false, false);
    this.res.cork(() => {
      this.res.end();
    });
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

  /** uWS reported the response aborted (client gone): the response must not be touched again. */
  aborted(): void {
    if (this.done) return;
    this.finish();
  }

  private finish(): void {
    this.done = true;
    this.topics.leaveAll(this.joined, this);
    this.session.onClose();
    this.onDone(this);
  }

  /** The socket took some of uWS's buffer: flush the rest (an empty cork writes it out). */
  private onWritable(): boolean {
    if (!this.done) this.res.cork(noop);
    return true;
  }
}

/** The transport name Centrifugo reports for a session (proxy requests: `transport`). */
export function transportName(s: Session): 'websocket' | 'http_stream' | 'sse' | 'uni_websocket' | 'uni_http_stream' | 'uni_sse' {
  const ws = s.ws;
  if (ws instanceof EmulatedSocket) return ws.kind === EmulatedKind.sse ? 'sse' : 'http_stream';
  // Unidirectional sockets (uni.ts) name themselves; read by property, since importing uni.ts here
  // would close an import cycle through session.ts.
  const uni = (ws as { uniTransport?: 'uni_websocket' | 'uni_http_stream' | 'uni_sse' } | null)?.uniTransport;
  if (uni !== undefined) return uni;
  return 'websocket';
}
