// Rotor (the system under test), embedded mode: the real `rotor start --config <file>` — every
// role in one process over the in-memory adapters (services/rotor/src/embedded/server.ts), launched
// like `pnpm start` (same node flags). Clients speak the Centrifugo client protocol in JSON or
// protobuf; fanout publishers are Centrifugo clients using the client-side publish command; the
// publish scenario drives the HTTP and gRPC server API.
import { join } from 'node:path';
import { startRotorCli } from '../../lib/rotor-cli.ts';
import { grpcApiClient, httpApiClient } from './api-client.ts';
import { rotorNodeFlags, writeRotorConfig } from './config.ts';
import type { RunningTarget, TargetFactory, TargetStartOptions } from '../../target.ts';

function port(fields: Record<string, unknown>, key: string): number {
  const v = fields[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new Error(`rotor: the ready line has no ${key}: ${JSON.stringify(fields)}`);
  return v;
}

export const rotorTarget: TargetFactory = {
  name: 'rotor',
  description: 'Rotor embedded (`rotor start`: gateway + in-memory adapters + server API, one process), Centrifugo protocol',
  subject: true,
  formats: ['json', 'protobuf'],
  scenarios: ['fanout', 'idle', 'connect', 'publish'],
  unavailable: () => null,
  async start(opts: TargetStartOptions): Promise<RunningTarget> {
    const format = opts.format === 'protobuf' ? 'protobuf' : 'json';
    const conf = writeRotorConfig(opts.tmpDir, opts.payloadSize);
    const { handle, ready } = await startRotorCli(['start', '--config', conf.file], {
      nodeFlags: rotorNodeFlags(),
      readyMessage: 'rotor started',
      logFile: join(opts.tmpDir, 'rotor.log'),
      log: opts.log,
      label: 'rotor',
    });
    try {
      const httpPort = port(ready, 'httpPort');
      const grpcPort = port(ready, 'grpcPort');
      return {
        endpoint: { host: '127.0.0.1', port: httpPort, extra: { secret: conf.secret } },
        processes: [{ label: 'rotor', pid: handle.pid }],
        driverModule: new URL('./driver.ts', import.meta.url).href,
        format,
        api: {
          transports: ['http', 'grpc'],
          channelName: (i: number) => `bench.${i}`,
          open: (transport: string) => Promise.resolve(transport === 'grpc' ? grpcApiClient('127.0.0.1', grpcPort, conf.apiKey) : httpApiClient('127.0.0.1', httpPort, conf.apiKey)),
        },
        stop: () => handle.stop(),
      };
    } catch (err) {
      await handle.stop();
      throw err;
    }
  },
};
