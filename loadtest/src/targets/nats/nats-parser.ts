// Incremental parser for the server → client half of the NATS text protocol. NATS over WebSocket
// treats frames as a byte stream: one frame may hold many MSGs, and a MSG (control line or payload)
// may span frames, so the parser keeps state between feed() calls. Payloads that sit inside one
// buffer are reported in place; only payloads split across buffers are copied.
//
// Handles INFO, MSG (with or without reply subject), PING, PONG, +OK, -ERR. HMSG is refused (the
// client never enables headers).

export interface NatsParserHandlers {
  onMsg(buf: Uint8Array, start: number, end: number): void;
  onPing(): void;
  onPong(): void;
  onInfo(json: string): void;
  onError(message: string): void;
}

const CR = 0x0d;
const LF = 0x0a;
const SPACE = 0x20;
const TAB = 0x09;
const MAX_LINE = 64 * 1024;
const MAX_PAYLOAD = 64 * 1024 * 1024;

const enum State {
  Line,
  Payload,
  Trailer,
  Failed,
}

export class NatsParser {
  private state = State.Line;
  private line: Buffer | null = null;
  private need = 0;
  private payload: Buffer | null = null;
  private payloadFill = 0;
  private trailer = 0;

  constructor(private readonly h: NatsParserHandlers) {}

  get failed(): boolean {
    return this.state === State.Failed;
  }

  feed(buf: Uint8Array, start: number, end: number): void {
    let pos = start;
    while (pos < end) {
      switch (this.state) {
        case State.Line: {
          const nl = buf.indexOf(LF, pos);
          if (nl < 0 || nl >= end) {
            this.appendLine(buf, pos, end);
            return;
          }
          if (this.line !== null) {
            this.appendLine(buf, pos, nl + 1);
            const l = this.line;
            this.line = null;
            if (this.failed) return;
            this.control(l, 0, l.length - 1);
          } else this.control(buf, pos, nl);
          pos = nl + 1;
          break;
        }
        case State.Payload: {
          if (this.payload === null && end - pos >= this.need) {
            this.h.onMsg(buf, pos, pos + this.need);
            pos += this.need;
            this.state = State.Trailer;
            this.trailer = 2;
            break;
          }
          if (this.payload === null) {
            this.payload = Buffer.allocUnsafe(this.need);
            this.payloadFill = 0;
          }
          const n = Math.min(this.need - this.payloadFill, end - pos);
          this.payload.set(buf.subarray(pos, pos + n), this.payloadFill);
          this.payloadFill += n;
          pos += n;
          if (this.payloadFill === this.need) {
            const p = this.payload;
            this.payload = null;
            this.h.onMsg(p, 0, p.length);
            this.state = State.Trailer;
            this.trailer = 2;
          }
          break;
        }
        case State.Trailer: {
          const expected = this.trailer === 2 ? CR : LF;
          if (buf[pos] !== expected) {
            this.fail('payload not followed by CRLF');
            return;
          }
          pos++;
          if (--this.trailer === 0) this.state = State.Line;
          break;
        }
        case State.Failed:
          return;
      }
    }
  }

  private appendLine(buf: Uint8Array, from: number, to: number): void {
    const part = Buffer.from(buf.subarray(from, to));
    this.line = this.line === null ? part : Buffer.concat([this.line, part]);
    if (this.line.length > MAX_LINE) this.fail('control line too long');
  }

  private fail(message: string): void {
    this.state = State.Failed;
    this.h.onError(message);
  }

  /** One control line buf[start, lf) (the LF excluded; a CR before it is trimmed). */
  private control(buf: Uint8Array, start: number, lf: number): void {
    let end = lf;
    if (end > start && buf[end - 1] === CR) end--;
    const c0 = buf[start] ?? 0;
    const c1 = buf[start + 1] ?? 0;
    if ((c0 === 0x4d || c0 === 0x6d) && (c1 === 0x53 || c1 === 0x73)) {
      // MSG <subject> <sid> [reply-to] <#bytes>: the size is the last token.
      let i = end - 1;
      while (i > start && (buf[i] === SPACE || buf[i] === TAB)) i--;
      let size = 0;
      let mul = 1;
      let digits = 0;
      while (i > start && buf[i]! >= 0x30 && buf[i]! <= 0x39) {
        size += (buf[i]! - 0x30) * mul;
        mul *= 10;
        digits++;
        i--;
      }
      if (digits === 0 || digits > 9 || size > MAX_PAYLOAD) {
        this.fail(`bad MSG line: ${Buffer.from(buf.subarray(start, end)).toString('latin1')}`);
        return;
      }
      this.need = size;
      this.state = State.Payload;
      return;
    }
    const text = Buffer.from(buf.subarray(start, end)).toString('latin1');
    const op = text.split(/[ \t]/, 1)[0]!.toUpperCase();
    switch (op) {
      case 'PING':
        this.h.onPing();
        return;
      case 'PONG':
        this.h.onPong();
        return;
      case '+OK':
        return;
      case '-ERR':
        this.h.onError(text.slice(4).trim());
        return;
      case 'INFO':
        this.h.onInfo(text.slice(4).trim());
        return;
      default:
        this.fail(`unexpected protocol line: ${text.slice(0, 80)}`);
    }
  }
}
