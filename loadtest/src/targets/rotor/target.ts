// Rotor (the system under test): a gateway with in-memory adapters in one child process, spoken to
// with the Centrifugo client protocol in JSON or protobuf. Publishers are Centrifugo clients using
// the client-side publish command (the server API joins when the embedded server mounts it).
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { forkServer } from '../../lib/child-server.ts';
import type { RunningTarget, TargetFactory, TargetStartOptions } from '../../target.ts';

export const rotorTarget: TargetFactory = {
  name: 'rotor',
  description: 'Rotor gateway + in-memory adapters (embedded assembly), Centrifugo protocol',
  subject: true,
  formats: ['json', 'protobuf'],
  scenarios: ['fanout', 'idle', 'connect'],
  unavailable: () => null,
  async start(opts: TargetStartOptions): Promise<RunningTarget> {
    const format = opts.format === 'protobuf' ? 'protobuf' : 'json';
    // A fresh secret per run; it only leaves this process in the child's config file (temp dir).
    const secret = randomBytes(24).toString('hex');
    const conf = join(opts.tmpDir, 'rotor.json');
    writeFileSync(
      conf,
      JSON.stringify({
        http_server: { address: '127.0.0.1', port: 0 },
        client: { token: { hmac_secret_key: secret } },
        channel: { without_namespace: { allow_subscribe_for_client: true, allow_publish_for_client: true } },
        websocket: { message_size_limit: Math.max(65_536, opts.payloadSize * 2 + 1024) },
        log: { level: 'error' },
      }),
    );
    const { handle, port } = await forkServer(new URL('./server.ts', import.meta.url).href, [conf]);
    return {
      endpoint: { host: '127.0.0.1', port, extra: { secret } },
      processes: [{ label: 'rotor', pid: handle.pid }],
      driverModule: new URL('./driver.ts', import.meta.url).href,
      format,
      stop: () => handle.stop(),
    };
  },
};
