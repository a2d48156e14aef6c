// A tiny WebSocket server (npm `ws`, port 0) that speaks whatever the test makes it speak: it
// records every frame a client sends and lets the test answer with frames built by our encoders.
// Waiting is by deadline-bounded promises, never by sleeping.
import { WebSocketServer } from 'ws';
import type { WebSocket, RawData } from 'ws';
import type { AddressInfo } from 'node:net';
import { decodeCommands } from '../../src/frames.ts';
import type { Command } from '../../src/gen/client.ts';
import type { Format } from '../../src/wire/message.ts';

const DEFAULT_DEADLINE_MS = 5000;

/** A queue whose `next()` resolves with the next pushed value or rejects at a deadline. */
export class Inbox<T> {
  private items: T[] = [];
  private waiters: Array<(v: T) => void> = [];

  push(v: T): void {
    const w = this.waiters.shift();
    if (w) w(v);
    else this.items.push(v);
  }

  get size(): number {
    return this.items.length;
  }

  next(what: string, deadlineMs = DEFAULT_DEADLINE_MS): Promise<T> {
    const item = this.items.shift();
    if (item !== undefined) return Promise.resolve(item);
    return new Promise<T>((resolve, reject) => {
      const waiter = (v: T): void => {
        clearTimeout(timer);
        resolve(v);
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== waiter);
        reject(new Error(`timed out after ${deadlineMs} ms waiting for ${what}`));
      }, deadlineMs);
      this.waiters.push(waiter);
    });
  }
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data));
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
}

export class FakeConnection {
  readonly frames = new Inbox<Uint8Array>();
  readonly closed: Promise<void>;
  /** Every frame received, in order (for golden capture). */
  readonly received: Uint8Array[] = [];

  constructor(
    private readonly ws: WebSocket,
    readonly format: Format,
  ) {
    ws.on('message', (data, isBinary) => {
      const bytes = toBytes(data);
      if ((format === 'protobuf') !== isBinary) {
        this.frames.push(new TextEncoder().encode(`!unexpected ${isBinary ? 'binary' : 'text'} frame`));
        return;
      }
      this.received.push(bytes);
      this.frames.push(bytes);
    });
    this.closed = new Promise((resolve) => ws.once('close', () => resolve()));
  }

  /** The next frame, decoded with our decoder (the decode must succeed). */
  async nextCommands(what: string): Promise<{ frame: Uint8Array; commands: Command[] }> {
    const frame = await this.frames.next(what);
    const r = decodeCommands(frame, this.format, { maxFrameBytes: 65536 });
    if (!r.ok) throw new Error(`${what}: our decoder rejected the SDK frame: ${r.error.kind} ${r.error.message}`);
    return { frame, commands: r.commands };
  }

  send(frame: Uint8Array): void {
    this.ws.send(frame, { binary: this.format === 'protobuf' });
  }
}

export class FakeServer {
  readonly connections = new Inbox<FakeConnection>();
  private readonly sockets = new Set<WebSocket>();

  private constructor(
    private readonly wss: WebSocketServer,
    readonly url: string,
  ) {
    wss.on('connection', (ws) => {
      this.sockets.add(ws);
      ws.on('close', () => this.sockets.delete(ws));
      this.connections.push(new FakeConnection(ws, ws.protocol === 'centrifuge-protobuf' ? 'protobuf' : 'json'));
    });
  }

  static async start(): Promise<FakeServer> {
    const wss = new WebSocketServer({
      host: '127.0.0.1',
      port: 0,
      // Echo the protobuf subprotocol like Centrifugo does (PROTOCOL.md §1.2).
      handleProtocols: (protocols) => (protocols.has('centrifuge-protobuf') ? 'centrifuge-protobuf' : false),
    });
    await new Promise<void>((resolve, reject) => {
      wss.once('listening', resolve);
      wss.once('error', reject);
    });
    const port = (wss.address() as AddressInfo).port;
    return new FakeServer(wss, `ws://127.0.0.1:${port}/connection/websocket`);
  }

  async close(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}
