// Client driver for the Socket.IO baseline, speaking Engine.IO v4 / Socket.IO v5 packets directly
// over the harness's WebSocket client (the official client's per-message cost would make the load
// generator, not the server, the bottleneck). Packets, one per WebSocket frame:
//   server "0{…}" open → client "40" (connect "/") → server "40{…}"
//   client '42<id>["sub","<ch>"]' → server '43<id>[]'
//   server '42["m",<payload>]'; server "2" ping → client "3" pong.
import { WsClient } from '../../lib/ws-client.ts';
import type { ClientDriver, CreateDriver, Endpoint, MessageSink, PublisherConn, SubscribeOptions, SubscriberConn } from '../../target.ts';

const PATH = '/socket.io/?EIO=4&transport=websocket';
const C0 = 0x30;
const C1 = 0x31;
const C2 = 0x32;
const C3 = 0x33;
const C4 = 0x34;
const EVENT_M = Buffer.from('42["m",', 'latin1');
const CLOSE_BRACKET = 0x5d;

function startsWith(buf: Buffer, start: number, end: number, prefix: Buffer): boolean {
  if (end - start < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (buf[start + i] !== prefix[i]) return false;
  return true;
}

interface Session {
  ws: WsClient;
  /** Resolves once the namespace connect is acknowledged. */
  connected: Promise<void>;
}

function open(endpoint: Endpoint, onData: (buf: Buffer, start: number, end: number) => void, onChunk: () => void, onClose: (err: Error | null) => void, localAddress?: string): Session {
  let resolveConnected: () => void = () => undefined;
  let rejectConnected: (err: Error) => void = () => undefined;
  const connected = new Promise<void>((resolve, reject) => {
    resolveConnected = resolve;
    rejectConnected = reject;
  });
  connected.catch(() => undefined);
  let isConnected = false;
  const ws: WsClient = new WsClient(
    { host: endpoint.host, port: endpoint.port, path: PATH, localAddress },
    {
      onChunk,
      onMessage: (buf, start, end) => {
        const t = buf[start];
        if (t === C4) {
          const s = buf[start + 1];
          if (s === C2 || s === C3) onData(buf, start, end);
          else if (s === C0) {
            isConnected = true;
            resolveConnected();
          } else if (s === C4) ws.close(); // connect_error
          else if (s === C1) ws.close(); // namespace disconnect
        } else if (t === C2) ws.send('3');
        else if (t === C0) ws.send('40');
        else if (t === C1) ws.close();
      },
      onClose: (err) => {
        if (!isConnected) rejectConnected(err ?? new Error('socket.io connection closed before connect'));
        onClose(err);
      },
    },
  );
  return { ws, connected };
}

class SocketIoDriver implements ClientDriver {
  constructor(private readonly endpoint: Endpoint) {}

  channelName(index: number): string {
    return `bench.${index}`;
  }

  async subscribe(channels: readonly string[], sink: MessageSink, options?: SubscribeOptions): Promise<SubscriberConn> {
    let acks = 0;
    let established = false;
    let onAcked: () => void = () => undefined;
    let onFailed: (err: Error) => void = () => undefined;
    const acked = new Promise<void>((resolve, reject) => {
      onAcked = resolve;
      onFailed = reject;
    });
    acked.catch(() => undefined);
    const session = open(
      this.endpoint,
      (buf, start, end) => {
        if (buf[start + 1] === C3) {
          if (++acks === channels.length) onAcked();
          return;
        }
        sink.onFrame();
        if (startsWith(buf, start, end, EVENT_M) && buf[end - 1] === CLOSE_BRACKET) sink.onPayload(buf, start + EVENT_M.length, end - 1);
        else sink.onPayload(buf, start, start); // not a publication: the sink counts it as malformed
      },
      () => sink.onChunk(),
      (err) => {
        if (established) sink.onClose(err);
        else onFailed(err ?? new Error('socket.io connection closed before the subscriptions were acknowledged'));
      },
      options?.localAddress,
    );
    await session.ws.opened;
    await session.connected;
    channels.forEach((ch, i) => session.ws.send(`42${i + 1}${JSON.stringify(['sub', ch])}`));
    await acked;
    established = true;
    return { close: () => session.ws.close(), abort: () => session.ws.abort() };
  }

  async publisher(): Promise<PublisherConn> {
    const session = open(this.endpoint, () => undefined, () => undefined, () => undefined);
    await session.ws.opened;
    await session.connected;
    const ws = session.ws;
    return {
      publish(channel: string, payload: Buffer) {
        // The payload is a JSON string literal, so it can be spliced in as the event's argument.
        ws.send(Buffer.concat([Buffer.from(`42["pub",${JSON.stringify(channel)},`, 'latin1'), payload, Buffer.from(']', 'latin1')]));
      },
      get bufferedAmount() {
        return ws.bufferedAmount;
      },
      onceDrain: (cb) => ws.onceDrain(cb),
      close: () => ws.close(),
    };
  }
}

export const createDriver: CreateDriver = (endpoint) => new SocketIoDriver(endpoint);
