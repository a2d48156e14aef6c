// Client driver for Rotor: the Centrifugo client protocol (JSON or protobuf) over the harness's
// WebSocket client. A subscriber sends connect (with a JWT the server verifies) and one subscribe
// per channel in one frame and is established when every reply succeeded; after that, frames go
// through the allocation-free push scanner and everything else is decoded with @rotor/proto.
import { decodeReplies, encodeCommand, encodeCommands } from '@rotor/proto';
import type { client } from '@rotor/proto';
import { signHmacToken } from '@rotor/core';
import { WsClient } from '../../lib/ws-client.ts';
import type { ClientDriver, CreateDriver, Endpoint, MessageSink, PublisherConn, SubscribeOptions, SubscriberConn } from '../../target.ts';
import { scanJsonFrame, scanProtobufFrame, type ScanHandlers } from './push-scan.ts';

type Format = 'json' | 'protobuf';
const PATH = '/connection/websocket';
/** Tokens are signed once per user and reused: the server still verifies every connect. */
const TOKEN_POOL = 256;
const PONG_JSON = '{}';
const PONG_PROTOBUF = Buffer.from([0]);

interface Session {
  ws: WsClient;
  /** Resolves when connect and every subscribe were answered without error. */
  ready: Promise<void>;
}

class RotorDriver implements ClientDriver {
  private readonly format: Format;
  private readonly secret: string;
  private readonly tokens: Promise<string>[] = [];
  private nextUser = 0;

  constructor(private readonly endpoint: Endpoint, format: string) {
    this.format = format === 'protobuf' ? 'protobuf' : 'json';
    const secret = endpoint.extra['secret'];
    if (typeof secret !== 'string') throw new Error('rotor endpoint has no token secret');
    this.secret = secret;
  }

  channelName(index: number): string {
    return `bench.${index}`;
  }

  private token(): Promise<string> {
    const i = this.nextUser++ % TOKEN_POOL;
    this.tokens[i] ??= signHmacToken({ sub: `bench-user-${i}` }, this.secret);
    return this.tokens[i];
  }

  async prepare(): Promise<void> {
    // Every token of the pool; the server still verifies each one on every connect.
    await Promise.all(Array.from({ length: TOKEN_POOL }, () => this.token()));
  }

  private open(channels: readonly string[], sink: MessageSink | null, onLost: (err: Error | null) => void, localAddress?: string): Session {
    const format = this.format;
    const path = format === 'protobuf' ? `${PATH}?cf_protocol=protobuf` : PATH;
    let pending = channels.length + 1;
    let failure: Error | null = null;
    let resolveReady: () => void = () => undefined;
    let rejectReady: (err: Error) => void = () => undefined;
    const ready = new Promise<void>((resolve, reject) => {
      resolveReady = resolve;
      rejectReady = reject;
    });
    ready.catch(() => undefined);
    let isReady = false;
    const fail = (err: Error) => {
      failure ??= err;
      if (!isReady) rejectReady(err);
      ws.close();
    };
    const onReply = (reply: client.Reply) => {
      const id = reply.id ?? 0;
      if (reply.error) {
        fail(new Error(`rotor: command ${id} failed: ${reply.error.code ?? 0} ${reply.error.message ?? ''}`));
        return;
      }
      if (!isReady && id >= 1 && id <= channels.length + 1 && --pending === 0) {
        isReady = true;
        resolveReady();
      }
    };
    const handlers: ScanHandlers = {
      onData: sink ? (buf, start, end) => sink.onPayload(buf, start, end) : () => undefined,
      onPing: () => {
        if (format === 'json') ws.send(PONG_JSON);
        else ws.send(PONG_PROTOBUF, true);
      },
      onOther: (buf, start, end) => {
        const r = decodeReplies(buf.subarray(start, end), format);
        if (!r.ok) {
          fail(new Error(`rotor: undecodable reply: ${r.error.message}`));
          return;
        }
        for (const reply of r.replies) if (!reply.push) onReply(reply);
      },
      onBroken: (reason) => fail(new Error(`rotor: ${reason}`)),
    };
    const ws: WsClient = new WsClient(
      { host: this.endpoint.host, port: this.endpoint.port, path, localAddress },
      {
        onChunk: sink ? () => sink.onChunk() : () => undefined,
        onMessage: (buf, start, end) => {
          sink?.onFrame();
          if (format === 'json') scanJsonFrame(buf, start, end, handlers);
          else scanProtobufFrame(buf, start, end, handlers);
        },
        onClose: (err, code) => {
          const e = err ?? failure ?? (isReady ? null : new Error(`rotor: connection closed (code ${code}) before connect and subscribe completed`));
          if (!isReady) rejectReady(e ?? new Error('rotor: connection closed'));
          onLost(e);
        },
      },
    );
    void Promise.all([ws.opened, this.token()]).then(
      ([, token]) => {
        const commands: client.Command[] = [{ id: 1, connect: { token, name: 'rotor-loadtest' } }];
        channels.forEach((channel, i) => commands.push({ id: i + 2, subscribe: { channel } }));
        ws.send(Buffer.from(encodeCommands(commands, format)), format === 'protobuf');
      },
      (err: unknown) => fail(err as Error),
    );
    return { ws, ready };
  }

  async subscribe(channels: readonly string[], sink: MessageSink, options?: SubscribeOptions): Promise<SubscriberConn> {
    let established = false;
    const s = this.open(channels, sink, (err) => {
      if (established) sink.onClose(err);
    }, options?.localAddress);
    await s.ready;
    established = true;
    return { close: () => s.ws.close(), abort: () => s.ws.abort() };
  }

  async publisher(): Promise<PublisherConn> {
    const s = this.open([], null, () => undefined);
    await s.ready;
    const ws = s.ws;
    const format = this.format;
    let id = 1;
    return {
      publish(channel: string, payload: Buffer) {
        id = id >= 0x7fffffff ? 2 : id + 1;
        if (format === 'json') {
          // The payload is valid JSON, embedded raw as the protocol requires.
          ws.send(Buffer.concat([Buffer.from(`{"id":${id},"publish":{"channel":${JSON.stringify(channel)},"data":`, 'latin1'), payload, CLOSE2]));
        } else {
          ws.send(Buffer.from(encodeCommand({ id, publish: { channel, data: payload } }, 'protobuf')), true);
        }
      },
      get bufferedAmount() {
        return ws.bufferedAmount;
      },
      onceDrain: (cb) => ws.onceDrain(cb),
      close: () => ws.close(),
    };
  }
}

const CLOSE2 = Buffer.from('}}', 'latin1');

export const createDriver: CreateDriver = (endpoint, options) => new RotorDriver(endpoint, options.format);
