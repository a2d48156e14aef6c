// The Rotor benchmark server: one gateway over the in-memory adapters (the embedded assembly), in
// its own process. argv[2]: a Rotor/Centrifugo JSON config file written by target.ts.
// Until `rotor start` lands this is how the harness runs Rotor; the target switches to the real
// CLI then (see README, "Rotor targets").
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
import { exitWithParent, reportReady } from '../../lib/child-server.ts';

const file = process.argv[2];
if (!file) throw new Error('usage: server.ts <config.json>');
const { config } = loadConfig({ file, env: {}, hostname: 'loadtest' });
const broker = new MemoryBroker();
const history = new MemoryHistoryStore({});
const presence = new MemoryPresenceStore({});
const publisher = new ChannelSequencer({ history, broker });
const gateway = await startGateway({
  config,
  broker,
  history,
  presence,
  publisher,
  controlBus: new MemoryControlBus(),
  tokenVerifier: new JoseTokenVerifier(config.client),
  log: silentLogger(),
});
exitWithParent(() => {
  void gateway.close();
});
reportReady(gateway.port);
