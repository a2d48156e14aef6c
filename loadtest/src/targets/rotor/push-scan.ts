// Allocation-free decoding of Centrifugo client-protocol frames for the load generator's hot path.
// Every message of every frame is decoded in full — each byte checked against the format's grammar
// and the Reply structure — as a real client's decoder would (JSON.parse, a protobuf decoder), only
// without building objects: the publication's data is reported as a span of the frame. Replies
// other than publication pushes (command replies, errors, other pushes) are handed back so the
// driver can decode them with @rotor/proto.
//
// JSON frames: messages are joined by "\n"; a publication push is `{"push":{…"pub":{"data":<raw
// JSON>,…}}}` with its keys in any order. Each line is parsed with a complete RFC 8259 validator
// (strings with their escapes and control characters, numbers, literals, nesting up to 64 deep);
// keys are matched byte for byte (the server writes them unescaped). A line that is not valid JSON
// goes to onOther, where @rotor/proto's decoder reports it.
//
// Protobuf frames: varint-length-delimited Reply messages; the payload is Reply.push(4) →
// Push.pub(4) → Publication.data(4). Every field of the Reply, Push, Publication, its ClientInfo
// and tag entries is walked (tag, wire type, lengths within bounds), not just the path to data.

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
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const MAX_DEPTH = 64;
// Buffer's search for one byte (memchr), for the line ends.
const byteIndexOf = Buffer.prototype.indexOf as (this: Uint8Array, value: number, byteOffset: number) => number;

const KEY_PUSH = Buffer.from('push', 'latin1');
const KEY_PUB = Buffer.from('pub', 'latin1');
const KEY_DATA = Buffer.from('data', 'latin1');

// JSON parser state (module-level to stay allocation-free; single-threaded use per isolate).
let jpos = 0;
let jend = 0;
let keyStart = 0;
let keyEnd = 0;
let sawPub = false;
let dataStart = -1;
let dataEnd = -1;

function skipWs(buf: Uint8Array): void {
  while (jpos < jend) {
    const c = buf[jpos]!;
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return;
    jpos++;
  }
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

/** A string at jpos (on its opening quote); its contents are buf[keyStart, keyEnd). */
function parseString(buf: Uint8Array): boolean {
  const end = jend;
  let i = jpos + 1;
  keyStart = i;
  while (i < end) {
    const c = buf[i]!;
    // Most bytes are letters, digits and punctuation: two compares.
    if (c > QUOTE && c !== BACKSLASH) {
      i++;
      continue;
    }
    if (c === QUOTE) {
      keyEnd = i;
      jpos = i + 1;
      return true;
    }
    if (c < 0x20) return false;
    if (c === BACKSLASH) {
      const e = buf[i + 1];
      if (e === 0x75) {
        // \uXXXX
        if (i + 5 >= end || !isHex(buf[i + 2]!) || !isHex(buf[i + 3]!) || !isHex(buf[i + 4]!) || !isHex(buf[i + 5]!)) return false;
        i += 6;
        continue;
      }
      if (e !== QUOTE && e !== BACKSLASH && e !== 0x2f && e !== 0x62 && e !== 0x66 && e !== 0x6e && e !== 0x72 && e !== 0x74) return false;
      i += 2;
      continue;
    }
    i++;
  }
  return false;
}

function digits(buf: Uint8Array): boolean {
  const from = jpos;
  while (jpos < jend && buf[jpos]! >= 0x30 && buf[jpos]! <= 0x39) jpos++;
  return jpos > from;
}

/** -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
function parseNumber(buf: Uint8Array): boolean {
  if (buf[jpos] === 0x2d) jpos++;
  if (buf[jpos] === 0x30) jpos++;
  else if (!digits(buf)) return false;
  if (jpos < jend && buf[jpos] === 0x2e) {
    jpos++;
    if (!digits(buf)) return false;
  }
  if (jpos < jend && (buf[jpos] === 0x65 || buf[jpos] === 0x45)) {
    jpos++;
    if (buf[jpos] === 0x2b || buf[jpos] === 0x2d) jpos++;
    if (!digits(buf)) return false;
  }
  return true;
}

function parseLiteral(buf: Uint8Array, word: string): boolean {
  if (jpos + word.length > jend) return false;
  for (let i = 0; i < word.length; i++) if (buf[jpos + i] !== word.charCodeAt(i)) return false;
  jpos += word.length;
  return true;
}

/** Where a key's value is parsed: a generic value, the Reply's push, the Push's pub, or pub's data. */
const enum Slot {
  Any,
  Push,
  Pub,
  Data,
}

function keyIs(buf: Uint8Array, key: Uint8Array): boolean {
  if (keyEnd - keyStart !== key.length) return false;
  for (let i = 0; i < key.length; i++) if (buf[keyStart + i] !== key[i]) return false;
  return true;
}

/** The slot of the value of the key just parsed, inside an object in `parent`. */
function childSlot(buf: Uint8Array, parent: Slot, depth: number): Slot {
  if (depth === 1 && parent === Slot.Any) return keyIs(buf, KEY_PUSH) ? Slot.Push : Slot.Any;
  if (parent === Slot.Push) return keyIs(buf, KEY_PUB) ? Slot.Pub : Slot.Any;
  if (parent === Slot.Pub) return keyIs(buf, KEY_DATA) ? Slot.Data : Slot.Any;
  return Slot.Any;
}

function parseObject(buf: Uint8Array, slot: Slot, depth: number): boolean {
  jpos++; // {
  skipWs(buf);
  if (jpos < jend && buf[jpos] === 0x7d) {
    jpos++;
    return true;
  }
  for (;;) {
    if (jpos >= jend || buf[jpos] !== QUOTE || !parseString(buf)) return false;
    const child = childSlot(buf, slot, depth);
    skipWs(buf);
    if (jpos >= jend || buf[jpos] !== 0x3a) return false;
    jpos++;
    skipWs(buf);
    const vs = jpos;
    if (!parseValue(buf, child, depth)) return false;
    if (child === Slot.Data) {
      dataStart = vs;
      dataEnd = jpos;
    }
    skipWs(buf);
    if (jpos >= jend) return false;
    const c = buf[jpos++];
    if (c === 0x7d) return true;
    if (c !== 0x2c) return false;
    skipWs(buf);
  }
}

function parseArray(buf: Uint8Array, depth: number): boolean {
  jpos++; // [
  skipWs(buf);
  if (jpos < jend && buf[jpos] === 0x5d) {
    jpos++;
    return true;
  }
  for (;;) {
    if (!parseValue(buf, Slot.Any, depth)) return false;
    skipWs(buf);
    if (jpos >= jend) return false;
    const c = buf[jpos++];
    if (c === 0x5d) return true;
    if (c !== 0x2c) return false;
    skipWs(buf);
  }
}

function parseValue(buf: Uint8Array, slot: Slot, depth: number): boolean {
  if (jpos >= jend) return false;
  const c = buf[jpos]!;
  if (c === 0x7b) {
    if (depth >= MAX_DEPTH) return false;
    if (slot === Slot.Pub) sawPub = true;
    // Only objects carry the structure: a push or pub that is not an object is an Any value.
    return parseObject(buf, slot === Slot.Push || slot === Slot.Pub ? slot : Slot.Any, depth + 1);
  }
  if (c === QUOTE) return parseString(buf);
  if (c === 0x5b) return depth < MAX_DEPTH && parseArray(buf, depth + 1);
  if (c === 0x74) return parseLiteral(buf, 'true');
  if (c === 0x66) return parseLiteral(buf, 'false');
  if (c === 0x6e) return parseLiteral(buf, 'null');
  return parseNumber(buf);
}

/** Parses one line in full. Returns false when it is not valid JSON; sets sawPub, dataStart/End. */
function parseLine(buf: Uint8Array, ls: number, le: number): boolean {
  jpos = ls;
  jend = le;
  sawPub = false;
  dataStart = -1;
  dataEnd = -1;
  skipWs(buf);
  if (!parseValue(buf, Slot.Any, 0)) return false;
  skipWs(buf);
  return jpos === le;
}

export function scanJsonFrame(buf: Uint8Array, start: number, end: number, h: ScanHandlers): void {
  let ls = start;
  while (ls < end) {
    let le = byteIndexOf.call(buf, NL, ls);
    if (le < 0 || le > end) le = end;
    if (le - ls === 2 && buf[ls] === 0x7b && buf[ls + 1] === 0x7d) {
      h.onPing();
    } else if (le > ls) {
      // A top-level object whose push holds a pub object is a publication; a line that is not
      // valid JSON, or any other reply, is decoded by the caller.
      if (!parseLine(buf, ls, le) || !sawPub) h.onOther(buf, ls, le);
      else if (dataStart < 0 || buf[dataStart] !== QUOTE) h.onData(buf, ls, ls); // not one of our payloads
      else h.onData(buf, dataStart, dataEnd);
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

/** Which message a walk is in: what its length-delimited fields hold. */
const enum Msg {
  /** Only checks framing: every field's tag, wire type and bounds. */
  Opaque,
  Reply,
  Push,
  Publication,
  ClientInfo,
  MapEntry,
}

/** Reply.push, Push.pub, Publication.data: the publication's data span, or -1 (module-level). */
let pushAt = -1;
let pushEnd = -1;
let pubAt = -1;
let pubEnd = -1;
let pdataAt = -1;
let pdataEnd = -1;

/** The message a length-delimited field of `msg` holds (Opaque: strings, bytes, messages not
 *  walked here), or -1 when a known field has the wrong wire type. */
function fieldKind(msg: Msg, num: number, wt: number): Msg | -1 {
  switch (msg) {
    case Msg.Reply:
      if (num === 4) return wt === 2 ? Msg.Push : -1;
      return Msg.Opaque;
    case Msg.Push:
      if (num === 4) return wt === 2 ? Msg.Publication : -1;
      if (num === 1) return wt === 0 ? Msg.Opaque : -1;
      if (num === 2) return wt === 2 ? Msg.Opaque : -1;
      return Msg.Opaque;
    case Msg.Publication:
      if (num === 5) return wt === 2 ? Msg.ClientInfo : -1;
      if (num === 7) return wt === 2 ? Msg.MapEntry : -1;
      if (num === 4 || num === 10 || num === 11 || num === 14 || num === 15) return wt === 2 ? Msg.Opaque : -1;
      if (num === 6 || num === 8 || num === 9 || num === 12 || num === 13) return wt === 0 ? Msg.Opaque : -1;
      return Msg.Opaque;
    case Msg.ClientInfo:
    case Msg.MapEntry:
      return num >= 1 && num <= (msg === Msg.ClientInfo ? 4 : 2) && wt !== 2 ? -1 : Msg.Opaque;
    default:
      return Msg.Opaque;
  }
}

/** Walks every field of message buf[start, end); false on broken framing or a wrong wire type. */
function walk(buf: Uint8Array, start: number, end: number, msg: Msg): boolean {
  vpos = start;
  while (vpos < end) {
    const tag = readVarint(buf, end);
    if (tag < 8) return false; // field number 0 or truncated
    const wt = tag & 7;
    const num = Math.floor(tag / 8);
    const kind = fieldKind(msg, num, wt);
    if (kind === -1) return false;
    if (wt === 2) {
      const len = readVarint(buf, end);
      if (len < 0 || vpos + len > end) return false;
      const fs = vpos;
      const fe = vpos + len;
      if (msg === Msg.Reply && num === 4) {
        pushAt = fs;
        pushEnd = fe;
      } else if (msg === Msg.Push && num === 4) {
        pubAt = fs;
        pubEnd = fe;
      } else if (msg === Msg.Publication && num === 4) {
        pdataAt = fs;
        pdataEnd = fe;
      }
      if (kind !== Msg.Opaque && !walk(buf, fs, fe, kind)) return false;
      vpos = fe;
    } else if (wt === 0) {
      if (readVarint(buf, end) < 0) return false;
    } else if (wt === 1) vpos += 8;
    else if (wt === 5) vpos += 4;
    else return false;
    if (vpos > end) return false;
  }
  return true;
}

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
    pushAt = pubAt = pdataAt = -1;
    // A Reply that does not walk cleanly, or is not a publication push, is decoded by the caller.
    if (!walk(buf, ms, me, Msg.Reply) || pushAt < 0 || pubAt < 0 || pubAt < pushAt || pubEnd > pushEnd) {
      h.onOther(buf, at, me);
      continue;
    }
    if (pdataAt >= pubAt && pdataEnd <= pubEnd) h.onData(buf, pdataAt, pdataEnd);
    else h.onData(buf, pubAt, pubAt); // a publication without data
  }
}
