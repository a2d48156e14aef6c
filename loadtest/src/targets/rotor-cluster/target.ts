// Rotor cluster mode on this machine: the real `rotor cluster` supervisor (what `pnpm cluster`
// runs) — nats-server with JetStream, history shards, gateways sharing one port (the kernel spreads
// connections over them with SO_REUSEPORT) and the api, each its own process. Clients and
// publishers use the gateways' shared port exactly as with the `rotor` target; the publish scenario
// drives the api role's HTTP and gRPC ports.
//
// CPU and RSS count every role and nats-server, each listed in the report; the supervisor itself
// (it only relays log lines; a real deployment has no such process) is not counted.
import { join } from 'node:path';
import { killIfOurs, trackPid, untrackPid } from '../../lib/child-server.ts';
import { startRotorCli } from '../../lib/rotor-cli.ts';
import { natsServerBinary } from '../nats/target.ts';
import { grpcApiClient, httpApiClient } from '../rotor/api-client.ts';
import { rotorNodeFlags, writeRotorConfig } from '../rotor/config.ts';
import type { RunningTarget, ServerProcess, TargetFactory, TargetStartOptions } from '../../target.ts';

let shape = { gateways: 2, shards: 2 };

/** Gateways and history shards of the cluster (the CLI's --cluster-gateways / --cluster-shards). */
export function configureRotorCluster(s: { gateways?: number; shards?: number }): void {
  shape = { gateways: s.gateways ?? shape.gateways, shards: s.shards ?? shape.shards };
}

function port(fields: Record<string, unknown>, key: string): number {
  const v = fields[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new Error(`rotor cluster: the ready line has no ${key}: ${JSON.stringify(fields)}`);
  return v;
}

/** Processes in a stable order: nats, shards, api, gateways. */
function processesOf(pids: Record<string, unknown>): ServerProcess[] {
  const rank = (name: string) => (name === 'nats' ? 0 : name.startsWith('history-') ? 1 : name === 'api' ? 2 : 3);
  return Object.entries(pids)
    .filter((e): e is [string, number] => typeof e[1] === 'number')
    .sort((a, b) => rank(a[0]) - rank(b[0]) || a[0].localeCompare(b[0], 'en', { numeric: true }))
    .map(([label, pid]) => ({ label, pid }));
}

export const rotorClusterTarget: TargetFactory = {
  name: 'rotor-cluster',
  description: 'Rotor cluster (`rotor cluster`: nats-server + JetStream, history shards, gateways on one port, api), Centrifugo protocol',
  subject: true,
  formats: ['json', 'protobuf'],
  scenarios: ['fanout', 'idle', 'connect', 'publish'],
  unavailable: () => (natsServerBinary() ? null : 'nats-server not found (install it, or pass --nats-server PATH)'),
  async start(opts: TargetStartOptions): Promise<RunningTarget> {
    const format = opts.format === 'protobuf' ? 'protobuf' : 'json';
    const nats = natsServerBinary();
    if (nats === null) throw new Error('nats-server not found');
    const conf = writeRotorConfig(opts.tmpDir, opts.payloadSize, {
      rotor: { nats: { url: 'nats://127.0.0.1:0' }, api_port: 0, history: { http_port: 0 } },
    });
    const { gateways, shards } = shape;
    const { handle, ready } = await startRotorCli(
      ['cluster', '--config', conf.file, '--gateways', String(gateways), '--shards', String(shards), '--dir', join(opts.tmpDir, 'rotor')],
      {
        nodeFlags: rotorNodeFlags(),
        env: { NATS_SERVER_BIN: nats, NO_COLOR: '1' },
        readyMessage: 'cluster ready',
        logFile: join(opts.tmpDir, 'rotor-cluster.log'),
        timeoutMs: 120_000,
        log: opts.log,
        label: 'rotor-cluster',
        // Gateways drain, then the api, the shards and nats-server stop, in that order.
        stopGraceMs: 30_000,
      },
    );
    const processes = processesOf((ready['pids'] as Record<string, unknown> | undefined) ?? {});
    // Every process of this cluster has the run's temp dir on its command line (config, store).
    for (const p of processes) trackPid(p.pid, opts.tmpDir);
    const stop = async () => {
      await handle.stop();
      // The supervisor stops its processes before it exits; whatever it left (it was killed) goes.
      for (const p of processes) {
        killIfOurs(p.pid, opts.tmpDir, 'SIGKILL');
        untrackPid(p.pid);
      }
    };
    try {
      if (processes.filter((p) => p.label.startsWith('gateway-')).length !== gateways) throw new Error(`rotor cluster: expected ${gateways} gateways in ${JSON.stringify(ready['pids'])}`);
      const httpPort = port(ready, 'httpPort');
      const apiPort = port(ready, 'apiPort');
      const grpcPort = port(ready, 'grpcPort');
      return {
        endpoint: { host: '127.0.0.1', port: httpPort, extra: { secret: conf.secret } },
        processes,
        driverModule: new URL('../rotor/driver.ts', import.meta.url).href,
        format,
        api: {
          transports: ['http', 'grpc'],
          channelName: (i: number) => `bench.${i}`,
          open: (transport: string) => Promise.resolve(transport === 'grpc' ? grpcApiClient('127.0.0.1', grpcPort, conf.apiKey) : httpApiClient('127.0.0.1', apiPort, conf.apiKey)),
        },
        stop,
      };
    } catch (err) {
      await stop();
      throw err;
    }
  },
};
