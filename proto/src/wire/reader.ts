// Protobuf binary reader over a Uint8Array. Every read is bounds-checked against the end of the
// buffer; generated decoders additionally check that a field never runs past the end of its
// enclosing message. Malformed input throws DecodeError (caught by the public entry points).
import { DecodeError, MAX_MESSAGE_DEPTH, MAX_SAFE } from './errors.ts';
import { readUtf8 } from './utf8.ts';

const TWO32 = 4294967296;
const f64 = new Float64Array(1);
const f64b = new Uint8Array(f64.buffer);
const f32 = new Float32Array(1);
const f32b = new Uint8Array(f32.buffer);

export const WireType = {
  varint: 0,
  fixed64: 1,
  delimited: 2,
  startGroup: 3,
  endGroup: 4,
  fixed32: 5,
} as const;

export class Reader {
  /** The input; replaced by a private copy the first time a bytes field is read. */
  buf: Uint8Array;
  private owned = false;
  pos: number;
  /** End of the whole input (not of the current nested message). */
  readonly len: number;
  /** Low and high 32 bits of the last `varint64Parts()` read. */
  lo = 0;
  hi = 0;

  constructor(buf: Uint8Array, start = 0, end = buf.length) {
    // A Node Buffer's slice() is a view, not a copy: read through a plain Uint8Array so that
    // decoded bytes never alias the input.
    this.buf = buf.constructor === Uint8Array ? buf : new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    this.pos = start;
    this.len = end;
  }

  /** A varint truncated to its low 32 bits, unsigned (tags, lengths, uint32). */
  uint32(): number {
    const buf = this.buf;
    let pos = this.pos;
    if (pos + 10 <= this.len) {
      let b = buf[pos++]!;
      let v = b & 0x7f;
      if (b < 0x80) {
        this.pos = pos;
        return v;
      }
      b = buf[pos++]!;
      v |= (b & 0x7f) << 7;
      if (b < 0x80) {
        this.pos = pos;
        return v;
      }
      b = buf[pos++]!;
      v |= (b & 0x7f) << 14;
      if (b < 0x80) {
        this.pos = pos;
        return v;
      }
      b = buf[pos++]!;
      v |= (b & 0x7f) << 21;
      if (b < 0x80) {
        this.pos = pos;
        return v;
      }
      b = buf[pos++]!;
      v = (v | ((b & 0x0f) << 28)) >>> 0;
      if (b < 0x80) {
        this.pos = pos;
        return v;
      }
      // Bytes 6–10 only carry bits above 32: skip them, but a varint is at most ten bytes.
      for (let i = 0; i < 5; i++) {
        if (buf[pos++]! < 0x80) {
          this.pos = pos;
          return v;
        }
      }
      throw new DecodeError('varint longer than 10 bytes');
    }
    this.varint64Parts();
    return this.lo;
  }

  /** Reads a varint of up to 64 bits into `lo`/`hi` (both unsigned 32-bit). */
  varint64Parts(): void {
    const buf = this.buf;
    const len = this.len;
    let pos = this.pos;
    let lo = 0;
    let shift = 0;
    let b: number;
    // Low 28 bits.
    for (; shift < 28; shift += 7) {
      if (pos >= len) throw new DecodeError('truncated varint');
      b = buf[pos++]!;
      lo |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.lo = lo >>> 0;
        this.hi = 0;
        this.pos = pos;
        return;
      }
    }
    // Fifth byte: 4 bits to lo, 3 bits to hi.
    if (pos >= len) throw new DecodeError('truncated varint');
    b = buf[pos++]!;
    lo |= (b & 0x0f) << 28;
    let hi = (b & 0x7f) >> 4;
    if (b >= 0x80) {
      for (shift = 3; ; shift += 7) {
        if (shift > 31) throw new DecodeError('varint longer than 10 bytes');
        if (pos >= len) throw new DecodeError('truncated varint');
        b = buf[pos++]!;
        if (shift < 32) hi |= (b & 0x7f) << shift;
        if (b < 0x80) break;
      }
    }
    this.lo = lo >>> 0;
    this.hi = hi >>> 0;
    this.pos = pos;
  }

  int32(): number {
    return this.uint32() | 0;
  }

  sint32(): number {
    const v = this.uint32();
    return (v >>> 1) ^ -(v & 1);
  }

  uint64(): number {
    this.varint64Parts();
    if (this.hi > 0x1fffff) throw new DecodeError('uint64 value exceeds 2^53-1');
    return this.hi * TWO32 + this.lo;
  }

  int64(): number {
    this.varint64Parts();
    return partsToInt64(this.lo, this.hi);
  }

  sint64(): number {
    this.varint64Parts();
    const lo = this.lo;
    const hi = this.hi;
    // Unzigzag: magnitude = (v >>> 1), negative when the low bit is set (value = −magnitude − 1).
    const mlo = ((lo >>> 1) | (hi << 31)) >>> 0;
    const mhi = hi >>> 1;
    if (mhi > 0x1fffff) throw new DecodeError('sint64 value exceeds 2^53-1');
    const m = mhi * TWO32 + mlo;
    if ((lo & 1) === 0) return m;
    if (m >= MAX_SAFE) throw new DecodeError('sint64 value exceeds 2^53-1');
    return -m - 1;
  }

  bool(): boolean {
    return this.uint32() !== 0;
  }

  fixed32(): number {
    const pos = this.pos;
    if (pos + 4 > this.len) throw new DecodeError('truncated fixed32');
    const buf = this.buf;
    this.pos = pos + 4;
    return (buf[pos]! | (buf[pos + 1]! << 8) | (buf[pos + 2]! << 16) | (buf[pos + 3]! << 24)) >>> 0;
  }

  sfixed32(): number {
    return this.fixed32() | 0;
  }

  fixed64(): number {
    const lo = this.fixed32();
    const hi = this.fixed32();
    if (hi > 0x1fffff) throw new DecodeError('fixed64 value exceeds 2^53-1');
    return hi * TWO32 + lo;
  }

  sfixed64(): number {
    const lo = this.fixed32();
    const hi = this.fixed32();
    return partsToInt64(lo, hi);
  }

  double(): number {
    const pos = this.pos;
    if (pos + 8 > this.len) throw new DecodeError('truncated double');
    f64b.set(this.buf.subarray(pos, pos + 8));
    this.pos = pos + 8;
    return f64[0]!;
  }

  float(): number {
    const pos = this.pos;
    if (pos + 4 > this.len) throw new DecodeError('truncated float');
    f32b.set(this.buf.subarray(pos, pos + 4));
    this.pos = pos + 4;
    return f32[0]!;
  }

  /** Reads a length prefix and returns the end position of the body (checked against `limit`). */
  delimitedEnd(limit: number): number {
    let n: number;
    const pos = this.pos;
    if (pos < this.len && this.buf[pos]! < 0x80) {
      n = this.buf[pos]!;
      this.pos = pos + 1;
    } else {
      // Unlike uint32(), a length never silently drops high bits.
      this.varint64Parts();
      if (this.hi !== 0) throw new DecodeError('length prefix beyond 2^32');
      n = this.lo;
    }
    const end = this.pos + n;
    if (end > limit) throw new DecodeError('length-delimited field runs past the end of its message');
    return end;
  }

  /**
   * Length-prefixed bytes. The result never aliases the caller's input: the first bytes field
   * makes the reader copy its input once (one allocation per frame, not per field), and every
   * bytes value is a view into that private copy.
   */
  bytes(): Uint8Array {
    const end = this.delimitedEnd(this.len);
    if (!this.owned) this.own();
    const v = this.buf.subarray(this.pos, end);
    this.pos = end;
    return v;
  }

  private own(): void {
    this.buf = this.buf.slice(0, this.len);
    this.owned = true;
  }

  string(): string {
    const end = this.delimitedEnd(this.len);
    const v = readUtf8(this.buf, this.pos, end);
    this.pos = end;
    return v;
  }

  /** Skips one field value of the given wire type (groups are not supported: proto3 has none). */
  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.varint64Parts();
        return;
      case 1:
        if (this.pos + 8 > this.len) throw new DecodeError('truncated fixed64');
        this.pos += 8;
        return;
      case 2:
        this.pos = this.delimitedEnd(this.len);
        return;
      case 5:
        if (this.pos + 4 > this.len) throw new DecodeError('truncated fixed32');
        this.pos += 4;
        return;
      default:
        throw new DecodeError(`unsupported wire type ${wireType}`);
    }
  }

  /** Skips an unknown field given its full tag; field number 0 is invalid. */
  skipTag(tag: number): void {
    if (tag >>> 3 === 0) throw new DecodeError('invalid field number 0');
    this.skip(tag & 7);
  }
}

function partsToInt64(lo: number, hi: number): number {
  if ((hi & 0x80000000) === 0) {
    if (hi > 0x1fffff) throw new DecodeError('int64 value exceeds 2^53-1');
    return hi * TWO32 + lo;
  }
  // Two's complement negative: magnitude = ~v + 1.
  const nlo = (~lo + 1) >>> 0;
  const nhi = (~hi + (nlo === 0 ? 1 : 0)) >>> 0;
  if (nhi > 0x1fffff) throw new DecodeError('int64 value below -(2^53-1)');
  return -(nhi * TWO32 + nlo);
}

/** Guards recursion in generated decoders. */
export function checkDepth(depth: number): void {
  if (depth > MAX_MESSAGE_DEPTH) throw new DecodeError(`messages nested deeper than ${MAX_MESSAGE_DEPTH}`);
}
