// The benchmark payload: a JSON string literal of exactly `size` ASCII bytes, so every protocol can
// carry it verbatim (Centrifugo JSON `data`, protobuf `data` bytes, a Socket.IO string argument, a
// uWS text frame, a NATS payload). Layout, all fixed-width lowercase hex:
//
//   0      '"'
//   1..6   channel index    (6 hex digits)
//   7..10  publisher index  (4 hex digits)
//   11..18 sequence number  (8 hex digits, per (channel, publisher), from 1)
//   19..30 publish time     (12 hex digits, µs since the run's clock origin)
//   31..   padding 'x'
//   size-1 '"'

export const PAYLOAD_HEADER = 31;
export const MIN_PAYLOAD_SIZE = PAYLOAD_HEADER + 1;
export const MAX_PAYLOAD_SIZE = 1 << 20;
export const MAX_CHANNELS = 1 << 24;
export const MAX_PUBLISHERS = 1 << 16;

const HEX = Buffer.from('0123456789abcdef', 'latin1');
const QUOTE = 0x22;
const PAD = 0x78; // 'x'

function writeHex(buf: Buffer, at: number, width: number, value: number): void {
  let v = value;
  for (let i = at + width - 1; i >= at; i--) {
    buf[i] = HEX[v % 16]!;
    v = Math.floor(v / 16);
  }
}

/** Returns NaN when a byte is not a lowercase hex digit. */
function readHex(buf: Uint8Array, at: number, width: number): number {
  let v = 0;
  for (let i = at; i < at + width; i++) {
    const c = buf[i]!;
    let d: number;
    if (c >= 0x30 && c <= 0x39) d = c - 0x30;
    else if (c >= 0x61 && c <= 0x66) d = c - 0x57;
    else return Number.NaN;
    v = v * 16 + d;
  }
  return v;
}

/** A payload template (quotes and padding) of `size` bytes; stamp() fills the header. */
export function payloadTemplate(size: number): Buffer {
  if (!Number.isInteger(size) || size < MIN_PAYLOAD_SIZE || size > MAX_PAYLOAD_SIZE) {
    throw new RangeError(`payload size must be an integer in ${MIN_PAYLOAD_SIZE}..${MAX_PAYLOAD_SIZE}, got ${size}`);
  }
  const b = Buffer.alloc(size, PAD);
  b[0] = QUOTE;
  b[size - 1] = QUOTE;
  return b;
}

/** Writes the header into `buf` (a copy of a template) at offset `at`. */
export function stampPayload(buf: Buffer, at: number, channel: number, publisher: number, seq: number, timeUs: number): void {
  writeHex(buf, at + 1, 6, channel);
  writeHex(buf, at + 7, 4, publisher);
  writeHex(buf, at + 11, 8, seq);
  writeHex(buf, at + 19, 12, Math.max(0, Math.floor(timeUs)));
}

/** Decoded header fields; reused by the caller to stay allocation-free. */
export interface PayloadHeader {
  channel: number;
  publisher: number;
  seq: number;
  timeUs: number;
}

/** Parses the header of the payload in buf[start, end). False when it is not one of ours (wrong
 *  length, missing quotes, non-hex header). */
export function parsePayload(buf: Uint8Array, start: number, end: number, expectedSize: number, out: PayloadHeader): boolean {
  if (end - start !== expectedSize || buf[start] !== QUOTE || buf[end - 1] !== QUOTE) return false;
  const channel = readHex(buf, start + 1, 6);
  const publisher = readHex(buf, start + 7, 4);
  const seq = readHex(buf, start + 11, 8);
  const timeUs = readHex(buf, start + 19, 12);
  if (Number.isNaN(channel) || Number.isNaN(publisher) || Number.isNaN(seq) || Number.isNaN(timeUs)) return false;
  out.channel = channel;
  out.publisher = publisher;
  out.seq = seq;
  out.timeUs = timeUs;
  return true;
}
