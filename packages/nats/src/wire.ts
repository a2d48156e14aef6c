// Minimal protobuf wire primitives for the cluster envelopes (proto/cluster.proto). Numbers are JS
// numbers: 64-bit fields carry values below 2^53 (offsets, Unix milliseconds, TTLs), which is all
// Rotor ever puts in them; a larger varint on input is a decode error, not silent precision loss.
const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8');

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;
export const WIRE_FIXED32 = 5;

export class DecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecodeError';
  }
}

export class Writer {
  private buf: Uint8Array;
  private pos = 0;

  constructor(initial = 256) {
    this.buf = new Uint8Array(initial);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  varint(n: number): void {
    this.ensure(10);
    this.pos = putVarint(this.buf, this.pos, n);
  }

  tag(field: number, wireType: number): void {
    this.varint((field << 3) | wireType);
  }

  /** Writes a varint field unless it is 0 (proto3 default). */
  uint(field: number, n: number): void {
    if (n === 0) return;
    this.tag(field, WIRE_VARINT);
    this.varint(n);
  }

  /** Zig-zag signed field (sint64), unless 0. */
  sint(field: number, n: number): void {
    if (n === 0) return;
    this.tag(field, WIRE_VARINT);
    this.varint(n >= 0 ? n * 2 : -n * 2 - 1);
  }

  bool(field: number, b: boolean): void {
    if (!b) return;
    this.tag(field, WIRE_VARINT);
    this.varint(1);
  }

  /** A tri-state boolean as the `Toggle` enum of cluster.proto: unset 0, off 1, on 2. */
  toggle(field: number, b: boolean | undefined): void {
    this.uint(field, b === undefined ? 0 : b ? 2 : 1);
  }

  string(field: number, s: string | undefined): void {
    if (s === undefined || s.length === 0) return;
    this.tag(field, WIRE_LEN);
    this.rawString(s);
  }

  /** A string element of a repeated field: written even when empty. */
  stringElement(field: number, s: string): void {
    this.tag(field, WIRE_LEN);
    this.rawString(s);
  }

  private rawString(s: string): void {
    // Up to 3 bytes per UTF-16 unit; write in place and fix the length afterwards.
    const max = s.length * 3;
    const lenBytes = varintSize(max);
    this.ensure(max + lenBytes);
    const lenPos = this.pos;
    const start = lenPos + lenBytes;
    const { written } = textEncoder.encodeInto(s, this.buf.subarray(start, start + max));
    const after = putVarint(this.buf, lenPos, written);
    if (after !== start) this.buf.copyWithin(after, start, start + written);
    this.pos = after + written;
  }

  bytes(field: number, b: Uint8Array | undefined): void {
    if (b === undefined || b.length === 0) return;
    this.tag(field, WIRE_LEN);
    this.varint(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** Starts a length-delimited sub-message; pass the returned mark to `end`. */
  begin(field: number): number {
    this.tag(field, WIRE_LEN);
    this.ensure(5);
    const mark = this.pos;
    this.pos += 5; // room for the largest length varint we allow
    return mark;
  }

  end(mark: number): void {
    const start = mark + 5;
    const len = this.pos - start;
    const after = putVarint(this.buf, mark, len);
    if (after !== start) this.buf.copyWithin(after, start, start + len);
    this.pos = after + len;
  }

  /** Forgets the content, keeping the buffer (one shared writer per module: encoding is synchronous). */
  reset(): this {
    this.pos = 0;
    // Do not keep a buffer grown by one huge message forever.
    if (this.buf.length > 1 << 20) this.buf = new Uint8Array(256);
    return this;
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

/** Writes `n` at `pos` (the caller made room for 10 bytes) and returns the position after it. */
function putVarint(buf: Uint8Array, pos: number, n: number): number {
  if (n < 0x80000000 && n >= 0) {
    let v = n >>> 0;
    while (v > 0x7f) {
      buf[pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[pos++] = v;
    return pos;
  }
  if (!(n >= 0) || n > Number.MAX_SAFE_INTEGER) throw new RangeError(`varint out of range: ${n}`);
  let v = n;
  while (v > 0x7f) {
    buf[pos++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  buf[pos++] = v;
  return pos;
}

function varintSize(n: number): number {
  let size = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

export class Reader {
  pos: number;
  readonly end: number;

  constructor(
    readonly buf: Uint8Array,
    start = 0,
    end = buf.length,
  ) {
    this.pos = start;
    this.end = end;
  }

  done(): boolean {
    return this.pos >= this.end;
  }

  varint(): number {
    const buf = this.buf;
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      if (this.pos >= this.end) throw new DecodeError('truncated varint');
      const b = buf[this.pos++]!;
      result += (b & 0x7f) * mul;
      if (b < 0x80) {
        if (result > Number.MAX_SAFE_INTEGER) throw new DecodeError('varint above 2^53');
        return result;
      }
      mul *= 128;
    }
    // 8 groups of 7 bits already exceed 2^53.
    throw new DecodeError('varint above 2^53');
  }

  sint(): number {
    const n = this.varint();
    return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
  }

  bool(): boolean {
    return this.varint() !== 0;
  }

  /** `Toggle` enum: undefined for unset (or an unknown value). */
  toggle(): boolean | undefined {
    const v = this.varint();
    return v === 2 ? true : v === 1 ? false : undefined;
  }

  private length(): number {
    const len = this.varint();
    if (len > this.end - this.pos) throw new DecodeError('length past end of buffer');
    return len;
  }

  string(): string {
    const len = this.length();
    const s = textDecoder.decode(this.buf.subarray(this.pos, this.pos + len));
    this.pos += len;
    return s;
  }

  /**
   * A copy as a plain Uint8Array (not a Buffer view, whatever the input was), so the message
   * buffer can be released and callers may keep it.
   */
  bytes(): Uint8Array {
    const len = this.length();
    const b = new Uint8Array(this.buf.subarray(this.pos, this.pos + len));
    this.pos += len;
    return b;
  }

  /** A reader over a length-delimited sub-message. */
  sub(): Reader {
    const len = this.length();
    const r = new Reader(this.buf, this.pos, this.pos + len);
    this.pos += len;
    return r;
  }

  skip(wireType: number): void {
    switch (wireType) {
      case WIRE_VARINT:
        // Skip without the 2^53 check: unknown fields may be full 64-bit.
        for (let i = 0; ; i++) {
          if (this.pos >= this.end || i >= 10) throw new DecodeError('bad varint');
          if (this.buf[this.pos++]! < 0x80) return;
        }
      case WIRE_FIXED64:
        this.advance(8);
        return;
      case WIRE_LEN: {
        const len = this.varint();
        this.advance(len);
        return;
      }
      case WIRE_FIXED32:
        this.advance(4);
        return;
      default:
        throw new DecodeError(`unsupported wire type ${wireType}`);
    }
  }

  private advance(n: number): void {
    if (n > this.end - this.pos) throw new DecodeError('field past end of buffer');
    this.pos += n;
  }
}
