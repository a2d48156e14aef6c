// A cluster for end-to-end tests, one real process per role: a testkit nats-server (JetStream),
// `rotor history` shards, `rotor gateway`s and `rotor api`, each spawned as a user would and
// killed when the test ends (SIGKILL, whatever happened). Ports are 0 everywhere; every process
// reports its own in its "rotor started" log line.
//
// Also here: the server API over HTTP and gRPC with the cluster's key, connection tokens, and a
// steady publisher that records what was acknowledged (offset, epoch) and what failed.
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { signHmacToken } from '@rotor/core';
import { startNatsServer, waitFor } from '@rotor/testkit';
import type { NatsServerHandle } from '@rotor/testkit';
import { REPO_ROOT, START_TIMEOUT_MS, spawnRotor } from './rotor-process.ts';
import type { RotorProcess } from './rotor-process.ts';

export const API_KEY = 'e2e-cluster-api-key-0123456789abcdef';
export const HMAC_SECRET = 'e2e-cluster-hmac-secret-0123456789abcdef';

interface TestContext {
  after(fn: () => void | Promise<void>): void;
}

/** The namespace every cluster test uses: history, recovery, presence, join/leave. */
export const CHAT_NAMESPACE = {
  name: 'chat',
  history_size: 5000,
  history_ttl: '600s',
  force_recovery: true,
  presence: true,
  join_leave: true,
  force_push_join_leave: true,
  allow_subscribe_for_client: true,
  allow_presence_for_subscriber: true,
  allow_history_for_subscriber: true,
};

export interface ClusterOptions {
  shards?: number;
  /** Extra ROTOR_* variables for every process. */
  env?: Record<string, string>;
}

export class TestCluster {
  readonly shards: Array<RotorProcess | null> = [];
  readonly gateways: RotorProcess[] = [];
  api: RotorProcess | null = null;
  private grpcClient: grpc.Client | null = null;
  private gatewaysStarted = 0;

  constructor(
    private readonly t: TestContext,
    readonly nats: NatsServerHandle,
    readonly shardCount: number,
    readonly env: Record<string, string>,
  ) {}

  /** Starts `rotor history --shard k` and waits until it serves. */
  async startShard(k: number): Promise<RotorProcess> {
    const p = await this.startRole(['history', '--shard', String(k)], { ROTOR_NODE_NAME: `history-${k}` });
    this.shards[k] = p;
    return p;
  }

  /** Starts a gateway; `port` makes it share that port with another gateway (SO_REUSEPORT). */
  async startGateway(port = 0): Promise<RotorProcess> {
    const name = `gateway-${++this.gatewaysStarted}`;
    const p = await this.startRole(['gateway'], { ROTOR_HTTP_SERVER_PORT: String(port), ROTOR_NODE_NAME: name });
    this.gateways.push(p);
    return p;
  }

  async startApi(): Promise<RotorProcess> {
    const p = await this.startRole(['api'], { ROTOR_NODE_NAME: 'api' });
    this.api = p;
    return p;
  }

  private async startRole(args: string[], env: Record<string, string>): Promise<RotorProcess> {
    const p = spawnRotor(this.t, { args, env: { ...this.env, ...env } });
    const started = await p.logLine('rotor started', START_TIMEOUT_MS);
    p.httpPort = started['httpPort'] as number;
    p.grpcPort = (started['grpcPort'] as number | null) ?? null;
    p.serverPid = started['pid'] as number;
    return p;
  }

  get apiUrl(): string {
    if (this.api === null) throw new Error('no api process');
    return `http://127.0.0.1:${this.api.httpPort}`;
  }

  wsUrl(gateway: RotorProcess): string {
    return `ws://127.0.0.1:${gateway.httpPort}/connection/websocket`;
  }

  /** POST /api/<method> with the cluster's key. */
  http(method: string, body: unknown): Promise<ApiAnswer> {
    return httpApi(this.apiUrl, API_KEY, method, body);
  }

  /** A CentrifugoApi gRPC call with the cluster's key. */
  grpc(method: string, req: unknown): Promise<ApiAnswer> {
    if (this.api?.grpcPort == null) throw new Error('no gRPC port');
    this.grpcClient ??= grpcApiClient(this.t, `127.0.0.1:${this.api.grpcPort}`);
    return grpcCall(this.grpcClient, API_KEY, method, req);
  }

  token(user: string): Promise<string> {
    return signHmacToken({ sub: user, exp: Math.floor(Date.now() / 1000) + 3600 }, HMAC_SECRET);
  }
}

/** nats-server, the shards and the api (gateways are started by the test, as it needs them). */
export async function startCluster(t: TestContext, opts: ClusterOptions = {}): Promise<TestCluster> {
  const nats = await startNatsServer({ jetstream: true });
  t.after(async () => {
    await nats[Symbol.asyncDispose]();
  });
  const shards = opts.shards ?? 2;
  const env: Record<string, string> = {
    ROTOR_NATS_URL: nats.url,
    ROTOR_HISTORY_SHARDS: String(shards),
    ROTOR_HISTORY_HTTP_PORT: '0',
    ROTOR_HTTP_SERVER_ADDRESS: '127.0.0.1',
    ROTOR_HTTP_SERVER_PORT: '0',
    ROTOR_API_PORT: '0',
    ROTOR_GRPC_API_ENABLED: 'true',
    ROTOR_GRPC_API_ADDRESS: '127.0.0.1',
    ROTOR_GRPC_API_PORT: '0',
    ROTOR_HTTP_API_KEY: API_KEY,
    ROTOR_GRPC_API_KEY: API_KEY,
    ROTOR_CLIENT_TOKEN_HMAC_SECRET_KEY: HMAC_SECRET,
    ROTOR_HEALTH_ENABLED: 'true',
    ROTOR_DRAIN_WINDOW: '200ms',
    // Lost last publications are found by the position check: keep its period short here.
    ROTOR_CLIENT_CHANNEL_POSITION_CHECK_DELAY: '2s',
    ROTOR_CHANNEL_NAMESPACES: JSON.stringify([CHAT_NAMESPACE]),
    ...opts.env,
  };
  const cluster = new TestCluster(t, nats, shards, env);
  await Promise.all([...Array.from({ length: shards }, (_, k) => cluster.startShard(k)), cluster.startApi()]);
  return cluster;
}

// ---------------------------------------------------------------------------------------------
// Server API

export interface ApiAnswer {
  /** HTTP status (200 for any gRPC answer). */
  status: number;
  result?: Record<string, unknown> | null;
  error?: { code: number; message: string } | null;
}

export async function httpApi(base: string, key: string, method: string, body: unknown): Promise<ApiAnswer> {
  const res = await fetch(`${base}/api/${method}`, {
    method: 'POST',
    headers: { 'X-API-Key': key },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  const json = (text === '' ? {} : JSON.parse(text)) as Omit<ApiAnswer, 'status'>;
  return { status: res.status, ...json };
}

type GrpcMethod = (req: unknown, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, v: unknown) => void) => void;

export function grpcApiClient(t: TestContext, address: string): grpc.Client {
  const def = protoLoader.loadSync(join(REPO_ROOT, 'proto/api.proto'), { keepCase: true, longs: Number, defaults: false });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    centrifugal: { centrifugo: { api: { CentrifugoApi: new (addr: string, creds: grpc.ChannelCredentials) => grpc.Client } } };
  };
  const client = new pkg.centrifugal.centrifugo.api.CentrifugoApi(address, grpc.credentials.createInsecure());
  t.after(() => client.close());
  return client;
}

export function grpcCall(client: grpc.Client, key: string, method: string, req: unknown): Promise<ApiAnswer> {
  const md = new grpc.Metadata();
  md.set('authorization', `apikey ${key}`);
  const fn = (client as unknown as Record<string, GrpcMethod>)[method];
  if (fn === undefined) throw new Error(`no gRPC method ${method}`);
  return new Promise((resolve, reject) => {
    fn.call(client, req, md, { deadline: Date.now() + 15_000 }, (err, v) => {
      if (err !== null) reject(err);
      else resolve({ status: 200, ...(v as Omit<ApiAnswer, 'status'>) });
    });
  });
}

// ---------------------------------------------------------------------------------------------
// A steady publisher

export interface Ack {
  channel: string;
  offset: number;
  epoch: string;
  /** The `n` the publication carried. */
  n: number;
  /** When the acknowledgement came (ms). */
  at: number;
}

export interface Failure {
  channel: string;
  n: number;
  code: number | null;
  message: string;
  at: number;
}

/**
 * Publishes `{n}` to the channels in turn (n counts up per channel) until stopped, `lanes`
 * requests at a time (each lane waits for its answer); keeps every acknowledgement and every
 * failure. `pauseMs` spaces each lane's requests so the load stays steady on a small machine.
 */
export class SteadyPublisher {
  readonly acks: Ack[] = [];
  readonly failures: Failure[] = [];
  private running = true;
  private readonly loop: Promise<void>;
  private readonly next = new Map<string, number>();
  private turn = 0;

  constructor(
    private readonly send: (channel: string, data: unknown) => Promise<ApiAnswer>,
    private readonly channels: readonly string[],
    private readonly pauseMs = 2,
    lanes = 1,
  ) {
    this.loop = Promise.all(Array.from({ length: lanes }, () => this.run())).then(() => undefined);
  }

  private async run(): Promise<void> {
    while (this.running) {
      const channel = this.channels[this.turn++ % this.channels.length] as string;
      const n = (this.next.get(channel) ?? 0) + 1;
      this.next.set(channel, n);
      try {
        const a = await this.send(channel, { n });
        if (a.error != null) this.failures.push({ channel, n, code: a.error.code, message: a.error.message, at: Date.now() });
        else if (a.status !== 200) this.failures.push({ channel, n, code: null, message: `HTTP ${a.status}`, at: Date.now() });
        else this.acks.push({ channel, n, offset: Number(a.result?.['offset'] ?? 0), epoch: String(a.result?.['epoch'] ?? ''), at: Date.now() });
      } catch (err) {
        this.failures.push({ channel, n, code: null, message: (err as Error).message, at: Date.now() });
      }
      if (this.pauseMs > 0) await new Promise((r) => setTimeout(r, this.pauseMs));
    }
  }

  acksOf(channel: string): Ack[] {
    return this.acks.filter((a) => a.channel === channel);
  }

  /** Waits until `count` more acknowledgements than `from` have come. */
  async waitForAcks(count: number, timeoutMs: number, from = this.acks.length): Promise<void> {
    await waitFor(() => this.acks.length >= from + count, { timeoutMs, what: `${count} more acknowledged publications (have ${this.acks.length - from})` });
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}

// ---------------------------------------------------------------------------------------------
// Delivery checks

export interface Received {
  data: unknown;
  offset: number | undefined;
}

/**
 * Waits until `received` reaches the channel's last acknowledged offset, then checks what a
 * recovering client must see: offsets 1, 2, 3 … contiguous (no gap, no duplicate, in order) and,
 * at every acknowledged offset, the publication that was acknowledged there. Publications that
 * failed on the way back but were stored (a shard killed between store and reply) may fill
 * offsets nobody acknowledged; that is allowed.
 */
export async function assertDeliveredExactlyOnce(what: string, received: { items: Received[] }, acks: readonly Ack[], timeoutMs = 30_000): Promise<void> {
  const last = acks.reduce((m, a) => Math.max(m, a.offset), 0);
  if (last === 0) throw new Error(`${what}: nothing was acknowledged`);
  await waitFor(() => received.items.some((p) => (p.offset ?? 0) >= last), { timeoutMs, what: `${what}: delivery up to offset ${last} (have ${received.items.at(-1)?.offset ?? 'none'})` });
  const offsets = received.items.map((p) => p.offset ?? 0);
  const upTo = offsets.slice(0, offsets.indexOf(last) + 1);
  const firstBad = upTo.findIndex((o, i) => o !== i + 1);
  if (firstBad >= 0) throw new Error(`${what}: offsets not contiguous from 1: …${JSON.stringify(upTo.slice(Math.max(0, firstBad - 3), firstBad + 3))} at index ${firstBad}`);
  if (offsets.length > upTo.length && (offsets[upTo.length] ?? 0) !== last + 1) throw new Error(`${what}: after ${last} came ${offsets[upTo.length]}`);
  for (const a of acks) {
    const p = received.items[a.offset - 1];
    const n = (p?.data as { n?: unknown } | undefined)?.n;
    if (n !== a.n) throw new Error(`${what}: offset ${a.offset} carried n=${String(n)}, acknowledged n=${a.n}`);
  }
}
