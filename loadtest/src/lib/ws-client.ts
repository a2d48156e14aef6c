// A minimal WebSocket client (RFC 6455) on a raw TCP socket, built for load generation: frames are
// parsed in place from each socket read (no per-message Buffer when a frame sits inside one read),
// one clock read per socket read, and every protocol driver of the harness shares it, so all
// targets face the same client cost. It offers no extensions (no permessage-deflate).
//
// Outgoing frames are masked, as the RFC requires of clients, with an all-zero masking key: the
// server unmasks to the same bytes and the generator saves an XOR pass per byte. A key is meant to
// be unpredictable to defeat cache poisoning by browser scripts; that threat does not exist here.
import { connect, type Socket } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const MAX_HANDSHAKE_BYTES = 16 * 1024;
/** Refuse frames larger than this (protects the generator's memory from a broken server). */
const MAX_FRAME_BYTES = 64 * 1024 * 1024;

// Handshake keys come from a pool made at start-up, each with its expected Sec-WebSocket-Accept:
// randomBytes and SHA-1 per connection were ≈ 4 % of a connect generator thread. The key is a
// nonce against proxies replaying cached upgrades; a loopback benchmark has none (as with the
// masking key above). Every handshake's accept value is still checked.
const KEY_POOL = 1024;
const keys: { key: string; accept: string }[] = [];
let nextKey = 0;

function handshakeKey(): { key: string; accept: string } {
  const i = nextKey++ & (KEY_POOL - 1);
  let k = keys[i];
  if (!k) {
    const key = randomBytes(16).toString('base64');
    k = keys[i] = { key, accept: createHash('sha1').update(key + WS_GUID).digest('base64') };
  }
  return k;
}

const OP_CONT = 0x0;
const OP_TEXT = 0x1;
const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;

export interface WsHandlers {
  /** Called once per socket read, before the frames in it are dispatched (take the clock here). */
  onChunk(): void;
  /** One complete message (fragments reassembled) in buf[start, end). The buffer may hold other
   *  frames: read it during the call; it is never reused by the client, so keeping it is safe. */
  onMessage(buf: Buffer, start: number, end: number, binary: boolean): void;
  /** Called exactly once when the connection is gone (error is null after a clean close). */
  onClose(error: Error | null, code: number): void;
}

export interface WsConnectOptions {
  host: string;
  port: number;
  /** Request target, e.g. "/connection/websocket?format=protobuf". */
  path: string;
  headers?: Readonly<Record<string, string>>;
  localAddress?: string;
  /** Handshake deadline (ms); default 10 000. */
  timeoutMs?: number;
}

const enum State {
  Handshake,
  Open,
  Closing,
  Closed,
}

export class WsClient {
  private readonly socket: Socket;
  private state = State.Handshake;
  private readonly key: { key: string; accept: string };
  private handshakeBuf: Buffer | null = null;
  // Frame parser state.
  private readonly hdr = Buffer.allocUnsafe(14);
  private hdrHave = 0;
  private op = 0;
  private fin = false;
  private plen = 0;
  private frameBuf: Buffer | null = null;
  private frameFill = 0;
  private fragOp = 0;
  private fragParts: Buffer[] | null = null;
  private error: Error | null = null;
  private closeCode = 1006;
  private corked = false;
  private openResolve: (() => void) | null = null;
  private openReject: ((err: Error) => void) | null = null;
  /** Resolves once the handshake succeeded; rejects if the connection failed before. */
  readonly opened: Promise<void>;

  constructor(
    private readonly opts: WsConnectOptions,
    private readonly handlers: WsHandlers,
  ) {
    this.key = handshakeKey();
    this.opened = new Promise<void>((resolve, reject) => {
      this.openResolve = resolve;
      this.openReject = reject;
    });
    // Callers that only use the handlers must not see an unhandled rejection.
    this.opened.catch(() => undefined);
    const socket = connect({ host: opts.host, port: opts.port, localAddress: opts.localAddress, noDelay: true });
    this.socket = socket;
    socket.setTimeout(opts.timeoutMs ?? 10_000);
    socket.on('timeout', () => this.fail(new Error(`websocket handshake to ${opts.host}:${opts.port} timed out`)));
    socket.on('connect', () => this.sendHandshake());
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => {
      this.error ??= err;
    });
    socket.on('close', () => this.onSocketClose());
  }

  /** Bytes queued in the socket and not yet handed to the kernel. */
  get bufferedAmount(): number {
    return this.socket.writableLength;
  }

  get isOpen(): boolean {
    return this.state === State.Open;
  }

  /** Sends one text (default) or binary message. Ignored once the connection is closing. */
  send(data: Buffer | string, binary = false): void {
    if (this.state !== State.Open) return;
    this.cork();
    this.socket.write(encodeFrame(binary ? OP_BINARY : OP_TEXT, data));
  }

  /** Coalesces every write of this tick into one syscall (uncorked on the next tick). */
  private cork(): void {
    if (this.corked) return;
    this.corked = true;
    this.socket.cork();
    process.nextTick(() => {
      this.corked = false;
      this.socket.uncork();
    });
  }

  /** Registers a callback for when the socket's write buffer drains. */
  onceDrain(cb: () => void): void {
    this.socket.once('drain', cb);
  }

  /** Graceful close: close frame, then FIN; the socket is destroyed if the peer stalls. */
  close(code = 1000): void {
    if (this.state === State.Closed || this.state === State.Closing) return;
    if (this.state === State.Handshake) {
      this.socket.destroy();
      return;
    }
    this.state = State.Closing;
    const body = Buffer.allocUnsafe(2);
    body.writeUInt16BE(code, 0);
    this.socket.end(encodeFrame(OP_CLOSE, body));
    setTimeout(() => this.socket.destroy(), 2000).unref();
  }

  /** Abrupt close with a TCP RST: no TIME_WAIT left behind (the connect benchmark opens many). */
  abort(): void {
    if (this.state === State.Closed) return;
    this.state = State.Closing;
    this.socket.resetAndDestroy();
  }

  private sendHandshake(): void {
    const o = this.opts;
    let req =
      `GET ${o.path} HTTP/1.1\r\nHost: ${o.host}:${o.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${this.key.key}\r\nSec-WebSocket-Version: 13\r\n`;
    if (o.headers) for (const [k, v] of Object.entries(o.headers)) req += `${k}: ${v}\r\n`;
    this.socket.write(req + '\r\n');
  }

  private fail(err: Error): void {
    this.error ??= err;
    this.socket.destroy();
  }

  private onSocketClose(): void {
    const wasHandshake = this.state === State.Handshake;
    this.state = State.Closed;
    if (wasHandshake) {
      this.openReject?.(this.error ?? new Error(`websocket to ${this.opts.host}:${this.opts.port} closed during handshake`));
    }
    this.openResolve = null;
    this.openReject = null;
    this.handlers.onClose(this.error, this.closeCode);
  }

  private onData(chunk: Buffer): void {
    if (this.state === State.Handshake) {
      const buf = this.handshakeBuf ? Buffer.concat([this.handshakeBuf, chunk]) : chunk;
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) {
        if (buf.length > MAX_HANDSHAKE_BYTES) this.fail(new Error('websocket handshake response too large'));
        else this.handshakeBuf = buf;
        return;
      }
      this.handshakeBuf = null;
      const err = this.checkHandshake(buf.toString('latin1', 0, end));
      if (err) {
        this.fail(err);
        return;
      }
      this.state = State.Open;
      this.socket.setTimeout(0);
      this.openResolve?.();
      if (end + 4 < buf.length) this.parse(buf.subarray(end + 4));
      return;
    }
    if (this.state === State.Closed) return;
    this.parse(chunk);
  }

  private checkHandshake(head: string): Error | null {
    const lines = head.split('\r\n');
    const status = lines[0] ?? '';
    if (!/^HTTP\/1\.1 101\b/.test(status)) return new Error(`websocket upgrade refused: ${status}`);
    const want = this.key.accept;
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(':');
      if (colon > 0 && line.slice(0, colon).trim().toLowerCase() === 'sec-websocket-accept') {
        return line.slice(colon + 1).trim() === want ? null : new Error('websocket upgrade: bad Sec-WebSocket-Accept');
      }
    }
    return new Error('websocket upgrade: no Sec-WebSocket-Accept');
  }

  private parse(chunk: Buffer): void {
    this.handlers.onChunk();
    const len = chunk.length;
    let pos = 0;
    while (pos < len && this.state !== State.Closed) {
      if (this.frameBuf !== null) {
        const n = Math.min(this.frameBuf.length - this.frameFill, len - pos);
        chunk.copy(this.frameBuf, this.frameFill, pos, pos + n);
        this.frameFill += n;
        pos += n;
        if (this.frameFill === this.frameBuf.length) {
          const b = this.frameBuf;
          this.frameBuf = null;
          this.frame(b, 0, b.length);
        }
        continue;
      }
      if (this.hdrHave > 0) {
        const take = Math.min(14 - this.hdrHave, len - pos);
        chunk.copy(this.hdr, this.hdrHave, pos, pos + take);
        const hl = headerLength(this.hdr, 0, this.hdrHave + take);
        if (hl < 0) {
          this.hdrHave += take;
          pos += take;
          continue;
        }
        pos += hl - this.hdrHave;
        this.hdrHave = 0;
        if (!this.readHeader(this.hdr, 0)) return;
      } else {
        const hl = headerLength(chunk, pos, len - pos);
        if (hl < 0) {
          chunk.copy(this.hdr, 0, pos, len);
          this.hdrHave = len - pos;
          pos = len;
          continue;
        }
        if (!this.readHeader(chunk, pos)) return;
        pos += hl;
      }
      if (len - pos >= this.plen) {
        const start = pos;
        pos += this.plen;
        this.frame(chunk, start, pos);
      } else {
        this.frameBuf = Buffer.allocUnsafe(this.plen);
        this.frameFill = len - pos;
        chunk.copy(this.frameBuf, 0, pos, len);
        pos = len;
      }
    }
  }

  private readHeader(b: Buffer, p: number): boolean {
    const b0 = b[p]!;
    const b1 = b[p + 1]!;
    if ((b0 & 0x70) !== 0) return this.protocolError('reserved bits set (no extension was negotiated)');
    if ((b1 & 0x80) !== 0) return this.protocolError('server frames must not be masked');
    this.fin = (b0 & 0x80) !== 0;
    this.op = b0 & 0x0f;
    const l7 = b1 & 0x7f;
    if (l7 < 126) this.plen = l7;
    else if (l7 === 126) this.plen = b.readUInt16BE(p + 2);
    else {
      const hi = b.readUInt32BE(p + 2);
      const lo = b.readUInt32BE(p + 6);
      this.plen = hi * 2 ** 32 + lo;
    }
    if (this.plen > MAX_FRAME_BYTES) return this.protocolError(`frame of ${this.plen} bytes exceeds the limit`);
    return true;
  }

  private protocolError(msg: string): false {
    this.fail(new Error(`websocket protocol error: ${msg}`));
    return false;
  }

  private frame(buf: Buffer, start: number, end: number): void {
    switch (this.op) {
      case OP_TEXT:
      case OP_BINARY:
        if (this.fragParts !== null) {
          this.protocolError('new message inside a fragmented one');
          return;
        }
        if (this.fin) this.handlers.onMessage(buf, start, end, this.op === OP_BINARY);
        else {
          this.fragOp = this.op;
          this.fragParts = [Buffer.from(buf.subarray(start, end))];
        }
        return;
      case OP_CONT: {
        if (this.fragParts === null) {
          this.protocolError('continuation without a message');
          return;
        }
        this.fragParts.push(Buffer.from(buf.subarray(start, end)));
        if (this.fin) {
          const whole = Buffer.concat(this.fragParts);
          this.fragParts = null;
          this.handlers.onMessage(whole, 0, whole.length, this.fragOp === OP_BINARY);
        }
        return;
      }
      case OP_PING:
        if (this.state === State.Open) this.socket.write(encodeFrame(OP_PONG, Buffer.from(buf.subarray(start, end))));
        return;
      case OP_PONG:
        return;
      case OP_CLOSE:
        this.closeCode = end - start >= 2 ? buf.readUInt16BE(start) : 1005;
        if (this.state === State.Open) {
          this.state = State.Closing;
          const body = Buffer.allocUnsafe(2);
          body.writeUInt16BE(this.closeCode === 1005 ? 1000 : this.closeCode, 0);
          this.socket.end(encodeFrame(OP_CLOSE, body));
        }
        return;
      default:
        this.protocolError(`unknown opcode ${this.op}`);
    }
  }
}

function headerLength(b: Buffer, p: number, avail: number): number {
  if (avail < 2) return -1;
  const l7 = b[p + 1]! & 0x7f;
  const hl = l7 < 126 ? 2 : l7 === 126 ? 4 : 10;
  return avail >= hl ? hl : -1;
}

/** A masked (zero key) client frame. */
export function encodeFrame(op: number, data: Buffer | string): Buffer {
  const n = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
  const hl = (n < 126 ? 2 : n < 65536 ? 4 : 10) + 4;
  const out = Buffer.allocUnsafe(hl + n);
  out[0] = 0x80 | op;
  if (n < 126) out[1] = 0x80 | n;
  else if (n < 65536) {
    out[1] = 0x80 | 126;
    out.writeUInt16BE(n, 2);
  } else {
    out[1] = 0x80 | 127;
    out.writeUInt32BE(Math.floor(n / 2 ** 32), 2);
    out.writeUInt32BE(n >>> 0, 6);
  }
  out.writeUInt32BE(0, hl - 4);
  if (typeof data === 'string') out.write(data, hl, 'utf8');
  else data.copy(out, hl);
  return out;
}
