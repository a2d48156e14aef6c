// Test harness: an ApiService over the in-memory adapters, served over HTTP (its own uWS app) and
// gRPC, both on port 0, with a recording control handler standing in for the gateways and a
// recording broker subscriber standing in for the subscribers. Configured through the real
// loadConfig from a temporary file with Centrifugo keys.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import {
  ChannelSequencer,
  MemoryBroker,
  MemoryControlBus,
  MemoryHistoryStore,
  MemoryPresenceStore,
  loadConfig,
  silentLogger,
} from '@rotor/core';
import type { ClientInfo, ControlCommand, ControlHandler, NodeInfo, Publication, RotorConfig } from '@rotor/core';
import { api, grpcServiceDefinition } from '@rotor/proto';
import { Collector } from '@rotor/testkit';
import { Registry } from 'prom-client';
import type { us_listen_socket } from 'uWebSockets.js';
import { createApiService, mountHttpApi, startGrpcApi } from '../src/index.ts';
import type { ApiDeps, ApiService, GrpcApi } from '../src/index.ts';
import { loadNativeUws } from '../src/uws.ts';

export const KEY = 'test-api-key-0123456789';
export const GRPC_KEY = 'test-grpc-key-9876543210';

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

/**
 * Namespaces used across the tests: channels without namespace keep history and presence;
 * `nohist:` has neither; `json:`, `obj:`, `bin:` set publication_data_format.
 */
export function testConfig(over: Tree = {}): RotorConfig {
  const base: Tree = {
    http_server: { address: '127.0.0.1', port: 0 },
    http_api: { key: KEY },
    grpc_api: { enabled: true, address: '127.0.0.1', port: 0, key: GRPC_KEY },
    prometheus: { enabled: true },
    health: { enabled: true },
    log: { level: 'error' },
    rotor: { api_port: 0 },
    channel: {
      without_namespace: { presence: true, history_size: 10, history_ttl: '300s' },
      namespaces: [
        { name: 'nohist' },
        { name: 'json', publication_data_format: 'json', history_size: 10, history_ttl: '300s' },
        { name: 'obj', publication_data_format: 'json_object' },
        { name: 'bin', publication_data_format: 'binary', history_size: 10, history_ttl: '300s' },
      ],
    },
  };
  const dir = mkdtempSync(join(tmpdir(), 'rotor-api-'));
  try {
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify(merge(base, over)));
    return loadConfig({ file, env: {}, hostname: 'test-node' }).config as RotorConfig;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Stands in for every gateway: records control commands, reports a node and its channels. */
export class RecordingControlHandler implements ControlHandler {
  readonly commands = new Collector<ControlCommand>('control commands');
  channelCounts = new Map<string, number>();
  node: NodeInfo = {
    uid: 'node-uid-1',
    name: 'test-node',
    version: '0.1.0',
    numClients: 3,
    numUsers: 2,
    numSubs: 5,
    numChannels: 4,
    uptimeSeconds: 42,
  };
  onCommand(cmd: ControlCommand): void {
    this.commands.push(cmd);
  }
  nodeInfo(): NodeInfo {
    return this.node;
  }
  channels(): Map<string, number> {
    return this.channelCounts;
  }
}

export interface Delivered {
  channel: string;
  pub: Publication;
  epoch: string;
}

export interface TestApi {
  config: RotorConfig;
  service: ApiService;
  registry: Registry;
  broker: MemoryBroker;
  history: MemoryHistoryStore;
  presence: MemoryPresenceStore;
  publisher: ChannelSequencer;
  controlBus: MemoryControlBus;
  control: RecordingControlHandler;
  /** Publications the broker delivered (after `watch(channel)`). */
  delivered: Collector<Delivered>;
  watch(channel: string): Promise<void>;
  httpUrl: string;
  grpcPort: number;
  grpcClient(): GrpcTestClient;
  addPresence(channel: string, info: ClientInfo): Promise<void>;
  close(): Promise<void>;
}

export interface StartOptions {
  config?: Tree;
  deps?: Partial<ApiDeps>;
  /** Start the gRPC server (default true). */
  grpc?: boolean;
}

export async function startTestApi(options: StartOptions = {}): Promise<TestApi> {
  const config = testConfig(options.config ?? {});
  const registry = new Registry();
  const broker = new MemoryBroker();
  const history = new MemoryHistoryStore({ sweepIntervalMs: 0 });
  const presence = new MemoryPresenceStore({ sweepIntervalMs: 0 });
  const publisher = new ChannelSequencer({ history, broker, sweepIntervalMs: 0 });
  const controlBus = new MemoryControlBus();
  const control = new RecordingControlHandler();
  controlBus.setHandler(control);
  const delivered = new Collector<Delivered>('delivered publications');
  broker.setHandler({
    onPublication: (channel, pub, epoch) => delivered.push({ channel, pub, epoch }),
    onJoin: () => undefined,
    onLeave: () => undefined,
  });
  const service = createApiService({
    config,
    publisher,
    history,
    presence,
    controlBus,
    registry,
    log: silentLogger(),
    ...options.deps,
  });

  const uws = loadNativeUws();
  const app = uws.App();
  mountHttpApi(app, service, config);
  // As the gateway and the api role do: anything unrouted is 404 (uWS would drop the connection).
  app.any('/*', (res) => void res.writeStatus('404 Not Found').end());
  let listen: us_listen_socket | null = null;
  let grpcApi: GrpcApi | null = null;
  const clients: GrpcTestClient[] = [];
  const close = async (): Promise<void> => {
    for (const c of clients) c.close();
    if (listen !== null) uws.us_listen_socket_close(listen);
    (app as typeof app & { close(): void }).close();
    await grpcApi?.close();
    publisher.close();
    await Promise.all([broker.close(), history.close(), presence.close(), controlBus.close()]);
  };
  try {
    listen = await new Promise<us_listen_socket>((resolve, reject) => {
      app.listen('127.0.0.1', 0, (token) => (token === false ? reject(new Error('listen failed')) : resolve(token)));
    });
    const httpPort = uws.us_socket_local_port(listen as never);
    if (options.grpc !== false) grpcApi = await startGrpcApi(service, config);
    const grpcPort = grpcApi?.port ?? 0;
    return {
      config,
      service,
      registry,
      broker,
      history,
      presence,
      publisher,
      controlBus,
      control,
      delivered,
      watch: (channel) => broker.subscribe(channel),
      httpUrl: `http://127.0.0.1:${httpPort}`,
      grpcPort,
      grpcClient: () => {
        const c = new GrpcTestClient(grpcPort);
        clients.push(c);
        return c;
      },
      addPresence: (channel, info) => presence.add(channel, info, 60_000),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

// ---- HTTP ---------------------------------------------------------------------------------

export interface HttpReply {
  status: number;
  body: string;
  contentType: string | null;
  json(): unknown;
}

export async function post(url: string, body: string | Uint8Array | null, headers: Record<string, string> = { 'X-API-Key': KEY }, method = 'POST'): Promise<HttpReply> {
  const res = await fetch(url, { method, headers, ...(body === null ? {} : { body }) });
  const text = await res.text();
  return {
    status: res.status,
    body: text,
    contentType: res.headers.get('content-type'),
    json: () => JSON.parse(text) as unknown,
  };
}

/** POST /api/<method> with the key; returns the parsed JSON body (asserting 200). */
export async function call(t: TestApi, method: string, params: unknown, headers: Record<string, string> = { 'X-API-Key': KEY }): Promise<Record<string, unknown>> {
  const r = await post(`${t.httpUrl}/api/${method}`, JSON.stringify(params), headers);
  if (r.status !== 200) throw new Error(`HTTP ${r.status} for ${method}: ${r.body}`);
  return r.json() as Record<string, unknown>;
}

// ---- gRPC ---------------------------------------------------------------------------------

const ClientCtor = grpc.makeGenericClientConstructor(
  grpcServiceDefinition(api.CentrifugoApiMethods) as unknown as grpc.ServiceDefinition,
  'CentrifugoApi',
);

export class GrpcTestClient {
  readonly #client: grpc.Client;

  constructor(port: number) {
    this.#client = new ClientCtor(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  }

  /** Calls `method` (an RPC name such as 'Publish'); rejects with the grpc error on a status. */
  call<T = Record<string, unknown>>(method: string, request: unknown, metadata: Record<string, string> = { authorization: `apikey ${GRPC_KEY}` }): Promise<T> {
    const md = new grpc.Metadata();
    for (const [k, v] of Object.entries(metadata)) md.set(k, v);
    const fn = (this.#client as unknown as Record<string, (req: unknown, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: T) => void) => void>)[method];
    if (fn === undefined) throw new Error(`no method ${method}`);
    return new Promise<T>((resolve, reject) => {
      fn.call(this.#client, request, md, { deadline: Date.now() + 10_000 }, (err, res) => (err ? reject(err) : resolve(res)));
    });
  }

  /** Sends raw bytes as the request of `path` (bypassing the request serializer). */
  raw(path: string, bytes: Buffer, metadata: Record<string, string> = { authorization: `apikey ${GRPC_KEY}` }): Promise<Buffer> {
    const md = new grpc.Metadata();
    for (const [k, v] of Object.entries(metadata)) md.set(k, v);
    return new Promise<Buffer>((resolve, reject) => {
      this.#client.makeUnaryRequest<Buffer, Buffer>(
        path,
        (b) => b,
        (b) => b,
        bytes,
        md,
        { deadline: Date.now() + 10_000 },
        (err, res) => (err ? reject(err) : resolve(res!)),
      );
    });
  }

  close(): void {
    this.#client.close();
  }
}

export function utf8(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

export function text(b: Uint8Array | undefined): string {
  return b === undefined ? '' : new TextDecoder().decode(b);
}
