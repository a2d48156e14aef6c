// Protobuf binary writer: one growable buffer, reused between messages. Nested messages are
// written in one pass: `fork()` reserves one byte for the length, `ldelim()` patches it and, in
// the rare case the body is 128 bytes or longer, shifts the body right to make room for a longer
// varint (a native memmove). 64-bit values are JS numbers (|v| ≤ 2^53−1).
import { copyBytes } from './alloc.ts';
import { utf8Length, writeUtf8 } from './utf8.ts';

const TWO32 = 4294967296;
const f64 = new Float64Array(1);
const f64b = new Uint8Array(f64.buffer);
const f32 = new Float32Array(1);
const f32b = new Uint8Array(f32.buffer);

export class Writer {
  buf: Uint8Array;
  pos = 0;

  constructor(initialSize = 1024) {
    this.buf = new Uint8Array(initialSize);
  }

  /** Forgets the content; keeps the buffer (shrinking it after an unusually large message). */
  reset(): void {
    this.pos = 0;
    if (this.buf.length > 1 << 20) this.buf = new Uint8Array(1024);
  }

  /** A copy of what was written (pooled, see alloc.ts): safe to keep after the writer is reused. */
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

  /** A varint of a non-negative value < 2^32 (tags, lengths, uint32, bool). */
  uint32(v: number): void {
    this.ensure(5);
    const buf = this.buf;
    let pos = this.pos;
    v >>>= 0;
    while (v > 0x7f) {
      buf[pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[pos++] = v;
    this.pos = pos;
  }

  /** int32: negative values take ten bytes (sign-extended to 64 bits), as the spec says. */
  int32(v: number): void {
    if (v >= 0) this.uint32(v);
    else this.varint64(v >>> 0, 0xffffffff);
  }

  sint32(v: number): void {
    this.uint32(((v << 1) ^ (v >> 31)) >>> 0);
  }

  /** uint64 from a non-negative safe integer. */
  uint64(v: number): void {
    if (v <= 0xffffffff) {
      this.uint32(v);
      return;
    }
    const hi = Math.floor(v / TWO32);
    this.varint64(v - hi * TWO32, hi >>> 0);
  }

  /** int64 from a safe integer; negative values are two's complement (ten bytes). */
  int64(v: number): void {
    if (v >= 0) {
      this.uint64(v);
      return;
    }
    const hi = Math.floor(v / TWO32);
    this.varint64(v - hi * TWO32, hi >>> 0);
  }

  sint64(v: number): void {
    // zigzag: v ≥ 0 → 2v, v < 0 → 2|v| − 1, computed on 32-bit halves (2|v| may exceed 2^53).
    const a = Math.abs(v);
    const ahi = Math.floor(a / TWO32);
    const alo = a - ahi * TWO32;
    let hi = ((ahi << 1) | (alo >>> 31)) >>> 0;
    let lo = (alo << 1) >>> 0;
    if (v < 0) {
      if (lo === 0) {
        lo = 0xffffffff;
        hi = (hi - 1) >>> 0;
      } else lo -= 1;
    }
    this.varint64(lo, hi);
  }

  varint64(lo: number, hi: number): void {
    this.ensure(10);
    const buf = this.buf;
    let pos = this.pos;
    while (hi !== 0) {
      buf[pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    while (lo > 0x7f) {
      buf[pos++] = (lo & 0x7f) | 0x80;
      lo >>>= 7;
    }
    buf[pos++] = lo;
    this.pos = pos;
  }

  bool(v: boolean): void {
    this.ensure(1);
    this.buf[this.pos++] = v ? 1 : 0;
  }

  fixed32(v: number): void {
    this.ensure(4);
    const buf = this.buf;
    const pos = this.pos;
    buf[pos] = v & 0xff;
    buf[pos + 1] = (v >>> 8) & 0xff;
    buf[pos + 2] = (v >>> 16) & 0xff;
    buf[pos + 3] = (v >>> 24) & 0xff;
    this.pos = pos + 4;
  }

  sfixed32(v: number): void {
    this.fixed32(v);
  }

  fixed64(v: number): void {
    const hi = Math.floor(v / TWO32);
    this.fixed32(v - hi * TWO32);
    this.fixed32(hi >>> 0);
  }

  sfixed64(v: number): void {
    this.fixed64(v);
  }

  double(v: number): void {
    this.ensure(8);
    f64[0] = v;
    this.buf.set(f64b, this.pos);
    this.pos += 8;
  }

  float(v: number): void {
    this.ensure(4);
    f32[0] = v;
    this.buf.set(f32b, this.pos);
    this.pos += 4;
  }

  /** Length-prefixed bytes. */
  bytes(v: Uint8Array): void {
    this.uint32(v.length);
    this.raw(v);
  }

  /** Length-prefixed UTF-8 string. */
  string(v: string): void {
    const len = v.length;
    // ASCII fast path without a separate length pass when the length fits one varint byte.
    if (len < 0x80) {
      this.ensure(1 + len * 3);
      const start = this.pos + 1;
      const end = writeUtf8(this.buf, start, v);
      const n = end - start;
      if (n < 0x80) {
        this.buf[this.pos] = n;
        this.pos = end;
        return;
      }
      // Multi-byte characters pushed the length past one byte: redo with the exact length.
    }
    const n = utf8Length(v);
    this.uint32(n);
    this.ensure(n);
    this.pos = writeUtf8(this.buf, this.pos, v);
  }

  /** Copies bytes verbatim (no length prefix). */
  raw(v: Uint8Array): void {
    this.ensure(v.length);
    this.buf.set(v, this.pos);
    this.pos += v.length;
  }

  /** Starts a length-delimited body; returns the position to give to `ldelim`. */
  fork(): number {
    this.ensure(1);
    return this.pos++;
  }

  /** Ends the body started by `fork`, writing its length in front of it. */
  ldelim(start: number): void {
    const len = this.pos - start - 1;
    if (len < 0x80) {
      this.buf[start] = len;
      return;
    }
    let extra = 0;
    for (let v = len >>> 7; v > 0; v >>>= 7) extra++;
    this.ensure(extra);
    const buf = this.buf;
    buf.copyWithin(start + 1 + extra, start + 1, this.pos);
    let v = len;
    let p = start;
    while (v > 0x7f) {
      buf[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[p] = v;
    this.pos += extra;
  }
}

/** Number of bytes of the varint encoding of a non-negative safe integer. */
export function varintSize(v: number): number {
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < 0x10000000) return 4;
  let n = 4;
  v = Math.floor(v / 0x10000000);
  while (v > 0) {
    n++;
    v = Math.floor(v / 128);
  }
  return n;
}

/** Writes the varint of a non-negative safe integer into buf at pos; returns the new position. */
export function putVarint(buf: Uint8Array, pos: number, v: number): number {
  while (v > 0x7f) {
    buf[pos++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  buf[pos++] = v;
  return pos;
}
