// Every NATS subject Rotor uses is built here, and nowhere else.
//
// Layout (prefix defaults to "rotor"):
//   <p>.ch.<token>             channel events (publications, join, leave) — one subject per channel,
//                              subscribed by a node only while it has local subscribers
//   <p>.ctl                    control commands for every node (disconnect, unsubscribe, …)
//   <p>.hb                     node heartbeats
//   <p>.survey.channels        request/reply survey: every node answers with its channels
//   <p>.emu.<node>             /emulation requests for the gateway node <node> (request/reply)
//   <p>.shard.<k>              requests to history shard k (append, read, remove, presence)
//   <p>.hs.<k>.<class>.<token> JetStream storage subjects of shard k (one stream per retention class)
//
// Channel → token. NATS subject tokens may not contain '.', whitespace, or be the wildcards '*'
// and '>', and the JetStream/KV tooling is happiest with [A-Za-z0-9_=-]. A channel name is
// arbitrary UTF-8 (Centrifugo allows dots, ':', '#', '$', '*', unicode…), so it is escaped:
//   - the UTF-8 bytes of [A-Za-z0-9_-] are kept as they are (readable subjects for common names);
//   - every other byte, '=' included, becomes '=' followed by two UPPER-case hex digits;
//   - the empty channel name becomes the lone token '='.
// The mapping is injective because it is invertible (`tokenToChannel`): an '=' always starts an
// escape of exactly two upper-case hex digits, every other character stands for itself, and a lone
// '=' can be produced by nothing but the empty name. Tests check the round trip on adversarial
// and random input.
//
// Length. NATS advises subjects under 256 characters, but the hard limit is the server's
// max_control_line (4 KiB by default) for the whole PUB/MSG line. A channel of the default
// `channel.max_length` (255 bytes) becomes a token of at most 765 characters (all bytes escaped),
// so every subject stays below MAX_SUBJECT_LENGTH; a longer name is refused with a typed error
// instead of producing a line the server would reject.
import { Errors, RotorError } from '@rotor/core';

/** Upper bound for any subject we build (well under nats-server's default 4096-byte control line). */
export const MAX_SUBJECT_LENGTH = 2048;

const HEX = '0123456789ABCDEF';

function isPlainByte(b: number): boolean {
  return (
    (b >= 0x30 && b <= 0x39) || // 0-9
    (b >= 0x41 && b <= 0x5a) || // A-Z
    (b >= 0x61 && b <= 0x7a) || // a-z
    b === 0x5f || // _
    b === 0x2d // -
  );
}

function isPlainAsciiString(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    if (!isPlainByte(s.charCodeAt(i))) return false;
  }
  return true;
}

function escapeByte(b: number): string {
  return '=' + HEX[b >> 4]! + HEX[b & 15]!;
}

/**
 * The subject token of a channel name (see the header for the scheme). The bytes are the name's
 * UTF-8 encoding; a lone surrogate (possible in a JS string decoded from JSON) is encoded as its
 * 3-byte generalised form (WTF-8), which valid UTF-8 never contains, so '\ud800' and '\ufffd'
 * stay different channels.
 */
export function channelToken(channel: string): string {
  if (channel.length === 0) return '=';
  // Fast path: most channel names need no escaping at all.
  if (isPlainAsciiString(channel)) return channel;
  let out = '';
  for (let i = 0; i < channel.length; i++) {
    let cp = channel.charCodeAt(i);
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < channel.length) {
      const next = channel.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (next - 0xdc00);
        i++;
      }
    }
    if (cp < 0x80) {
      out += isPlainByte(cp) ? String.fromCharCode(cp) : escapeByte(cp);
    } else if (cp < 0x800) {
      out += escapeByte(0xc0 | (cp >> 6)) + escapeByte(0x80 | (cp & 63));
    } else if (cp < 0x10000) {
      out += escapeByte(0xe0 | (cp >> 12)) + escapeByte(0x80 | ((cp >> 6) & 63)) + escapeByte(0x80 | (cp & 63));
    } else {
      out +=
        escapeByte(0xf0 | (cp >> 18)) +
        escapeByte(0x80 | ((cp >> 12) & 63)) +
        escapeByte(0x80 | ((cp >> 6) & 63)) +
        escapeByte(0x80 | (cp & 63));
    }
  }
  return out;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

/** Inverse of `channelToken`; null for a string that no channel maps to. */
export function tokenToChannel(token: string): string | null {
  if (token === '=') return '';
  if (token.length === 0) return null;
  const bytes: number[] = [];
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (c === 0x3d) {
      if (i + 2 >= token.length) return null;
      const hi = hexValue(token.charCodeAt(i + 1));
      const lo = hexValue(token.charCodeAt(i + 2));
      if (hi < 0 || lo < 0) return null;
      bytes.push((hi << 4) | lo);
      i += 2;
    } else if (isPlainByte(c)) {
      bytes.push(c);
    } else {
      return null;
    }
  }
  const s = decodeWtf8(bytes);
  // Reject every non-canonical spelling (an escaped plain byte, an overlong sequence, a surrogate
  // pair written as two lone surrogates…): only the token that the channel maps to decodes to it.
  return s !== null && channelToken(s) === token ? s : null;
}

/** Generalised UTF-8 decoding (lone surrogates allowed); null on malformed input. */
function decodeWtf8(bytes: number[]): string | null {
  let out = '';
  for (let i = 0; i < bytes.length; ) {
    const b0 = bytes[i]!;
    let cp: number;
    let n: number;
    if (b0 < 0x80) {
      cp = b0;
      n = 1;
    } else if (b0 >= 0xc2 && b0 < 0xe0) {
      cp = b0 & 0x1f;
      n = 2;
    } else if (b0 >= 0xe0 && b0 < 0xf0) {
      cp = b0 & 0x0f;
      n = 3;
    } else if (b0 >= 0xf0 && b0 < 0xf5) {
      cp = b0 & 0x07;
      n = 4;
    } else {
      return null;
    }
    if (i + n > bytes.length) return null;
    for (let k = 1; k < n; k++) {
      const b = bytes[i + k]!;
      if ((b & 0xc0) !== 0x80) return null;
      cp = (cp << 6) | (b & 63);
    }
    if (cp > 0x10ffff) return null;
    out += String.fromCodePoint(cp);
    i += n;
  }
  return out;
}

/** All subjects of one Rotor deployment. Build once, reuse (it caches nothing per channel). */
export class Subjects {
  readonly prefix: string;
  readonly control: string;
  readonly heartbeat: string;
  readonly channelsSurvey: string;
  private readonly channelPrefix: string;

  constructor(prefix = 'rotor') {
    if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(prefix)) {
      throw new Error(`invalid NATS subject prefix: ${JSON.stringify(prefix)}`);
    }
    this.prefix = prefix;
    this.channelPrefix = `${prefix}.ch.`;
    this.control = `${prefix}.ctl`;
    this.heartbeat = `${prefix}.hb`;
    this.channelsSurvey = `${prefix}.survey.channels`;
  }

  /** The subject carrying `channel`'s events. Throws RotorError(badRequest) for an over-long name. */
  channel(channel: string): string {
    return checkLength(this.channelPrefix + channelToken(channel));
  }

  /** The channel of a channel-events subject, or null. */
  channelOf(subject: string): string | null {
    if (!subject.startsWith(this.channelPrefix)) return null;
    return tokenToChannel(subject.slice(this.channelPrefix.length));
  }

  /**
   * Request subject of the emulation requests of gateway `node`, or null when `node` is not a
   * plain token ([A-Za-z0-9_-], at most 128 characters; node ids are UUIDs).
   */
  emulation(node: string): string | null {
    return node.length > 0 && node.length <= 128 && isPlainAsciiString(node) ? `${this.prefix}.emu.${node}` : null;
  }

  /** Request subject of history shard `shard`. */
  shard(shard: number): string {
    return `${this.prefix}.shard.${shard}`;
  }

  /** Wildcard covering every storage subject of one retention class of a shard. */
  storageWildcard(shard: number, retentionClass: string): string {
    return `${this.prefix}.hs.${shard}.${retentionClass}.>`;
  }

  /** JetStream storage subject of `channel` in a retention class of a shard. */
  storage(shard: number, retentionClass: string, channel: string): string {
    return checkLength(`${this.prefix}.hs.${shard}.${retentionClass}.${channelToken(channel)}`);
  }
}

function checkLength(subject: string): string {
  if (subject.length > MAX_SUBJECT_LENGTH) {
    throw new RotorError(Errors.badRequest, 'channel name too long for a NATS subject');
  }
  return subject;
}
