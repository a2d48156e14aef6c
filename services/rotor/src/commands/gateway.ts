// rotor gateway — the client-facing WebSocket edge of a cluster: startGateway over the NATS
// adapters (channel subjects, history shards, control bus). Several gateway processes may share
// one port on one machine (SO_REUSEPORT).
import { randomUUID } from 'node:crypto';
import { JoseTokenVerifier, createLogger } from '@rotor/core';
import type { Logger, RotorConfig } from '@rotor/core';
import { startGateway } from '@rotor/gateway';
import type { Gateway } from '@rotor/gateway';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { stringOption, type Command } from '../command.ts';
import { loadCliConfig } from '../config.ts';
import { runRole, type RunningRole } from '../roles/lifecycle.ts';
import { buildClusterAdapters } from '../roles/nats-adapters.ts';
import { connectBehindStandIn, withSection } from '../roles/stand-in.ts';

export const gateway: Command = {
  name: 'gateway',
  summary: 'Run the client-facing WebSocket gateway role (cluster mode)',
  usage: '[--config FILE]',
  details: [
    'Options:',
    '  -c, --config FILE  config file, JSON or YAML (default: ROTOR_CONFIG); ROTOR_* variables apply',
    '',
    'Listens on http_server.port: WebSocket /connection/websocket, /health (health.enabled),',
    '/metrics (prometheus.enabled). NATS is rotor.nats.url (ROTOR_NATS_URL); the channel shards are',
    'rotor.history.shards. Until NATS answers the port serves 503; while NATS is disconnected',
    '/health is 503 and publishes fail with a temporary error. SIGTERM/SIGINT drain clients (3001)',
    'over rotor.drain_window, then the process exits 0. Several gateways may share one port.',
  ].join('\n'),
  options: { config: { type: 'string', short: 'c' } },
  async run(args, ctx) {
    const config = loadCliConfig(ctx, stringOption(args, 'config'));
    const log = createLogger({ level: config.log.level, fields: { role: 'gateway', node: config.rotor.nodeName } });
    return runRole(log, config.shutdown.timeoutMs, (signal) => startGatewayRole(config, log, signal));
  },
};

async function startGatewayRole(config: Readonly<RotorConfig>, log: Logger, signal: AbortSignal): Promise<RunningRole> {
  const nodeId = randomUUID();
  const { session, port, release } = await connectBehindStandIn(config, log, 'gateway', config.httpServer, signal);
  // uWS refuses a second listener on a port within one process: the stand-in goes first.
  release();
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const adapters = buildClusterAdapters(session, config, log, { nodeId });
  let gw: Gateway;
  try {
    gw = await startGateway({
      config: withSection(config, 'httpServer', { ...config.httpServer, port }),
      broker: adapters.broker,
      history: adapters.history,
      presence: adapters.presence,
      publisher: adapters.publisher,
      controlBus: adapters.controlBus,
      emulationRelay: adapters.emulationRelay,
      tokenVerifier: new JoseTokenVerifier(config.client),
      log,
      registry,
      nodeId,
      healthChecks: [() => session.readiness()],
    });
  } catch (err) {
    await adapters.close();
    await session.close();
    throw err;
  }
  log.info('rotor started', { mode: 'cluster', role: 'gateway', pid: process.pid, nodeId, httpPort: gw.port, grpcPort: null, nats: session.nc.getServer() });
  const finish = async (): Promise<void> => {
    await adapters.close();
    await session.close();
  };
  return {
    async drain() {
      await gw.drain();
      await finish();
    },
    async close() {
      await gw.close();
      await finish();
    },
  };
}
