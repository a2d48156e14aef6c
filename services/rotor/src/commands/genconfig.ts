// rotor genconfig: writes a starter configuration in Centrifugo v6 JSON form with fresh random
// secrets (client.token.hmac_secret_key, http_api.key, grpc_api.key) and one namespace.
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError, loadConfig } from '@rotor/core';
import { CommandError, ExitCode, flag, stringOption, type Command } from '../command.ts';

/** 32 random bytes, URL-safe: usable in headers, env vars and JSON without escaping. */
function secret(): string {
  return randomBytes(32).toString('base64url');
}

export function starterConfig(): Record<string, unknown> {
  return {
    client: {
      token: { hmac_secret_key: secret() },
      allowed_origins: ['http://localhost:8000'],
    },
    http_server: { port: 8000 },
    http_api: { key: secret() },
    grpc_api: { enabled: true, port: 10000, key: secret() },
    channel: {
      without_namespace: {},
      namespaces: [
        {
          name: 'chat',
          presence: true,
          join_leave: true,
          force_push_join_leave: true,
          history_size: 100,
          history_ttl: '300s',
          force_recovery: true,
          allow_subscribe_for_client: true,
          allow_publish_for_subscriber: true,
          allow_presence_for_subscriber: true,
          allow_history_for_subscriber: true,
        },
      ],
    },
  };
}

export const genconfig: Command = {
  name: 'genconfig',
  summary: 'Write a starter config file with fresh random secrets',
  usage: '[--output FILE] [--force]',
  details: [
    'Options:',
    '  -o, --output FILE  where to write (default: config.json); written with mode 0600',
    '  -f, --force        overwrite FILE if it exists',
  ].join('\n'),
  options: {
    output: { type: 'string', short: 'o' },
    force: { type: 'boolean', short: 'f' },
  },
  async run(args, ctx) {
    const file = resolve(ctx.cwd, stringOption(args, 'output') ?? 'config.json');
    const text = `${JSON.stringify(starterConfig(), null, 2)}\n`;
    try {
      // 'wx' makes "refuse to overwrite" atomic: no window between a check and the write.
      writeFileSync(file, text, { mode: 0o600, flag: flag(args, 'force') ? 'w' : 'wx' });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') throw new CommandError(`${file} already exists (use --force to overwrite)`);
      throw new CommandError(`cannot write ${file}: ${(err as Error).message}`);
    }
    // The file must load cleanly; a failure here is a bug in this command, not the user's doing.
    try {
      const { warnings } = loadConfig({ file, env: {} });
      if (warnings.length > 0) throw new ConfigError(warnings);
    } catch (err) {
      rmSync(file, { force: true });
      throw err;
    }
    ctx.stdout(`wrote ${file}\n`);
    return ExitCode.ok;
  },
};
