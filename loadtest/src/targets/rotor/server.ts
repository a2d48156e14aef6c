// The Rotor benchmark server: the embedded shape in its own process — one gateway over the
// in-memory adapters, the HTTP server API mounted on the gateway's app, and the gRPC server API.
// argv[2]: a Rotor/Centrifugo JSON config file written by target.ts.
// Until `rotor start` lands this is how the harness runs Rotor; the target switches to the real
// CLI then (see README, "Adding a target").
import {
  ChannelSequencer,
  JoseTokenVerifier,
  MemoryBroker,
  MemoryControlBus,
  MemoryHistoryStore,
  MemoryPresenceStore,
  loadConfig,
  silentLogger,
} from '@rotor/core';
import { startGateway } from '@rotor/gateway';
import { createApiService, mountHttpApi, startGrpcApi } from '@rotor/api';
import { exitWithParent, reportReady } from '../../lib/child-server.ts';

const file = process.argv[2];
if (!file) throw new Error('usage: server.ts <config.json>');
const { config } = loadConfig({ file, env: {}, hostname: 'loadtest' });
const log = silentLogger();
const broker = new MemoryBroker();
const history = new MemoryHistoryStore({});
const presence = new MemoryPresenceStore({});
const publisher = new ChannelSequencer({ history, broker });
const controlBus = new MemoryControlBus();
const api = createApiService({ config, publisher, history, presence, controlBus, log });
const gateway = await startGateway({
  config,
  broker,
  history,
  presence,
  publisher,
  controlBus,
  tokenVerifier: new JoseTokenVerifier(config.client),
  log,
  extraRoutes: (app) => mountHttpApi(app, api, config, { log }),
});
const grpc = await startGrpcApi(api, config, { log });
exitWithParent(() => {
  void grpc.close();
  void gateway.close();
});
reportReady(gateway.port, { grpcPort: grpc.port });
