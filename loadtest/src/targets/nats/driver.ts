// Client driver for the nats-server baseline: the NATS text protocol over nats-server's own
// WebSocket listener, for subscribers and publishers alike (the same client code path as every
// other target). Subscribing: CONNECT, SUB per channel, then PING; the PONG proves the server has
// processed the SUBs.
import { WsClient } from '../../lib/ws-client.ts';
import type { ClientDriver, CreateDriver, Endpoint, MessageSink, PublisherConn, SubscribeOptions, SubscriberConn } from '../../target.ts';
import { NatsParser } from './nats-parser.ts';

const CONNECT = `CONNECT ${JSON.stringify({ verbose: false, pedantic: false, protocol: 1, headers: false, no_responders: false, name: 'rotor-loadtest' })}\r\n`;

interface Conn {
  ws: WsClient;
  /** Resolves on the first PONG. */
  ready: Promise<void>;
}

function open(endpoint: Endpoint, setup: string, sink: MessageSink | null, onLost: (err: Error | null) => void, localAddress?: string): Conn {
  let resolveReady: () => void = () => undefined;
  let rejectReady: (err: Error) => void = () => undefined;
  const ready = new Promise<void>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  ready.catch(() => undefined);
  let isReady = false;
  let lastError: Error | null = null;
  const parser = new NatsParser({
    onMsg: sink ? (buf, start, end) => sink.onPayload(buf, start, end) : () => undefined,
    onPing: () => ws.send('PONG\r\n', true),
    onPong: () => {
      if (!isReady) {
        isReady = true;
        resolveReady();
      }
    },
    onInfo: () => undefined,
    onError: (message) => {
      lastError = new Error(`nats: ${message}`);
      ws.close();
    },
  });
  const ws: WsClient = new WsClient(
    { host: endpoint.host, port: endpoint.port, path: '/', localAddress },
    {
      onChunk: sink ? () => sink.onChunk() : () => undefined,
      onMessage: (buf, start, end) => {
        sink?.onFrame();
        parser.feed(buf, start, end);
      },
      onClose: (err) => {
        const e = err ?? lastError;
        if (!isReady) rejectReady(e ?? new Error('nats connection closed before PONG'));
        onLost(e);
      },
    },
  );
  void ws.opened.then(() => ws.send(CONNECT + setup + 'PING\r\n', true), () => undefined);
  return { ws, ready };
}

class NatsDriver implements ClientDriver {
  constructor(private readonly endpoint: Endpoint) {}

  channelName(index: number): string {
    return `bench.${index}`;
  }

  async subscribe(channels: readonly string[], sink: MessageSink, options?: SubscribeOptions): Promise<SubscriberConn> {
    let established = false;
    let subs = '';
    channels.forEach((ch, i) => {
      subs += `SUB ${ch} ${i + 1}\r\n`;
    });
    const conn = open(this.endpoint, subs, sink, (err) => {
      if (established) sink.onClose(err);
    }, options?.localAddress);
    await conn.ready;
    established = true;
    return { close: () => conn.ws.close(), abort: () => conn.ws.abort() };
  }

  async publisher(): Promise<PublisherConn> {
    const conn = open(this.endpoint, '', null, () => undefined);
    await conn.ready;
    const ws = conn.ws;
    return {
      publish(channel: string, payload: Buffer) {
        ws.send(Buffer.concat([Buffer.from(`PUB ${channel} ${payload.length}\r\n`, 'latin1'), payload, CRLF]), true);
      },
      get bufferedAmount() {
        return ws.bufferedAmount;
      },
      onceDrain: (cb) => ws.onceDrain(cb),
      close: () => ws.close(),
    };
  }
}

const CRLF = Buffer.from('\r\n', 'latin1');

export const createDriver: CreateDriver = (endpoint) => new NatsDriver(endpoint);
