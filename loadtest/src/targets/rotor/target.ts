// Rotor (the system under test): the embedded shape (gateway + in-memory adapters + HTTP and gRPC
// server API) in one child process, spoken to with the Centrifugo client protocol in JSON or
// protobuf. Fanout publishers are Centrifugo clients using the client-side publish command; the
// publish scenario drives the server API.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { forkServer } from '../../lib/child-server.ts';
import { grpcApiClient, httpApiClient } from './api-client.ts';
import type { RunningTarget, TargetFactory, TargetStartOptions } from '../../target.ts';

export const rotorTarget: TargetFactory = {
  name: 'rotor',
  description: 'Rotor gateway + in-memory adapters (embedded assembly), Centrifugo protocol',
  subject: true,
  formats: ['json', 'protobuf'],
  scenarios: ['fanout', 'idle', 'connect', 'publish'],
  unavailable: () => null,
  async start(opts: TargetStartOptions): Promise<RunningTarget> {
    const format = opts.format === 'protobuf' ? 'protobuf' : 'json';
    // Fresh secrets per run; they only leave this process in the child's config file (temp dir).
    const secret = randomBytes(24).toString('hex');
    const apiKey = randomBytes(24).toString('hex');
    const conf = join(opts.tmpDir, 'rotor.json');
    writeFileSync(
      conf,
      JSON.stringify({
        http_server: { address: '127.0.0.1', port: 0 },
        client: { token: { hmac_secret_key: secret } },
        channel: { without_namespace: { allow_subscribe_for_client: true, allow_publish_for_client: true } },
        http_api: { key: apiKey },
        grpc_api: { enabled: true, address: '127.0.0.1', port: 0, key: apiKey },
        websocket: { message_size_limit: Math.max(65_536, opts.payloadSize * 2 + 1024) },
        log: { level: 'error' },
      }),
    );
    const { handle, port, extra } = await forkServer(new URL('./server.ts', import.meta.url).href, [conf]);
    const grpcPort = Number(extra['grpcPort']);
    return {
      endpoint: { host: '127.0.0.1', port, extra: { secret } },
      processes: [{ label: 'rotor', pid: handle.pid }],
      driverModule: new URL('./driver.ts', import.meta.url).href,
      format,
      api: {
        transports: ['http', 'grpc'],
        channelName: (i: number) => `bench.${i}`,
        open: (transport: string) => Promise.resolve(transport === 'grpc' ? grpcApiClient('127.0.0.1', grpcPort, apiKey) : httpApiClient('127.0.0.1', port, apiKey)),
      },
      stop: () => handle.stop(),
    };
  },
};
