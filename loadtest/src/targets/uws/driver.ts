// Client driver for the uWS baseline (see server.ts for the protocol).
import { WsClient } from '../../lib/ws-client.ts';
import type { ClientDriver, CreateDriver, Endpoint, MessageSink, PublisherConn, SubscribeOptions, SubscriberConn } from '../../target.ts';

const OK = 0x6f; // 'o'

class UwsDriver implements ClientDriver {
  constructor(private readonly endpoint: Endpoint) {}

  channelName(index: number): string {
    return `bench.${index}`;
  }

  async subscribe(channels: readonly string[], sink: MessageSink, options?: SubscribeOptions): Promise<SubscriberConn> {
    let acks = 0;
    let onAcked: (() => void) | null = null;
    let onFailed: ((err: Error) => void) | null = null;
    const acked = new Promise<void>((resolve, reject) => {
      onAcked = resolve;
      onFailed = reject;
    });
    // If the connection fails before `opened`, that rejection is the one the caller sees.
    acked.catch(() => undefined);
    let established = false;
    const ws = new WsClient(
      { host: this.endpoint.host, port: this.endpoint.port, path: '/', localAddress: options?.localAddress },
      {
        onChunk: () => sink.onChunk(),
        onMessage: (buf, start, end) => {
          if (acks < channels.length) {
            if (end - start === 2 && buf[start] === OK) {
              if (++acks === channels.length) onAcked?.();
            }
            return;
          }
          sink.onFrame();
          sink.onPayload(buf, start, end);
        },
        onClose: (error) => {
          if (established) sink.onClose(error);
          else onFailed?.(error ?? new Error('connection closed before the subscriptions were acknowledged'));
        },
      },
    );
    await ws.opened;
    for (const ch of channels) ws.send(`S ${ch}`);
    await acked;
    established = true;
    return { close: () => ws.close(), abort: () => ws.abort() };
  }

  async publisher(): Promise<PublisherConn> {
    const ws = new WsClient(
      { host: this.endpoint.host, port: this.endpoint.port, path: '/' },
      { onChunk: () => undefined, onMessage: () => undefined, onClose: () => undefined },
    );
    await ws.opened;
    return {
      publish(channel: string, payload: Buffer) {
        ws.send(Buffer.concat([Buffer.from(`P ${channel} `, 'latin1'), payload]));
      },
      get bufferedAmount() {
        return ws.bufferedAmount;
      },
      onceDrain: (cb) => ws.onceDrain(cb),
      close: () => ws.close(),
    };
  }
}

export const createDriver: CreateDriver = (endpoint) => new UwsDriver(endpoint);
