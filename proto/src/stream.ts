// Incremental decoders for byte streams that carry many messages (HTTP-streaming bodies, test
// clients reading a socket): feed chunks split anywhere, get whole messages out.
//
// JSON stream:     messages terminated by `\n` (`\r\n` tolerated); blank lines are skipped, as a
//                  stream may carry keep-alive newlines; at end() a last unterminated line counts.
// Protobuf stream: varint length prefix + message, back to back; end() inside a message is an error.
//
// Memory is bounded: a message (or an unterminated line) larger than `maxMessageBytes` is an error.
// After an error the decoder stays failed and returns that error again.
import type { ProtocolError } from './frames.ts';
import { ProtocolErrorKind } from './frames.ts';
import { DecodeError } from './wire/errors.ts';
import { JsonReader } from './wire/json-reader.ts';
import type { Format, MessageType } from './wire/message.ts';
import { Reader } from './wire/reader.ts';

export type StreamResult<T> = { ok: true; messages: T[] } | { ok: false; error: ProtocolError };

export interface StreamDecoderOptions {
  /** Largest single message (JSON line without its `\n`, or protobuf body) in bytes. */
  readonly maxMessageBytes: number;
}

export class StreamDecoder<T> {
  private buf: Uint8Array = new Uint8Array(256);
  /** Bytes buffered: buf[0, len). */
  private len = 0;
  /** JSON: how far the current line has been searched for `\n` already. */
  private scanned = 0;
  private failed: ProtocolError | null = null;
  private readonly maxMessageBytes: number;

  constructor(
    private readonly type: MessageType<T>,
    private readonly format: Format,
    options: StreamDecoderOptions,
  ) {
    this.maxMessageBytes = options.maxMessageBytes;
  }

  /** Bytes held waiting for the rest of a message. */
  get buffered(): number {
    return this.len;
  }

  /** Feeds a chunk; returns the messages it completed (possibly none). */
  push(chunk: Uint8Array): StreamResult<T> {
    if (this.failed) return { ok: false, error: this.failed };
    this.append(chunk);
    return this.drain(false);
  }

  /** Signals the end of the stream; returns the last messages or an error for a torn message. */
  end(): StreamResult<T> {
    if (this.failed) return { ok: false, error: this.failed };
    return this.drain(true);
  }

  private append(chunk: Uint8Array): void {
    const need = this.len + chunk.length;
    if (need > this.buf.length) {
      let size = this.buf.length * 2;
      while (size < need) size *= 2;
      const next = new Uint8Array(size);
      next.set(this.buf.subarray(0, this.len));
      this.buf = next;
    }
    this.buf.set(chunk, this.len);
    this.len = need;
  }

  private fail(kind: ProtocolErrorKind, message: string): StreamResult<T> {
    this.failed = { kind, message };
    this.len = 0;
    return { ok: false, error: this.failed };
  }

  private drain(final: boolean): StreamResult<T> {
    const messages: T[] = [];
    let pos: number;
    try {
      if (this.format === 'json') pos = this.drainJson(messages, final);
      else pos = this.drainProtobuf(messages, final);
    } catch (err) {
      if (err instanceof DecodeError) return this.fail(ProtocolErrorKind.malformed, err.message);
      if (err instanceof StreamLimitError) return this.fail(ProtocolErrorKind.frameTooLarge, err.message);
      return this.fail(ProtocolErrorKind.internal, err instanceof Error ? `${err.name}: ${err.message}` : String(err));
    }
    // Keep the unfinished tail at the front of the buffer.
    if (pos > 0) {
      this.buf.copyWithin(0, pos, this.len);
      this.len -= pos;
      this.scanned = Math.max(0, this.scanned - pos);
    }
    return { ok: true, messages };
  }

  private drainJson(out: T[], final: boolean): number {
    const buf = this.buf;
    const len = this.len;
    // One reader per drain: raw values share one private copy of the buffered bytes.
    const r = new JsonReader(buf, 0, len);
    let pos = 0;
    for (;;) {
      let nl = buf.subarray(0, len).indexOf(0x0a, Math.max(pos, this.scanned));
      if (nl < 0) {
        this.scanned = len;
        if (len - pos > this.maxMessageBytes) {
          throw new StreamLimitError(`line longer than ${this.maxMessageBytes} bytes`);
        }
        if (!final) return pos;
        nl = len;
      }
      let end = nl;
      if (end > pos && buf[end - 1] === 0x0d) end--;
      if (end - pos > this.maxMessageBytes) throw new StreamLimitError(`line longer than ${this.maxMessageBytes} bytes`);
      r.pos = pos;
      r.end = end;
      if (!r.atEnd()) {
        r.pos = pos;
        const m = this.type.readJson(r, 0);
        if (!r.atEnd()) throw new DecodeError('invalid JSON: trailing data after a message');
        out.push(m);
      }
      pos = nl + 1;
      this.scanned = pos;
      if (pos >= len) return len;
    }
  }

  private drainProtobuf(out: T[], final: boolean): number {
    const len = this.len;
    const r = new Reader(this.buf, 0, len);
    let pos = 0;
    while (pos < len) {
      // A varint is complete once a byte without the continuation bit arrives (≤ 10 bytes).
      let v = pos;
      while (v < len && v - pos < 10 && this.buf[v]! >= 0x80) v++;
      if (v >= len) {
        if (len - pos >= 10) throw new DecodeError('varint longer than 10 bytes');
        break;
      }
      r.pos = pos;
      const end = r.delimitedEnd(Number.MAX_SAFE_INTEGER);
      const size = end - r.pos;
      if (size > this.maxMessageBytes) throw new StreamLimitError(`message of ${size} bytes exceeds ${this.maxMessageBytes}`);
      if (end > len) break;
      out.push(this.type.read(r, end, 0));
      pos = end;
    }
    if (final && pos < len) throw new DecodeError('stream ended inside a message');
    return pos;
  }
}

class StreamLimitError extends Error {}
