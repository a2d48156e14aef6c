// What both Rotor targets share: the configuration file (fresh secrets per run, every port 0,
// channels `bench.N` open to clients for subscribe and publish) and the node flags the processes
// are launched with.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROTOR_NODE_FLAGS } from '@rotor/cli';

export interface RotorRunConfig {
  file: string;
  secret: string;
  apiKey: string;
}

let nodeFlags: readonly string[] | null = null;

/** Node flags for Rotor processes instead of the launch defaults (the CLI's --rotor-flags). */
export function configureRotorNodeFlags(flags: readonly string[] | null): void {
  nodeFlags = flags;
}

/** The flags Rotor processes run with: what `pnpm start` / `pnpm cluster` use, unless overridden. */
export function rotorNodeFlags(): readonly string[] {
  return nodeFlags ?? ROTOR_NODE_FLAGS;
}

export function writeRotorConfig(tmpDir: string, payloadSize: number, extra: Record<string, unknown> = {}): RotorRunConfig {
  // Fresh secrets per run; they only leave this process in the config file (private temp dir).
  const secret = randomBytes(24).toString('hex');
  const apiKey = randomBytes(24).toString('hex');
  const file = join(tmpDir, 'rotor.json');
  writeFileSync(
    file,
    JSON.stringify({
      http_server: { address: '127.0.0.1', port: 0 },
      client: { token: { hmac_secret_key: secret } },
      channel: { without_namespace: { allow_subscribe_for_client: true, allow_publish_for_client: true } },
      http_api: { key: apiKey },
      grpc_api: { enabled: true, address: '127.0.0.1', port: 0, key: apiKey },
      websocket: { message_size_limit: Math.max(65_536, payloadSize * 2 + 1024) },
      // Info: the "rotor started" / "cluster ready" lines carry the ports; nothing is logged per
      // connection or message at this level.
      log: { level: 'info' },
      // The harness closes its clients before stopping the server: nothing to drain.
      shutdown: { timeout: '10s' },
      ...extra,
      rotor: { drain_window: '1s', ...((extra['rotor'] as object | undefined) ?? {}) },
    }),
    { mode: 0o600 },
  );
  return { file, secret, apiKey };
}
