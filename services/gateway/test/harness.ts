// Test harness: a gateway on port 0 over the in-memory adapters, configured through the real
// loadConfig (a temporary JSON file with Centrifugo keys), plus token helpers and a raw protocol
// client for what the SDK cannot do (stop reading, send garbage, answer pings by hand).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ChannelSequencer,
  JoseTokenVerifier,
  MemoryBroker,
  MemoryControlBus,
  MemoryHistoryStore,
  MemoryPresenceStore,
  loadConfig,
  signHmacToken,
  silentLogger,
} from '@rotor/core';
import type { Broker, Clock, HistoryStore, RotorConfig } from '@rotor/core';
import { Collector, waitFor } from '@rotor/testkit';
import { decodeReplies, encodeCommands } from '@rotor/proto';
import type { client } from '@rotor/proto';
import WebSocket from 'ws';
import { startGateway } from '../src/index.ts';
import { LossyBroker } from '../src/testing/lossy-broker.ts';
import type { DropRule } from '../src/testing/lossy-broker.ts';
import type { Gateway, GatewayOptions } from '../src/index.ts';

export const SECRET = 'gateway-test-secret-0123456789abcdef';

type Tree = Record<string, unknown>;

function merge(base: Tree, over: Tree): Tree {
  const out: Tree = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] =
      v !== null && typeof v === 'object' && !Array.isArray(v) && b !== null && typeof b === 'object' && !Array.isArray(b)
        ? merge(b as Tree, v as Tree)
        : v;
  }
  return out;
}

/** Loads a config through the real loader from a temporary file. */
export function testConfig(over: Tree = {}): RotorConfig {
  const base: Tree = {
    http_server: { address: '127.0.0.1', port: 0 },
    client: { token: { hmac_secret_key: SECRET } },
    prometheus: { enabled: true },
    health: { enabled: true },
    log: { level: 'error' },
  };
  const dir = mkdtempSync(join(tmpdir(), 'rotor-gw-'));
  try {
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify(merge(base, over)));
    return loadConfig({ file, env: {}, hostname: 'test-node' }).config as RotorConfig;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface TestGateway {
  gateway: Gateway;
  config: RotorConfig;
  url: string;
  httpUrl: string;
  broker: MemoryBroker;
  history: MemoryHistoryStore;
  presence: MemoryPresenceStore;
  publisher: ChannelSequencer;
  controlBus: MemoryControlBus;
  /** The gateway's view of the broker: loses what its drop rule picks (nothing by default). */
  lossy: LossyBroker;
  /** Publishes through the Publisher with the namespace's history settings. */
  publish(channel: string, data: unknown): Promise<{ offset: number; epoch: string }>;
  close(): Promise<void>;
}

/**
 * Network latency of a cluster, modelled on the memory adapters: history reads answer `readMs`
 * late (a request to a history shard), and broker deliveries arrive `deliveryMs` late (a NATS
 * hop), in publish order. Used to make live publications race with subscribe-time reads.
 */
export interface Latency {
  readMs: number;
  deliveryMs: number;
}

function delayedHistory(history: MemoryHistoryStore, ms: number): HistoryStore {
  return {
    append: (req) => history.append(req),
    read: (req) => history.read(req).then((r) => new Promise((resolve) => setTimeout(() => resolve(r), ms))),
    remove: (channel) => history.remove(channel),
    close: () => history.close(),
  };
}

function delayedBroker(broker: MemoryBroker, ms: number): Broker {
  return {
    setHandler: (h) => broker.setHandler(h),
    subscribe: (c) => broker.subscribe(c),
    unsubscribe: (c) => broker.unsubscribe(c),
    publish: (c, pub, epoch) => void setTimeout(() => broker.publish(c, pub, epoch), ms),
    publishJoin: (c, info) => void setTimeout(() => broker.publishJoin(c, info), ms),
    publishLeave: (c, info) => void setTimeout(() => broker.publishLeave(c, info), ms),
    close: () => broker.close(),
  };
}

export interface TestOptions {
  latency?: Latency;
  /** Clock of the history store (meta expiry → new epochs). */
  historyClock?: Clock;
  /**
   * Publications lost between the broker and the gateway (NATS core is at-most-once); the rule
   * can be changed later through `TestGateway.lossy`.
   */
  drop?: DropRule;
}

export async function startTestGateway(over: Tree = {}, extra: Partial<GatewayOptions> = {}, opts: TestOptions = {}): Promise<TestGateway> {
  const config = testConfig(over);
  const latency = opts.latency;
  const broker = new MemoryBroker();
  const history = new MemoryHistoryStore({ sweepIntervalMs: 0, clock: opts.historyClock });
  const presence = new MemoryPresenceStore({ sweepIntervalMs: 0 });
  const gatewayHistory = latency === undefined ? history : delayedHistory(history, latency.readMs);
  const publisherBroker = latency === undefined ? broker : delayedBroker(broker, latency.deliveryMs);
  const publisher = new ChannelSequencer({ history, broker: publisherBroker, sweepIntervalMs: 0 });
  const controlBus = new MemoryControlBus();
  const tokenVerifier = new JoseTokenVerifier(config.client);
  const lossy = new LossyBroker(broker, opts.drop ?? (() => false));
  const gateway = await startGateway({
    config,
    broker: lossy,
    history: gatewayHistory,
    presence,
    publisher,
    controlBus,
    tokenVerifier,
    log: silentLogger(),
    ...extra,
  });
  const nsOf = (channel: string) => {
    const bare = channel.startsWith('$') ? channel.slice(1) : channel;
    const i = bare.indexOf(':');
    const name = i > 0 ? bare.slice(0, i) : '';
    return name === '' ? config.channel.withoutNamespace : config.channel.namespaces.find((n) => n.name === name)!;
  };
  return {
    gateway,
    config,
    url: `ws://127.0.0.1:${gateway.port}/connection/websocket`,
    httpUrl: `http://127.0.0.1:${gateway.port}`,
    broker,
    history,
    presence,
    publisher,
    controlBus,
    lossy,
    publish(channel: string, data: unknown) {
      const ns = nsOf(channel);
      const historyOpts =
        ns.historySize > 0 && ns.historyTtlMs > 0
          ? { size: ns.historySize, ttlMs: ns.historyTtlMs, metaTtlMs: ns.historyMetaTtlMs || config.channel.historyMetaTtlMs }
          : undefined;
      const bytes = data instanceof Uint8Array ? data : new TextEncoder().encode(JSON.stringify(data));
      return publisher.publish({ channel, data: bytes, history: historyOpts });
    },
    async close() {
      await gateway.close();
      await broker.close();
      await history.close();
      await presence.close();
      await controlBus.close();
    },
  };
}

/** An HS256 connection or subscription token. `exp` defaults to one hour from now. */
export function token(claims: Record<string, unknown>): Promise<string> {
  return signHmacToken({ exp: Math.floor(Date.now() / 1000) + 3600, ...claims }, SECRET);
}

/** A raw WebSocket speaking the protocol by hand. */
export class RawClient {
  readonly ws: WebSocket;
  readonly replies = new Collector<client.Reply>('replies');
  readonly frames = new Collector<Buffer>('frames');
  closeCode = 0;
  closeReason = '';
  readonly closed: Promise<void>;

  private constructor(
    ws: WebSocket,
    readonly format: 'json' | 'protobuf',
  ) {
    this.ws = ws;
    ws.on('message', (data: Buffer) => {
      this.frames.push(data);
      const r = decodeReplies(new Uint8Array(data), format);
      if (r.ok) for (const reply of r.replies) this.replies.push(reply);
    });
    this.closed = new Promise((resolve) => {
      ws.on('close', (code: number, reason: Buffer) => {
        this.closeCode = code;
        this.closeReason = reason.toString();
        resolve();
      });
    });
  }

  static open(url: string, opts: { format?: 'json' | 'protobuf'; protocols?: string[]; headers?: Record<string, string> } = {}): Promise<RawClient> {
    const format = opts.format ?? 'json';
    const protocols = opts.protocols ?? (format === 'protobuf' ? ['centrifuge-protobuf'] : []);
    const ws = new WebSocket(url, protocols, { headers: opts.headers });
    const c = new RawClient(ws, format);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(c));
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
  }

  send(commands: client.Command[]): void {
    this.ws.send(encodeCommands(commands, this.format), { binary: this.format === 'protobuf' });
  }

  sendRaw(data: Uint8Array | string, binary = false): void {
    this.ws.send(data, { binary });
  }

  /** Waits for the reply to command `id`. */
  reply(id: number, timeoutMs?: number): Promise<client.Reply> {
    return this.replies.waitForMatch((r) => r.id === id, `reply ${id}`, timeoutMs);
  }

  async connect(tokenValue: string, id = 1): Promise<client.Reply> {
    this.send([{ id, connect: { token: tokenValue } }]);
    return this.reply(id);
  }

  async waitClosed(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    await waitFor(() => this.closeCode !== 0, { timeoutMs, what: 'the connection to close' });
    return { code: this.closeCode, reason: this.closeReason };
  }

  close(): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
  }
}
