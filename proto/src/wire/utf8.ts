// UTF-8 helpers shared by the protobuf and JSON codecs. Short ASCII strings are the common case
// on this protocol (channel names, ids, keys), so they take a loop that allocates nothing but the
// string; everything else goes through the native TextDecoder/TextEncoder.
import { DecodeError } from './errors.ts';

const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
export const textEncoder = new TextEncoder();

const SHORT = 32;

/** Decodes buf[start, end) as UTF-8; invalid sequences are a DecodeError. */
export function readUtf8(buf: Uint8Array, start: number, end: number): string {
  const len = end - start;
  if (len === 0) return '';
  if (len <= SHORT) {
    let s = '';
    for (let i = start; i < end; i++) {
      const b = buf[i]!;
      if (b >= 0x80) return decodeSlow(buf, start, end);
      s += String.fromCharCode(b);
    }
    return s;
  }
  return decodeSlow(buf, start, end);
}

function decodeSlow(buf: Uint8Array, start: number, end: number): string {
  try {
    return strictDecoder.decode(buf.subarray(start, end));
  } catch (err) {
    throw new DecodeError(`invalid UTF-8 in string: ${(err as Error).message}`);
  }
}

/** Exact UTF-8 length of a JS string (lone surrogates count as U+FFFD, like TextEncoder). */
export function utf8Length(s: string): number {
  let n = 0;
  const len = s.length;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < len) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

/**
 * Writes `s` as UTF-8 into buf at pos (capacity must be ≥ utf8Length(s)); returns the new position.
 * Lone surrogates become U+FFFD, as with TextEncoder.
 */
export function writeUtf8(buf: Uint8Array, pos: number, s: string): number {
  const len = s.length;
  for (let i = 0; i < len; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      buf[pos++] = c;
    } else if (c < 0x800) {
      buf[pos++] = 0xc0 | (c >> 6);
      buf[pos++] = 0x80 | (c & 0x3f);
    } else {
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
  }
  return pos;
}
