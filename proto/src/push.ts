// Encode-once push builders for the gateway's fan-out hot path. A publication arriving for a
// channel is turned into the bytes of one Reply{push} per protocol format, once, and those bytes go
// to every subscriber unchanged. The publication payload is spliced in as opaque bytes, never
// parsed: for JSON clients the caller guarantees it is valid JSON (the API validates it at publish
// time; `isJson` is available for that), raw `\n` bytes are dropped so line framing holds.
//
// Every builder returns one frame message: the JSON object bytes (no newline), or the
// varint-delimited protobuf Reply. Alone it is a complete frame; several of one channel are joined
// with `joinFrame` / `FrameBuilder` / `ChannelBatcher`.
import { Join, Leave, Publication, Reply } from './gen/client.ts';
import type { ClientInfo, Disconnect, Message, Push, Subscribe, Unsubscribe } from './gen/client.ts';
import { joinFrame } from './frames.ts';
import { copyBytes } from './wire/alloc.ts';
import { JsonWriter, jsonKey } from './wire/json-writer.ts';
import { encodeDelimited, encodeJson } from './wire/message.ts';
import type { Format, MessageType } from './wire/message.ts';
import { textEncoder, utf8Length, writeUtf8 } from './wire/utf8.ts';
import { Writer, putVarint, varintSize } from './wire/writer.ts';

/** A channel name pre-encoded for both formats; build it once per channel and reuse it. */
export interface PreparedChannel {
  readonly channel: string;
  /** `{"push":{"channel":"<escaped>",` */
  readonly jsonPrefix: Uint8Array;
  /** Push.channel as a protobuf field: tag 0x12, varint length, UTF-8 bytes. */
  readonly protoField: Uint8Array;
}

export function prepareChannel(channel: string): PreparedChannel {
  // An empty channel is a zero value: omitted, exactly as the generic encoder does.
  if (channel === '') return { channel, jsonPrefix: textEncoder.encode('{"push":{'), protoField: new Uint8Array(0) };
  const jw = new JsonWriter(64 + channel.length * 6);
  jw.ascii('{"push":{"channel":');
  jw.string(channel);
  jw.byte(0x2c);
  const n = utf8Length(channel);
  const protoField = new Uint8Array(1 + varintSize(n) + n);
  protoField[0] = 0x12;
  writeUtf8(protoField, putVarint(protoField, 1, n), channel);
  return { channel, jsonPrefix: jw.finish(), protoField };
}

// Callers passing a channel name usually pass the same one several times in a row (one push per
// format, or a burst on one channel): remember the last one.
let lastPrepared: PreparedChannel = prepareChannel('');

function prepared(channel: string | PreparedChannel): PreparedChannel {
  if (typeof channel !== 'string') return channel;
  if (channel !== lastPrepared.channel) lastPrepared = prepareChannel(channel);
  return lastPrepared;
}

const jsonWriter = new JsonWriter(8192);
const protoWriter = new Writer(8192);
const JSON_SUFFIX = new Uint8Array([0x7d, 0x7d]); // closes the push and reply objects

// Push field numbers (PROTOCOL.md §2.3) with wire type 2: tag = number << 3 | 2.
const PUSH_PUB = 0x22; // 4
const PUSH_JOIN = 0x2a; // 5
const PUSH_LEAVE = 0x32; // 6
const REPLY_PUSH = 0x22; // Reply.push = 4

const KEY_PUB = jsonKey('pub');
const KEY_JOIN = jsonKey('join');
const KEY_LEAVE = jsonKey('leave');

function channelPush<T>(
  ch: PreparedChannel,
  type: MessageType<T>,
  body: T,
  format: Format,
  jsonKeyBytes: Uint8Array,
  protoTag: number,
): Uint8Array {
  if (format === 'json') {
    const w = jsonWriter;
    w.reset();
    w.raw(ch.jsonPrefix);
    w.raw(jsonKeyBytes);
    type.writeJson(w, body);
    w.raw(JSON_SUFFIX);
    return w.finish();
  }
  // Write the body first after enough headroom for every header, then fill the headers in front
  // of it: exact lengths, no shifting, one copy out.
  const w = protoWriter;
  w.reset();
  const headroom = ch.protoField.length + 2 + 3 * 5;
  w.ensure(headroom);
  w.pos = headroom;
  type.write(w, body);
  const bodyLen = w.pos - headroom;
  const pushLen = ch.protoField.length + 1 + varintSize(bodyLen) + bodyLen;
  const replyLen = 1 + varintSize(pushLen) + pushLen;
  const headerLen = varintSize(replyLen) + replyLen - bodyLen;
  const start = headroom - headerLen;
  const buf = w.buf;
  let p = putVarint(buf, start, replyLen);
  buf[p++] = REPLY_PUSH;
  p = putVarint(buf, p, pushLen);
  buf.set(ch.protoField, p);
  p += ch.protoField.length;
  buf[p++] = protoTag;
  putVarint(buf, p, bodyLen);
  return copyBytes(buf, start, w.pos);
}

/**
 * `{"push":{"channel":…,"pub":{"data":<raw>,"offset":N,…}}}` or its protobuf twin. `pub` is the
 * wire Publication (data, info, offset, tags, delta, time, …); core's Publication fits it.
 */
export function publicationPush(channel: string | PreparedChannel, pub: Publication, format: Format): Uint8Array {
  return channelPush(prepared(channel), Publication, pub, format, KEY_PUB, PUSH_PUB);
}

/** Join push for a channel. */
export function joinPush(channel: string | PreparedChannel, info: ClientInfo, format: Format): Uint8Array {
  return channelPush(prepared(channel), Join, { info }, format, KEY_JOIN, PUSH_JOIN);
}

/** Leave push for a channel. */
export function leavePush(channel: string | PreparedChannel, info: ClientInfo, format: Format): Uint8Array {
  return channelPush(prepared(channel), Leave, { info }, format, KEY_LEAVE, PUSH_LEAVE);
}

/** Any push, through the generic encoder (not a hot path). */
export function encodePush(push: Push, format: Format): Uint8Array {
  const reply: Reply = { push };
  return format === 'json' ? encodeJson(Reply, reply) : encodeDelimited(Reply, reply);
}

/** Server-side unsubscribe (code 2000 and up; ≥ 2500 makes the SDK resubscribe). */
export function unsubscribePush(channel: string, unsubscribe: Unsubscribe, format: Format): Uint8Array {
  return encodePush({ channel, unsubscribe }, format);
}

/** Server-side subscription added at runtime. */
export function subscribePush(channel: string, subscribe: Subscribe, format: Format): Uint8Array {
  return encodePush({ channel, subscribe }, format);
}

/** Asynchronous message to one connection (no channel). */
export function messagePush(message: Message, format: Format): Uint8Array {
  return encodePush({ message }, format);
}

/** Disconnect push: for HTTP-stream/SSE/unidirectional transports (WebSocket uses a close frame). */
export function disconnectPush(disconnect: Disconnect, format: Format): Uint8Array {
  return encodePush({ disconnect }, format);
}

export interface ChannelBatcherOptions {
  /** Flush a channel's batch early once it holds this many messages (default 64). */
  readonly maxMessages?: number;
  /** Flush a channel's batch early once it reaches this many bytes (default 65536). */
  readonly maxBytes?: number;
  /** Schedules the end-of-turn flush (default queueMicrotask). */
  readonly schedule?: (flush: () => void) => void;
}

type FlushFn = (channel: string, format: Format, frame: Uint8Array, count: number) => void;

/** Pending pushes of one channel in one format. */
interface Batch {
  readonly channel: string;
  readonly format: Format;
  parts: Uint8Array[];
  bytes: number;
}

/**
 * Coalesces the pushes of one channel that arrive in the same event-loop turn into one frame per
 * format: the first `add` schedules a flush, a batch reaching a size limit is flushed at once.
 * Frames of one channel and format come out in the order their pushes went in. Pushes are held by
 * reference and joined once per frame (one allocation per frame).
 */
export class ChannelBatcher {
  private json = new Map<string, Batch>();
  private protobuf = new Map<string, Batch>();
  private scheduled = false;
  private readonly maxMessages: number;
  private readonly maxBytes: number;
  private readonly schedule: (flush: () => void) => void;
  private readonly flushAll = (): void => this.flush();

  constructor(
    private readonly onFrame: FlushFn,
    options: ChannelBatcherOptions = {},
  ) {
    this.maxMessages = options.maxMessages ?? 64;
    this.maxBytes = options.maxBytes ?? 65536;
    this.schedule = options.schedule ?? queueMicrotask;
  }

  /** Queues an encoded push (from the builders above) of `channel` in `format`. */
  add(channel: string, format: Format, message: Uint8Array): void {
    const pending = format === 'json' ? this.json : this.protobuf;
    let b = pending.get(channel);
    if (b === undefined) {
      b = { channel, format, parts: [], bytes: 0 };
      pending.set(channel, b);
    }
    const sep = format === 'json' && b.parts.length > 0 ? 1 : 0;
    if (b.parts.length > 0 && b.bytes + sep + message.length > this.maxBytes) this.emit(b);
    b.bytes += (b.parts.length > 0 ? sep : 0) + message.length;
    b.parts.push(message);
    if (b.parts.length >= this.maxMessages || b.bytes >= this.maxBytes) this.emit(b);
    else if (!this.scheduled) {
      this.scheduled = true;
      this.schedule(this.flushAll);
    }
  }

  /** Emits every pending batch now. */
  flush(): void {
    this.scheduled = false;
    // Swap first: a callback that adds pushes re-entrantly starts a fresh batch.
    const json = this.json;
    const protobuf = this.protobuf;
    this.json = new Map();
    this.protobuf = new Map();
    for (const b of json.values()) if (b.parts.length > 0) this.emit(b);
    for (const b of protobuf.values()) if (b.parts.length > 0) this.emit(b);
  }

  private emit(b: Batch): void {
    const parts = b.parts;
    b.parts = [];
    b.bytes = 0;
    this.onFrame(b.channel, b.format, joinFrame(parts, b.format), parts.length);
  }
}
