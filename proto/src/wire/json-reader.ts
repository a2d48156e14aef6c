// JSON reader working on UTF-8 bytes. Generated decoders pull keys and typed values from it; raw
// JSON payloads (`bytes` fields of the Centrifugo protocol) are validated and sliced out exactly as
// sent — never parsed into JS values and re-serialised, which would change big numbers, number
// formatting and key order. Skipping is iterative with an explicit stack, so hostile nesting can
// neither overflow the JS stack nor take more than linear time.
import { DecodeError, MAX_RAW_JSON_DEPTH, MAX_SAFE } from './errors.ts';
import { readUtf8 } from './utf8.ts';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const MINUS = 0x2d;

// Stack of open containers while skipping: 1 = object, 2 = array. Shared: skipping never re-enters.
const skipStack = new Uint8Array(MAX_RAW_JSON_DEPTH);

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

export class JsonReader {
  /** The input; replaced by a private copy the first time a raw value is taken. */
  buf: Uint8Array;
  pos: number;
  /** End of the current message; frames.ts moves it from line to line. */
  end: number;
  private owned = false;
  /** End of the whole input (what a private copy covers). */
  private readonly limit: number;
  // Set by scanString: whether the last scanned string had escapes or non-ASCII bytes.
  private plain = true;

  constructor(buf: Uint8Array, start = 0, end = buf.length) {
    // A Node Buffer's slice() is a view, not a copy: read through a plain Uint8Array so that
    // decoded bytes never alias the input.
    this.buf = buf.constructor === Uint8Array ? buf : new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    this.pos = start;
    this.end = end;
    this.limit = end;
  }

  private fail(what: string): never {
    const at = this.pos < this.end ? `byte 0x${this.buf[this.pos]!.toString(16)}` : 'end of input';
    throw new DecodeError(`invalid JSON: ${what} at offset ${this.pos} (${at})`);
  }

  ws(): void {
    const buf = this.buf;
    const end = this.end;
    let pos = this.pos;
    while (pos < end) {
      const c = buf[pos]!;
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      pos++;
    }
    this.pos = pos;
  }

  /** Next significant byte (after whitespace), or -1 at the end. Does not consume it. */
  peek(): number {
    this.ws();
    return this.pos < this.end ? this.buf[this.pos]! : -1;
  }

  /** True when only whitespace remains. */
  atEnd(): boolean {
    this.ws();
    return this.pos >= this.end;
  }

  private expect(c: number, what: string): void {
    if (this.peek() !== c) this.fail(`expected ${what}`);
    this.pos++;
  }

  objectStart(): void {
    this.expect(LBRACE, "'{'");
  }

  /** Next key of the current object, or null after its closing `}`. */
  nextKey(first: boolean): string | null {
    let c = this.peek();
    if (c === RBRACE) {
      this.pos++;
      return null;
    }
    if (!first) {
      if (c !== COMMA) this.fail("expected ',' or '}'");
      this.pos++;
      c = this.peek();
    }
    if (c !== QUOTE) this.fail('expected object key');
    const key = this.stringAt();
    this.expect(COLON, "':'");
    return key;
  }

  arrayStart(): void {
    this.expect(LBRACKET, "'['");
  }

  /** Whether another item follows in the current array (consumes the separator or the `]`). */
  nextItem(first: boolean): boolean {
    const c = this.peek();
    if (c === RBRACKET) {
      this.pos++;
      return false;
    }
    if (!first) {
      if (c !== COMMA) this.fail("expected ',' or ']'");
      this.pos++;
      this.ws();
    }
    return true;
  }

  /** Consumes a `null` literal if one comes next. */
  tryNull(): boolean {
    if (this.peek() !== 0x6e) return false;
    this.literal('null');
    return true;
  }

  private literal(word: string): void {
    const buf = this.buf;
    if (this.pos + word.length > this.end) this.fail(`expected ${word}`);
    for (let i = 0; i < word.length; i++) {
      if (buf[this.pos + i] !== word.charCodeAt(i)) this.fail(`expected ${word}`);
    }
    this.pos += word.length;
  }

  bool(): boolean {
    const c = this.peek();
    if (c === 0x74) {
      this.literal('true');
      return true;
    }
    if (c === 0x66) {
      this.literal('false');
      return false;
    }
    return this.fail('expected boolean');
  }

  string(): string {
    if (this.peek() !== QUOTE) this.fail('expected string');
    return this.stringAt();
  }

  /** Decodes the string starting at pos (which holds the opening quote). */
  private stringAt(): string {
    const start = this.pos;
    this.scanString();
    if (this.plain) return readUtf8(this.buf, start + 1, this.pos - 1);
    const text = readUtf8(this.buf, start, this.pos);
    if (text.indexOf('\\') < 0) return text.slice(1, -1);
    // The scan validated every escape; JSON.parse turns them into characters natively.
    return JSON.parse(text) as string;
  }

  /** Moves past a string literal (pos at its opening quote), validating escapes. */
  private scanString(): void {
    const buf = this.buf;
    const end = this.end;
    let pos = this.pos + 1;
    let plain = true;
    for (;;) {
      if (pos >= end) {
        this.pos = pos;
        this.fail('unterminated string');
      }
      const c = buf[pos]!;
      if (c === QUOTE) break;
      if (c < 0x20) {
        this.pos = pos;
        this.fail('control character in string');
      }
      if (c === BACKSLASH) {
        plain = false;
        if (pos + 1 >= end) {
          this.pos = pos;
          this.fail('unterminated string');
        }
        const e = buf[pos + 1]!;
        if (e === 0x75) {
          if (pos + 6 > end) {
            this.pos = pos;
            this.fail('bad \\u escape');
          }
          for (let i = 2; i < 6; i++) {
            if (!isHex(buf[pos + i]!)) {
              this.pos = pos;
              this.fail('bad \\u escape');
            }
          }
          pos += 6;
          continue;
        }
        if (
          e === QUOTE || e === BACKSLASH || e === 0x2f || e === 0x62 ||
          e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74
        ) {
          pos += 2;
          continue;
        }
        this.pos = pos;
        this.fail('bad escape');
      }
      if (c >= 0x80) plain = false;
      pos++;
    }
    this.pos = pos + 1;
    this.plain = plain;
  }

  /** Moves past a number literal, validating JSON number syntax; returns whether it is an integer. */
  private scanNumber(): boolean {
    const buf = this.buf;
    const end = this.end;
    let pos = this.pos;
    if (buf[pos] === MINUS) pos++;
    if (pos >= end || !isDigit(buf[pos]!)) {
      this.pos = pos;
      this.fail('bad number');
    }
    if (buf[pos] === 0x30) pos++;
    else while (pos < end && isDigit(buf[pos]!)) pos++;
    let integer = true;
    if (pos < end && buf[pos] === 0x2e) {
      integer = false;
      pos++;
      if (pos >= end || !isDigit(buf[pos]!)) {
        this.pos = pos;
        this.fail('bad number');
      }
      while (pos < end && isDigit(buf[pos]!)) pos++;
    }
    if (pos < end && (buf[pos] === 0x65 || buf[pos] === 0x45)) {
      integer = false;
      pos++;
      if (pos < end && (buf[pos] === 0x2b || buf[pos] === MINUS)) pos++;
      if (pos >= end || !isDigit(buf[pos]!)) {
        this.pos = pos;
        this.fail('bad number');
      }
      while (pos < end && isDigit(buf[pos]!)) pos++;
    }
    this.pos = pos;
    return integer;
  }

  /** An integer literal as a safe JS integer. */
  private integerLiteral(): number {
    const c = this.peek();
    if (c !== MINUS && !isDigit(c)) this.fail('expected number');
    const start = this.pos;
    if (!this.scanNumber()) {
      this.pos = start;
      this.fail('expected integer');
    }
    const buf = this.buf;
    let i = start;
    const negative = buf[i] === MINUS;
    if (negative) i++;
    let v = 0;
    for (; i < this.pos; i++) {
      v = v * 10 + (buf[i]! - 0x30);
      if (v > MAX_SAFE) {
        this.pos = start;
        this.fail('integer beyond 2^53-1');
      }
    }
    return negative ? -v : v;
  }

  /** A 64-bit integer: a number literal or, as proto3 JSON writes it, a quoted decimal string. */
  private integer64(): number {
    if (this.peek() !== QUOTE) return this.integerLiteral();
    const start = this.pos;
    const s = this.stringAt();
    if (!/^-?(0|[1-9][0-9]*)$/.test(s)) {
      this.pos = start;
      this.fail('expected integer string');
    }
    const v = Number(s);
    if (!Number.isSafeInteger(v)) {
      this.pos = start;
      this.fail('integer beyond 2^53-1');
    }
    return v;
  }

  uint32(): number {
    const start = this.pos;
    const v = this.integerLiteral();
    if (v < 0 || v > 0xffffffff) {
      this.pos = start;
      this.fail('uint32 out of range');
    }
    return v;
  }

  int32(): number {
    const start = this.pos;
    const v = this.integerLiteral();
    if (v < -0x80000000 || v > 0x7fffffff) {
      this.pos = start;
      this.fail('int32 out of range');
    }
    return v;
  }

  uint64(): number {
    const start = this.pos;
    const v = this.integer64();
    if (v < 0) {
      this.pos = start;
      this.fail('negative uint64');
    }
    return v;
  }

  int64(): number {
    return this.integer64();
  }

  double(): number {
    const c = this.peek();
    if (c !== MINUS && !isDigit(c)) this.fail('expected number');
    const start = this.pos;
    this.scanNumber();
    return Number(readUtf8(this.buf, start, this.pos));
  }

  /** Bytes written as a base64 JSON string (files without the raw-bytes directive). */
  base64(): Uint8Array {
    const start = this.pos;
    const s = this.string();
    if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(s)) {
      this.pos = start;
      this.fail('bad base64');
    }
    return new Uint8Array(Buffer.from(s, 'base64'));
  }

  /**
   * The next value's exact bytes (validated; surrounding whitespace excluded). Never aliases the
   * caller's input: the first raw value makes the reader copy its input once, and every raw value
   * is a view into that private copy.
   */
  raw(): Uint8Array {
    this.ws();
    const start = this.pos;
    this.skip();
    if (!this.owned) {
      this.buf = this.buf.slice(0, this.limit);
      this.owned = true;
    }
    return this.buf.subarray(start, this.pos);
  }

  /** Validates and moves past one JSON value of any kind. */
  skip(): void {
    let depth = 0;
    for (;;) {
      // Expecting a value.
      const c = this.peek();
      if (c === LBRACE || c === LBRACKET) {
        if (depth >= MAX_RAW_JSON_DEPTH) this.fail(`JSON nested deeper than ${MAX_RAW_JSON_DEPTH}`);
        skipStack[depth++] = c === LBRACE ? 1 : 2;
        this.pos++;
        const d = this.peek();
        if (c === LBRACE) {
          if (d === RBRACE) {
            this.pos++;
            depth--;
          } else {
            if (d !== QUOTE) this.fail('expected object key');
            this.scanString();
            this.expect(COLON, "':'");
            continue;
          }
        } else if (d === RBRACKET) {
          this.pos++;
          depth--;
        } else continue;
      } else if (c === QUOTE) this.scanString();
      else if (c === MINUS || isDigit(c)) this.scanNumber();
      else if (c === 0x74) this.literal('true');
      else if (c === 0x66) this.literal('false');
      else if (c === 0x6e) this.literal('null');
      else this.fail('expected value');
      // After a value: close containers or move to the next member.
      for (;;) {
        if (depth === 0) return;
        const e = this.peek();
        const top = skipStack[depth - 1];
        if (e === COMMA) {
          this.pos++;
          if (top === 1) {
            if (this.peek() !== QUOTE) this.fail('expected object key');
            this.scanString();
            this.expect(COLON, "':'");
          }
          break;
        }
        if ((e === RBRACE && top === 1) || (e === RBRACKET && top === 2)) {
          this.pos++;
          depth--;
          continue;
        }
        this.fail(top === 1 ? "expected ',' or '}'" : "expected ',' or ']'");
      }
    }
  }
}

/** Whether bytes hold exactly one valid JSON value (surrounding whitespace allowed). */
export function isJson(bytes: Uint8Array): boolean {
  const r = new JsonReader(bytes);
  try {
    r.skip();
    return r.atEnd();
  } catch (err) {
    if (err instanceof DecodeError) return false;
    throw err;
  }
}
