// The INSECURE development configuration `rotor start` runs when it is given no configuration at
// all (no --config, no ROTOR_CONFIG, no ROTOR_* configuration variable), or with --dev.
//
// It exists so that `pnpm install && pnpm start` gives a working server a new user can try with
// curl and the centrifuge SDK at once: anonymous clients may connect, subscribe to channels
// without namespace and to `chat:` channels (history, presence, join/leave, recovery, and client
// publish there for the demo page). The server API still needs a key, generated fresh for every
// run and printed by the start command. It listens on 127.0.0.1 only.
//
// The settings travel as ROTOR_* variables (whole sections as JSON) placed *under* the user's
// environment, so the real loader validates them and, with --dev, any ROTOR_* variable the user
// sets still wins.
import { randomBytes } from 'node:crypto';
import { configEnvNames, nonConfigEnvVars } from '@rotor/core';

/** Secrets generated for one development run. */
export interface DevSecrets {
  /** http_api.key and grpc_api.key. */
  readonly apiKey: string;
  /** client.token.hmac_secret_key. */
  readonly hmacSecret: string;
}

/** The channel the demo page and the printed examples use. */
export const DEMO_CHANNEL = 'chat:lobby';

/** 32 random bytes, URL-safe: pastes into headers, shells and JSON without escaping. */
function secret(): string {
  return randomBytes(32).toString('base64url');
}

export function generateDevSecrets(): DevSecrets {
  return { apiKey: secret(), hmacSecret: secret() };
}

/** The development configuration as a Centrifugo-style tree (file keys). */
export function devConfigTree(secrets: DevSecrets): Record<string, Record<string, unknown>> {
  return {
    client: {
      allow_anonymous_connect_without_token: true,
      token: { hmac_secret_key: secrets.hmacSecret },
      // The demo page is served from the same origin; browsers elsewhere are refused.
      allowed_origins: ['http://localhost:*', 'http://127.0.0.1:*', 'http://[::1]:*'],
    },
    channel: {
      without_namespace: {
        allow_subscribe_for_client: true,
        allow_subscribe_for_anonymous: true,
      },
      namespaces: [
        {
          name: 'chat',
          presence: true,
          join_leave: true,
          force_push_join_leave: true,
          history_size: 100,
          history_ttl: '600s',
          force_recovery: true,
          allow_subscribe_for_client: true,
          allow_subscribe_for_anonymous: true,
          allow_publish_for_subscriber: true,
          allow_publish_for_anonymous: true,
          allow_presence_for_subscriber: true,
          allow_presence_for_anonymous: true,
          allow_history_for_subscriber: true,
          allow_history_for_anonymous: true,
        },
      ],
    },
    http_server: { address: '127.0.0.1' },
    http_api: { key: secrets.apiKey },
    // Off unless asked for (--dev with ROTOR_GRPC_API_ENABLED=true): a second fixed port is one
    // more thing that can be taken on a developer's machine.
    grpc_api: { address: '127.0.0.1', key: secrets.apiKey },
    prometheus: { enabled: true },
    health: { enabled: true },
    // Ctrl-C should not wait ten seconds for two demo tabs.
    rotor: { drain_window: '1s' },
  };
}

/** The development configuration as ROTOR_<SECTION> variables holding JSON. */
export function devConfigEnv(secrets: DevSecrets): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [section, value] of Object.entries(devConfigTree(secrets))) env[`ROTOR_${section.toUpperCase()}`] = JSON.stringify(value);
  return env;
}

/** The configuration variables present in `env` (ROTOR_CONFIG and non-config ROTOR_* excluded). */
export function configVariablesIn(env: Readonly<Record<string, string | undefined>>): string[] {
  const known = new Set(configEnvNames());
  return Object.keys(env)
    .filter((name) => env[name] !== undefined && known.has(name) && !nonConfigEnvVars.has(name))
    .sort();
}
