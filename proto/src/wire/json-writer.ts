// JSON writer producing UTF-8 bytes directly, so raw-JSON payloads (publication data, info) are
// spliced in without ever becoming JS strings. Separators need no state: a key or array item is
// preceded by a comma unless the previous byte opened the object/array (no JSON value ends in
// `{` or `[`, and raw payloads are only copied, never left open).
import { copyBytes } from './alloc.ts';
import { textEncoder } from './utf8.ts';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const LBRACE = 0x7b;
const LBRACKET = 0x5b;
const NEWLINE = 0x0a;
const HEX = '0123456789abcdef';

/** Precomputed `"key":` bytes, made once per field by generated code. */
export function jsonKey(name: string): Uint8Array {
  return textEncoder.encode(`${JSON.stringify(name)}:`);
}

export class JsonWriter {
  buf: Uint8Array;
  pos = 0;

  constructor(initialSize = 1024) {
    this.buf = new Uint8Array(initialSize);
  }

  reset(): void {
    this.pos = 0;
    if (this.buf.length > 1 << 20) this.buf = new Uint8Array(1024);
  }

  /** A copy of what was written (pooled, see alloc.ts). */
  finish(): Uint8Array {
    return copyBytes(this.buf, 0, this.pos);
  }

  ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  /** Copies bytes verbatim. */
  raw(v: Uint8Array): void {
    this.ensure(v.length);
    this.buf.set(v, this.pos);
    this.pos += v.length;
  }

  /**
   * Embeds a raw JSON value, dropping `\n` bytes: in valid JSON they can only be whitespace, and a
   * newline would break the line framing of the JSON protocol. The value is not validated here.
   */
  rawJson(v: Uint8Array): void {
    let nl = v.indexOf(NEWLINE);
    if (nl < 0) {
      this.raw(v);
      return;
    }
    this.ensure(v.length);
    let from = 0;
    while (nl >= 0) {
      this.buf.set(v.subarray(from, nl), this.pos);
      this.pos += nl - from;
      from = nl + 1;
      nl = v.indexOf(NEWLINE, from);
    }
    this.buf.set(v.subarray(from), this.pos);
    this.pos += v.length - from;
  }

  /** `{` */
  open(): void {
    this.byte(LBRACE);
  }

  /** `}` */
  close(): void {
    this.byte(0x7d);
  }

  /** `[` */
  openArray(): void {
    this.byte(LBRACKET);
  }

  /** `]` */
  closeArray(): void {
    this.byte(0x5d);
  }

  /** A precomputed `"key":`, preceded by a comma unless it is the first key of its object. */
  key(k: Uint8Array): void {
    this.ensure(k.length + 1);
    const buf = this.buf;
    if (buf[this.pos - 1] !== LBRACE) buf[this.pos++] = COMMA;
    buf.set(k, this.pos);
    this.pos += k.length;
  }

  /** A map key (any string), preceded by a comma unless first. */
  dynamicKey(k: string): void {
    this.ensure(1);
    if (this.buf[this.pos - 1] !== LBRACE) this.buf[this.pos++] = COMMA;
    this.string(k);
    this.byte(0x3a);
  }

  /** Comma before an array item unless it is the first. */
  item(): void {
    this.ensure(1);
    if (this.buf[this.pos - 1] !== LBRACKET) this.buf[this.pos++] = COMMA;
  }

  bool(v: boolean): void {
    if (v) this.ascii('true');
    else this.ascii('false');
  }

  ascii(s: string): void {
    const n = s.length;
    this.ensure(n);
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < n; i++) buf[pos++] = s.charCodeAt(i);
    this.pos = pos;
  }

  /** An integer-valued number (uint32/int32/64-bit kinds). */
  integer(v: number): void {
    if (v >= 0 && v < 10) {
      this.byte(0x30 + v);
      return;
    }
    this.ascii(String(v));
  }

  /** A float/double; non-finite values have no JSON form and are rejected. */
  double(v: number): void {
    if (!Number.isFinite(v)) throw new RangeError(`cannot encode ${v} as JSON`);
    this.ascii(String(v));
  }

  /** A JSON string literal from a JS string (escapes `"`, `\` and control characters). */
  string(s: string): void {
    const len = s.length;
    this.ensure(len * 3 + 2);
    let buf = this.buf;
    let pos = this.pos;
    buf[pos++] = QUOTE;
    for (let i = 0; i < len; i++) {
      let c = s.charCodeAt(i);
      if (c < 0x80) {
        if (c >= 0x20 && c !== QUOTE && c !== BACKSLASH) {
          buf[pos++] = c;
          continue;
        }
        this.pos = pos;
        this.escape(c, len - i);
        buf = this.buf;
        pos = this.pos;
        continue;
      }
      if (c < 0x800) {
        buf[pos++] = 0xc0 | (c >> 6);
        buf[pos++] = 0x80 | (c & 0x3f);
        continue;
      }
      if (c >= 0xd800 && c <= 0xdfff) {
        const d = i + 1 < len ? s.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
          const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
          buf[pos++] = 0xf0 | (cp >> 18);
          buf[pos++] = 0x80 | ((cp >> 12) & 0x3f);
          buf[pos++] = 0x80 | ((cp >> 6) & 0x3f);
          buf[pos++] = 0x80 | (cp & 0x3f);
          continue;
        }
        c = 0xfffd;
      }
      buf[pos++] = 0xe0 | (c >> 12);
      buf[pos++] = 0x80 | ((c >> 6) & 0x3f);
      buf[pos++] = 0x80 | (c & 0x3f);
    }
    buf[pos++] = QUOTE;
    this.pos = pos;
  }

  private escape(c: number, remaining: number): void {
    // An escape takes up to 6 bytes (\u00XX) where string() reserved 3: re-reserve for the rest.
    this.ensure(6 + remaining * 3 + 1);
    const buf = this.buf;
    let pos = this.pos;
    buf[pos++] = BACKSLASH;
    switch (c) {
      case QUOTE:
        buf[pos++] = QUOTE;
        break;
      case BACKSLASH:
        buf[pos++] = BACKSLASH;
        break;
      case 0x0a:
        buf[pos++] = 0x6e; // n
        break;
      case 0x0d:
        buf[pos++] = 0x72; // r
        break;
      case 0x09:
        buf[pos++] = 0x74; // t
        break;
      case 0x08:
        buf[pos++] = 0x62; // b
        break;
      case 0x0c:
        buf[pos++] = 0x66; // f
        break;
      default:
        buf[pos++] = 0x75; // u
        buf[pos++] = 0x30;
        buf[pos++] = 0x30;
        buf[pos++] = HEX.charCodeAt(c >> 4);
        buf[pos++] = HEX.charCodeAt(c & 15);
    }
    this.pos = pos;
  }

  /** Bytes as a base64 JSON string (for files without the raw-bytes directive). */
  base64(v: Uint8Array): void {
    this.byte(QUOTE);
    this.ascii(Buffer.from(v.buffer, v.byteOffset, v.length).toString('base64'));
    this.byte(QUOTE);
  }
}
