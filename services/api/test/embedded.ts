// The embedded wiring under test: one gateway (uWS app, WebSocket endpoint) with the HTTP API
// mounted on the same app through its `extraRoutes` hook, plus the gRPC API, all over one set of
// memory adapters — the shape `rotor start` runs. Real centrifuge-js clients connect to it.
import {
  ChannelSequencer,
  JoseTokenVerifier,
  MemoryBroker,
  MemoryControlBus,
  MemoryHistoryStore,
  MemoryPresenceStore,
  signHmacToken,
  silentLogger,
} from '@rotor/core';
import type { RotorConfig } from '@rotor/core';
import { startGateway } from '@rotor/gateway';
import type { Gateway } from '@rotor/gateway';
import { Centrifuge } from 'centrifuge';
import { Registry } from 'prom-client';
import WebSocket from 'ws';
import { createApiService, mountHttpApi, startGrpcApi } from '../src/index.ts';
import type { ApiService, GrpcApi } from '../src/index.ts';
import { testConfig } from './harness.ts';

export const SECRET = 'embedded-test-secret-0123456789abcdef';

export interface Embedded {
  config: RotorConfig;
  gateway: Gateway;
  service: ApiService;
  registry: Registry;
  wsUrl: string;
  httpUrl: string;
  grpcPort: number;
  /** A centrifuge-js client (not yet connected) for `user`; disconnected on close(). */
  client(user: string): Centrifuge;
  close(): Promise<void>;
}

export async function startEmbedded(): Promise<Embedded> {
  const config = testConfig({
    client: { token: { hmac_secret_key: SECRET } },
    channel: {
      namespaces: [
        {
          name: 'chat',
          allow_subscribe_for_client: true,
          presence: true,
          history_size: 100,
          history_ttl: '300s',
          allow_recovery: true,
        },
      ],
    },
  });
  const registry = new Registry();
  const broker = new MemoryBroker();
  const history = new MemoryHistoryStore({ sweepIntervalMs: 0 });
  const presence = new MemoryPresenceStore({ sweepIntervalMs: 0 });
  const publisher = new ChannelSequencer({ history, broker, sweepIntervalMs: 0 });
  const controlBus = new MemoryControlBus();
  const service = createApiService({ config, publisher, history, presence, controlBus, registry });
  const gateway = await startGateway({
    config,
    broker,
    history,
    presence,
    publisher,
    controlBus,
    tokenVerifier: new JoseTokenVerifier(config.client),
    log: silentLogger(),
    registry,
    extraRoutes: (app) => mountHttpApi(app, service, config),
  });
  const clients: Centrifuge[] = [];
  let grpcApi: GrpcApi | null = null;
  const close = async (): Promise<void> => {
    for (const c of clients) c.disconnect();
    await grpcApi?.close();
    await gateway.close();
    publisher.close();
    await Promise.all([broker.close(), history.close(), presence.close(), controlBus.close()]);
  };
  try {
    grpcApi = await startGrpcApi(service, config);
  } catch (err) {
    await close();
    throw err;
  }
  return {
    config,
    gateway,
    service,
    registry,
    wsUrl: `ws://127.0.0.1:${gateway.port}/connection/websocket`,
    httpUrl: `http://127.0.0.1:${gateway.port}`,
    grpcPort: grpcApi.port,
    client(user: string): Centrifuge {
      const c = new Centrifuge(`ws://127.0.0.1:${gateway.port}/connection/websocket`, {
        websocket: WebSocket,
        getToken: () => signHmacToken({ sub: user, exp: Math.floor(Date.now() / 1000) + 3600 }, SECRET),
      });
      clients.push(c);
      return c;
    },
    close,
  };
}
