// Frame codecs of the client protocol (PROTOCOL.md §1.1): the only place where a WebSocket (or
// HTTP-stream) frame becomes commands/replies and back.
//
// JSON frame:     messages joined by `\n` (a single trailing `\n` and `\r\n` line ends tolerated).
// Protobuf frame: every message prefixed with its varint length, concatenated.
//
// Decoding never throws: malformed input yields a ProtocolError value (the gateway answers it with
// disconnect 3501 "bad request"), and any unexpected exception inside decoding is caught here too.
// Decoded values never alias the input buffer (bytes fields are copies), so a caller may keep them
// past an `await` even when the frame was a uWebSockets.js ArrayBuffer that is only valid
// synchronously.
import { Command, Reply } from './gen/client.ts';
import { allocBytes, copyBytes } from './wire/alloc.ts';
import { DecodeError } from './wire/errors.ts';
import { JsonReader } from './wire/json-reader.ts';
import { encodeDelimited, encodeJson } from './wire/message.ts';
import type { Format, MessageType } from './wire/message.ts';
import { Reader } from './wire/reader.ts';

export const ProtocolErrorKind = {
  /** The frame exceeds `maxFrameBytes` (checked before any decoding). */
  frameTooLarge: 'frame_too_large',
  /** The frame holds no message at all. */
  emptyFrame: 'empty_frame',
  /** More messages than `maxMessages`. */
  tooManyMessages: 'too_many_messages',
  /** Bytes that are not a valid message sequence of the format. */
  malformed: 'malformed',
  /** An unexpected exception inside the decoder (a bug, reported rather than thrown). */
  internal: 'internal',
} as const;
export type ProtocolErrorKind = (typeof ProtocolErrorKind)[keyof typeof ProtocolErrorKind];

export interface ProtocolError {
  readonly kind: ProtocolErrorKind;
  readonly message: string;
}

export interface FrameLimits {
  /** Largest accepted frame in bytes (Centrifugo's WebSocket read limit is 65536). */
  readonly maxFrameBytes: number;
  /** Most messages accepted in one frame; default 1024. */
  readonly maxMessages?: number;
}

export const DEFAULT_MAX_MESSAGES = 1024;

export type CommandsResult = { ok: true; commands: Command[] } | { ok: false; error: ProtocolError };
export type RepliesResult = { ok: true; replies: Reply[] } | { ok: false; error: ProtocolError };

/** Thrown internally to leave the split loops with a specific kind. */
class FrameError extends Error {
  constructor(
    readonly kind: ProtocolErrorKind,
    message: string,
  ) {
    super(message);
  }
}

function toProtocolError(err: unknown): ProtocolError {
  if (err instanceof FrameError) return { kind: err.kind, message: err.message };
  if (err instanceof DecodeError) return { kind: ProtocolErrorKind.malformed, message: err.message };
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return { kind: ProtocolErrorKind.internal, message };
}

function asBytes(frame: Uint8Array | ArrayBuffer): Uint8Array {
  return frame instanceof Uint8Array ? frame : new Uint8Array(frame);
}

/** Splits and decodes every message of a frame; throws FrameError/DecodeError. */
export function decodeFrameMessages<T>(
  type: MessageType<T>,
  bytes: Uint8Array,
  format: Format,
  limits: FrameLimits,
): T[] {
  if (bytes.length > limits.maxFrameBytes) {
    throw new FrameError(ProtocolErrorKind.frameTooLarge, `frame of ${bytes.length} bytes exceeds ${limits.maxFrameBytes}`);
  }
  if (bytes.length === 0) throw new FrameError(ProtocolErrorKind.emptyFrame, 'empty frame');
  const max = limits.maxMessages ?? DEFAULT_MAX_MESSAGES;
  const out: T[] = [];
  const len = bytes.length;
  let pos = 0;
  if (format === 'json') {
    // One reader for all lines, so a frame is copied at most once (see JsonReader.raw).
    const r = new JsonReader(bytes, 0, len);
    while (pos < len) {
      let nl = bytes.indexOf(0x0a, pos);
      if (nl < 0) nl = len;
      if (out.length >= max) throw new FrameError(ProtocolErrorKind.tooManyMessages, `more than ${max} messages in a frame`);
      // An empty or blank line is not a message (as in Centrifugo): the object read fails on it.
      r.pos = pos;
      r.end = nl;
      const m = type.readJson(r, 0);
      if (!r.atEnd()) throw new DecodeError(`invalid JSON: trailing data after message ${out.length + 1}`);
      out.push(m);
      pos = nl + 1;
    }
  } else {
    const r = new Reader(bytes);
    while (r.pos < len) {
      if (out.length >= max) throw new FrameError(ProtocolErrorKind.tooManyMessages, `more than ${max} messages in a frame`);
      const end = r.delimitedEnd(len);
      out.push(type.read(r, end, 0));
    }
  }
  return out;
}

/** Decodes the commands of one client frame. Never throws. */
export function decodeCommands(frame: Uint8Array | ArrayBuffer, format: Format, limits: FrameLimits): CommandsResult {
  try {
    return { ok: true, commands: decodeFrameMessages(Command, asBytes(frame), format, limits) };
  } catch (err) {
    return { ok: false, error: toProtocolError(err) };
  }
}

/** Decodes the replies of one server frame (test clients, load generator). Never throws. */
export function decodeReplies(
  frame: Uint8Array | ArrayBuffer,
  format: Format,
  limits: FrameLimits = { maxFrameBytes: Number.MAX_SAFE_INTEGER, maxMessages: Number.MAX_SAFE_INTEGER },
): RepliesResult {
  try {
    return { ok: true, replies: decodeFrameMessages(Reply, asBytes(frame), format, limits) };
  } catch (err) {
    return { ok: false, error: toProtocolError(err) };
  }
}

/**
 * One reply as a frame message: JSON bytes (no newline) or a varint-delimited protobuf message.
 * On its own it is a complete frame; several are joined with `joinFrame` / `FrameBuilder`.
 */
export function encodeReply(reply: Reply, format: Format): Uint8Array {
  return format === 'json' ? encodeJson(Reply, reply) : encodeDelimited(Reply, reply);
}

/** One command as a frame message (test clients, load generator). */
export function encodeCommand(command: Command, format: Format): Uint8Array {
  return format === 'json' ? encodeJson(Command, command) : encodeDelimited(Command, command);
}

/** Several commands as one frame. */
export function encodeCommands(commands: readonly Command[], format: Format): Uint8Array {
  return joinFrame(commands.map((c) => encodeCommand(c, format)), format);
}

/** Several replies as one frame. */
export function encodeReplies(replies: readonly Reply[], format: Format): Uint8Array {
  return joinFrame(replies.map((r) => encodeReply(r, format)), format);
}

/** The empty reply a server sends as ping (`{}` or the single byte 0x00). */
export function pingFrame(format: Format): Uint8Array {
  return format === 'json' ? new Uint8Array([0x7b, 0x7d]) : new Uint8Array([0]);
}

/**
 * Joins encoded messages (from encodeReply, encodeCommand or the push builders) into one frame:
 * JSON with `\n` between messages and none at the end, protobuf by concatenation.
 */
export function joinFrame(messages: readonly Uint8Array[], format: Format): Uint8Array {
  if (messages.length === 1) return messages[0]!;
  const sep = format === 'json' ? 1 : 0;
  let total = 0;
  for (const m of messages) total += m.length + sep;
  if (sep && total > 0) total -= 1;
  const out = allocBytes(total);
  let pos = 0;
  for (let i = 0; i < messages.length; i++) {
    if (sep && i > 0) out[pos++] = 0x0a;
    const m = messages[i]!;
    out.set(m, pos);
    pos += m.length;
  }
  return out;
}

/** Accumulates encoded messages into one frame; reusable after `finish()`. */
export class FrameBuilder {
  readonly format: Format;
  private buf: Uint8Array;
  private pos = 0;
  private n = 0;

  constructor(format: Format, initialSize = 4096) {
    this.format = format;
    this.buf = new Uint8Array(initialSize);
  }

  /** Messages added since the last finish. */
  get count(): number {
    return this.n;
  }

  /** Size in bytes of the frame `finish()` would return. */
  get byteLength(): number {
    return this.pos;
  }

  add(message: Uint8Array): void {
    const sep = this.format === 'json' && this.n > 0 ? 1 : 0;
    const need = this.pos + sep + message.length;
    if (need > this.buf.length) {
      let size = this.buf.length * 2;
      while (size < need) size *= 2;
      const next = new Uint8Array(size);
      next.set(this.buf.subarray(0, this.pos));
      this.buf = next;
    }
    if (sep) this.buf[this.pos++] = 0x0a;
    this.buf.set(message, this.pos);
    this.pos += message.length;
    this.n++;
  }

  /** The frame (a copy) and a reset; an empty Uint8Array when nothing was added. */
  finish(): Uint8Array {
    const out = copyBytes(this.buf, 0, this.pos);
    this.pos = 0;
    this.n = 0;
    return out;
  }
}
