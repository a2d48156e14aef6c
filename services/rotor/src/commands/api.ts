// rotor api — the server API role of a cluster: startApiRole (HTTP on rotor.api_port, gRPC on
// grpc_api.port when grpc_api.enabled) over the NATS adapters. Publications go to their channel's
// history shard (or straight to the channel subject without history); disconnect/unsubscribe/…
// go out on the control subject; info and channels gather the gateways' heartbeats and answers.
import { randomUUID } from 'node:crypto';
import { createLogger } from '@rotor/core';
import type { Logger, RotorConfig } from '@rotor/core';
import { startApiRole } from '@rotor/api';
import type { ApiRole } from '@rotor/api';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { stringOption, type CliContext, type Command } from '../command.ts';
import { loadCliConfig } from '../config.ts';
import { runRole, type RunningRole } from '../roles/lifecycle.ts';
import { buildClusterAdapters } from '../roles/nats-adapters.ts';
import { connectBehindStandIn, withSection } from '../roles/stand-in.ts';
import { rotorVersion } from './version.ts';

export const api: Command = {
  name: 'api',
  summary: 'Run the server API role: HTTP (rotor.api_port) and gRPC (cluster mode)',
  usage: '[--config FILE]',
  details: [
    'Options:',
    '  -c, --config FILE  config file, JSON or YAML (default: ROTOR_CONFIG); ROTOR_* variables apply',
    '',
    'HTTP API, /health (ready), /health/live and /metrics on rotor.api_port (default 9000; ROTOR_API_PORT), gRPC on',
    'grpc_api.port (default 10000) when grpc_api.enabled. NATS is rotor.nats.url (ROTOR_NATS_URL).',
    'While NATS is unreachable /health is 503 and calls fail with a temporary error (code 100).',
    'opentelemetry.enabled + opentelemetry.api: one span per API call, exported over OTLP/HTTP (protobuf; OTEL_EXPORTER_OTLP_PROTOCOL=http/json for JSON)',
    '(OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SERVICE_NAME, … ; default http://localhost:4318/v1/traces).',
    'SIGTERM/SIGINT stop it (exit 0).',
  ].join('\n'),
  options: { config: { type: 'string', short: 'c' } },
  async run(args, ctx) {
    const config = loadCliConfig(ctx, stringOption(args, 'config'));
    const log = createLogger({ level: config.log.level, fields: { role: 'api', node: config.rotor.nodeName } });
    return runRole(log, config.shutdown.timeoutMs, (signal) => startApi(config, log, signal, ctx.env));
  },
};

async function startApi(config: Readonly<RotorConfig>, log: Logger, signal: AbortSignal, env: CliContext['env']): Promise<RunningRole> {
  const nodeId = randomUUID();
  const { session, port, release } = await connectBehindStandIn(config, log, 'api', { address: config.httpServer.address, port: config.rotor.apiPort }, signal);
  // uWS refuses a second listener on a port within one process: the stand-in goes first.
  release();
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const adapters = buildClusterAdapters(session, config, log, { nodeId });
  let role: ApiRole;
  try {
    role = await startApiRole(withSection(config, 'rotor', { ...config.rotor, apiPort: port }), {
      publisher: adapters.publisher,
      history: adapters.history,
      presence: adapters.presence,
      controlBus: adapters.controlBus,
      registry,
      log,
      healthChecks: [() => session.readiness()],
      tracing: { env, instanceId: nodeId, version: rotorVersion() },
    });
  } catch (err) {
    await adapters.close();
    await session.close();
    throw err;
  }
  log.info('rotor started', { mode: 'cluster', role: 'api', pid: process.pid, nodeId, httpPort: role.httpPort, grpcPort: role.grpcPort, nats: session.nc.getServer() });
  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      await role.close();
      await adapters.close();
      await session.close();
    })());
  return { drain: stop, close: stop };
}
