// Benchmark: publish throughput of the server API over the in-memory adapters — the service
// called directly, then HTTP (uWS, loopback, keep-alive, closed loop) and gRPC (grpc-js client),
// each with a fixed number of requests in flight. Client and server share this process and its
// core, so the transport figures are a floor, not a capacity.
// Run: `node --import tsx services/api/src/api.bench.ts [--smoke]`.
import { Agent, request } from 'node:http';
import * as grpc from '@grpc/grpc-js';
import {
  ChannelSequencer,
  MemoryBroker,
  MemoryControlBus,
  MemoryHistoryStore,
  MemoryPresenceStore,
  defaultConfig,
} from '@rotor/core';
import type { RotorConfig } from '@rotor/core';
import { api, grpcServiceDefinition } from '@rotor/proto';
import type { us_listen_socket } from 'uWebSockets.js';
import { createApiService } from './service.ts';
import { mountHttpApi } from './http.ts';
import { startGrpcApi } from './grpc.ts';
import { loadNativeUws } from './uws.ts';

const smoke = process.argv.includes('--smoke');
const N = smoke ? 500 : 20_000;
const CONCURRENCY = 16;
const KEY = 'bench-key';

const base = defaultConfig('bench');
const config: RotorConfig = {
  ...base,
  httpApi: { ...base.httpApi, key: KEY },
  grpcApi: { ...base.grpcApi, enabled: true, address: '127.0.0.1', port: 0, key: KEY },
  channel: {
    ...base.channel,
    withoutNamespace: { ...base.channel.withoutNamespace, historySize: 100, historyTtlMs: 300_000 },
    namespaces: [{ ...base.channel.withoutNamespace, name: 'nohist' }],
  },
};

const broker = new MemoryBroker();
const history = new MemoryHistoryStore({ sweepIntervalMs: 0 });
const presence = new MemoryPresenceStore({ sweepIntervalMs: 0 });
const publisher = new ChannelSequencer({ history, broker, sweepIntervalMs: 0 });
const controlBus = new MemoryControlBus();
const service = createApiService({ config, publisher, history, presence, controlBus });
const data = new TextEncoder().encode(JSON.stringify({ text: 'x'.repeat(100) }));

function report(label: string, ops: number, startNs: bigint): void {
  const s = Number(process.hrtime.bigint() - startNs) / 1e9;
  console.log(`${label.padEnd(44)} ${Math.round(ops / s).toString().padStart(8)} req/s  (${ops} in ${s.toFixed(2)} s)`);
}

async function closedLoop(n: number, one: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < n) await one(next++);
    }),
  );
}

// 1. The service directly.
for (const [label, channel] of [
  ['service.publish, history', 'bench'],
  ['service.publish, no history', 'nohist:bench'],
] as const) {
  const start = process.hrtime.bigint();
  await closedLoop(N * 5, async () => {
    await service.publish({ channel, data });
  });
  report(label, N * 5, start);
}

// 2. HTTP.
const uws = loadNativeUws();
const app = uws.App();
mountHttpApi(app, service, config);
const listen = await new Promise<us_listen_socket>((resolve, reject) =>
  app.listen('127.0.0.1', 0, (t) => (t === false ? reject(new Error('listen failed')) : resolve(t))),
);
const httpPort = uws.us_socket_local_port(listen as never);
const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
const body = Buffer.from(`{"channel":"bench-http","data":${new TextDecoder().decode(data)}}`);
const post = (): Promise<void> =>
  new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: httpPort, method: 'POST', path: '/api/publish', agent, headers: { 'X-API-Key': KEY, 'Content-Length': body.length } },
      (res) => {
        if (res.statusCode !== 200) reject(new Error(`HTTP ${res.statusCode}`));
        res.resume();
        res.on('end', resolve);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
{
  const start = process.hrtime.bigint();
  await closedLoop(N, post);
  report(`HTTP POST /api/publish (${CONCURRENCY} in flight)`, N, start);
}
agent.destroy();
uws.us_listen_socket_close(listen);
(app as typeof app & { close(): void }).close();

// 3. gRPC.
const grpcApi = await startGrpcApi(service, config);
const Client = grpc.makeGenericClientConstructor(grpcServiceDefinition(api.CentrifugoApiMethods) as unknown as grpc.ServiceDefinition, 'CentrifugoApi');
const client = new Client(`127.0.0.1:${grpcApi.port}`, grpc.credentials.createInsecure());
const md = new grpc.Metadata();
md.set('authorization', `apikey ${KEY}`);
const publish = (client as unknown as { Publish: (r: unknown, m: grpc.Metadata, cb: (e: Error | null) => void) => void }).Publish.bind(client);
{
  const start = process.hrtime.bigint();
  await closedLoop(N, () => new Promise<void>((resolve, reject) => publish({ channel: 'bench-grpc', data }, md, (e) => (e ? reject(e) : resolve()))));
  report(`gRPC Publish (${CONCURRENCY} in flight)`, N, start);
}
client.close();
await grpcApi.close();
publisher.close();
await Promise.all([broker.close(), history.close(), presence.close(), controlBus.close()]);
