// Allocation-free scanning of Centrifugo client-protocol frames for publication payloads, for the
// load generator's hot path. Replies other than publication pushes (command replies, errors, pings,
// other pushes) are handed back so the driver can decode them with @rotor/proto.
//
// JSON frames: messages are joined by "\n"; a publication push is `{"push":{…"pub":{"data":<raw
// JSON>,…}}}` where data is embedded raw. The harness's payload is a JSON string literal without
// escapes, so it spans from the quote after `"data":` to the next quote. Publication fields are
// written in field-number order, so `data` (4) precedes `info` (5), whose raw conn_info could
// otherwise contain the same key.
//
// Protobuf frames: varint-length-delimited Reply messages; the payload is Reply.push(4) →
// Push.pub(4) → Publication.data(4).

export interface ScanHandlers {
  /** A publication's data bytes, buf[start, end). */
  onData(buf: Uint8Array, start: number, end: number): void;
  /** A server ping (empty reply): the client answers with a pong. */
  onPing(): void;
  /** Any other message as a frame of its own: one JSON line, or one protobuf Reply with its
   *  length prefix (so either decodes with @rotor/proto's decodeReplies). */
  onOther(buf: Uint8Array, start: number, end: number): void;
  /** The frame is not valid framing (truncated varint or length). */
  onBroken(reason: string): void;
}

const NL = 0x0a;
const PUSH_PREFIX = Buffer.from('{"push":', 'latin1');
const PUB_KEY = Buffer.from('"pub":', 'latin1');
const DATA_KEY = Buffer.from('"data":', 'latin1');
/** What follows `{"push":{"channel":"<name>",` in every publication push @rotor/proto writes. */
const PUB_DATA = Buffer.from('"pub":{"data":', 'latin1');
const CHANNEL_PREFIX = Buffer.from('{"push":{"channel":"', 'latin1');
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
// Buffer's search for one byte (memchr): ≈ 10 ns per 250-byte line here, against ≈ 80 ns for
// Uint8Array.prototype.indexOf and ≈ 145 ns for a JS loop. The generator's decode cost is what
// bounds a JSON run on 2 cores, so the per-line work is kept to two of these and a few compares.
const byteIndexOf = Buffer.prototype.indexOf as (this: Uint8Array, value: number, byteOffset: number) => number;

function startsWithAt(buf: Uint8Array, at: number, end: number, prefix: Uint8Array): boolean {
  if (end - at < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (buf[at + i] !== prefix[i]) return false;
  return true;
}

function indexOfIn(buf: Uint8Array, needle: Uint8Array, from: number, end: number): number {
  const i = Buffer.prototype.indexOf.call(buf, needle, from) as number;
  return i >= 0 && i + needle.length <= end ? i : -1;
}

/**
 * Fast path: where the data of a publication push starts, for the exact layout @rotor/proto writes
 * (`{"push":{"channel":"…","pub":{"data":`); -1 when the line is laid out otherwise (the caller
 * then searches the general way).
 */
function pubDataStart(buf: Uint8Array, ls: number, le: number): number {
  if (!startsWithAt(buf, ls, le, CHANNEL_PREFIX)) return -1;
  // The channel name: up to its closing quote (an escaped quote sends the line to the slow path).
  let i = ls + CHANNEL_PREFIX.length;
  for (; i < le; i++) {
    const c = buf[i];
    if (c === QUOTE) break;
    if (c === BACKSLASH) return -1;
  }
  if (buf[i + 1] !== 0x2c) return -1; // ','
  return startsWithAt(buf, i + 2, le, PUB_DATA) ? i + 2 + PUB_DATA.length : -1;
}

/** pubData… result: a publication push whose data is missing. */
const NO_DATA = -2;

export function scanJsonFrame(buf: Uint8Array, start: number, end: number, h: ScanHandlers): void {
  let ls = start;
  while (ls < end) {
    let le = byteIndexOf.call(buf, NL, ls);
    if (le < 0 || le > end) le = end;
    if (le - ls === 2 && buf[ls] === 0x7b && buf[ls + 1] === 0x7d) {
      h.onPing();
      ls = le + 1;
      continue;
    }
    let ds = pubDataStart(buf, ls, le);
    if (ds < 0 && startsWithAt(buf, ls, le, PUSH_PREFIX) && indexOfIn(buf, PUB_KEY, ls, le) >= 0) {
      const d = indexOfIn(buf, DATA_KEY, ls, le);
      ds = d < 0 ? NO_DATA : d + DATA_KEY.length;
    }
    if (ds === -1) {
      if (le > ls) h.onOther(buf, ls, le);
    } else if (ds === NO_DATA || buf[ds] !== QUOTE) {
      h.onData(buf, ls, ls); // data that is not one of our payloads
    } else {
      const q = byteIndexOf.call(buf, QUOTE, ds + 1);
      if (q > 0 && q < le) h.onData(buf, ds, q + 1);
      else h.onData(buf, ds, ds); // unterminated: the sink counts it as malformed
    }
    ls = le + 1;
  }
}

// Varint reader state (module-level to stay allocation-free; single-threaded use per isolate).
let vpos = 0;

/** Reads a varint at vpos (up to 2^53); returns -1 when truncated or too long. */
function readVarint(buf: Uint8Array, end: number): number {
  let result = 0;
  let mul = 1;
  for (let i = 0; i < 8; i++) {
    if (vpos >= end) return -1;
    const b = buf[vpos++]!;
    result += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) return result;
    mul *= 128;
  }
  return -1;
}

/** Finds length-delimited field `field` inside message buf[start, end); sets found[0..1]. */
function findBytesField(buf: Uint8Array, start: number, end: number, field: number, found: Int32Array): boolean {
  vpos = start;
  while (vpos < end) {
    const tag = readVarint(buf, end);
    if (tag < 0) return false;
    const wt = tag & 7;
    const num = Math.floor(tag / 8);
    if (wt === 2) {
      const len = readVarint(buf, end);
      if (len < 0 || vpos + len > end) return false;
      if (num === field) {
        found[0] = vpos;
        found[1] = vpos + len;
        return true;
      }
      vpos += len;
    } else if (wt === 0) {
      if (readVarint(buf, end) < 0) return false;
    } else if (wt === 1) vpos += 8;
    else if (wt === 5) vpos += 4;
    else return false;
  }
  return false;
}

const span = new Int32Array(2);

export function scanProtobufFrame(buf: Uint8Array, start: number, end: number, h: ScanHandlers): void {
  let pos = start;
  while (pos < end) {
    const at = pos;
    vpos = pos;
    const len = readVarint(buf, end);
    if (len < 0 || vpos + len > end) {
      h.onBroken('truncated protobuf frame');
      return;
    }
    const ms = vpos;
    const me = vpos + len;
    pos = me;
    if (len === 0) {
      h.onPing();
      continue;
    }
    // Reply.push (4) → Push.pub (4) → Publication.data (4).
    if (findBytesField(buf, ms, me, 4, span)) {
      const ps = span[0]!;
      const pe = span[1]!;
      if (findBytesField(buf, ps, pe, 4, span)) {
        const qs = span[0]!;
        const qe = span[1]!;
        if (findBytesField(buf, qs, qe, 4, span)) h.onData(buf, span[0]!, span[1]!);
        else h.onData(buf, qs, qs);
        continue;
      }
    }
    h.onOther(buf, at, me);
  }
}
