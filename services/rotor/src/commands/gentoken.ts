// rotor gentoken: prints an HS256 connection (or subscription) JWT signed with the config's HMAC
// secret — what an application backend would issue. For development and tests.
import { parseDuration, signHmacToken } from '@rotor/core';
import type { TokenConfig } from '@rotor/core';
import { CommandError, ExitCode, UsageError, stringOption, stringsOption, type Command } from '../command.ts';
import { loadCliConfig } from '../config.ts';

function ttlSeconds(text: string): number {
  if (/^\d+$/.test(text)) return Number(text);
  const ms = parseDuration(text);
  if (ms === null || ms < 0) throw new UsageError(`--ttl: expected seconds or a duration such as "1h", got "${text}"`);
  return Math.round(ms / 1000);
}

function jsonOption(name: string, text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new UsageError(`--${name}: invalid JSON: ${(err as Error).message}`);
  }
}

/** The claims every token carries: user id (under the configured claim), iat, exp (ttl > 0), aud/iss when configured. */
export function baseClaims(settings: TokenConfig, user: string, ttlSeconds: number, nowSeconds = Math.floor(Date.now() / 1000)): Record<string, unknown> {
  const claims: Record<string, unknown> = { [settings.userIdClaim]: user, iat: nowSeconds };
  if (ttlSeconds > 0) claims['exp'] = nowSeconds + ttlSeconds;
  if (settings.audience !== '') claims['aud'] = settings.audience;
  if (settings.issuer !== '') claims['iss'] = settings.issuer;
  return claims;
}

export const gentoken: Command = {
  name: 'gentoken',
  summary: 'Print an HS256 connection JWT signed with the config\'s HMAC secret',
  usage: '--user USER [--ttl SECONDS] [--config FILE] [--channel CH]... [--info JSON] [--subscription CH [--client ID]]',
  details: [
    'Options:',
    '  -u, --user USER        user id (sub claim); "" for an anonymous token',
    '  -t, --ttl TTL          lifetime in seconds or as a duration ("1h"); 0 = no expiry (default 3600)',
    '  -c, --config FILE      config file (default: ROTOR_CONFIG); ROTOR_* variables apply',
    '      --channel CH       server-side channel (channels claim); repeatable',
    '      --info JSON        connection info (info claim)',
    '      --meta JSON        server-only meta claim',
    '      --subscription CH  issue a subscription token for channel CH instead',
    '      --client ID        with --subscription: bind the token to this client id',
    '',
    'aud/iss are set from client.token.audience/issuer when configured. Subscription tokens use',
    'client.subscription_token settings when that section is enabled.',
  ].join('\n'),
  options: {
    user: { type: 'string', short: 'u' },
    ttl: { type: 'string', short: 't' },
    config: { type: 'string', short: 'c' },
    channel: { type: 'string', multiple: true },
    info: { type: 'string' },
    meta: { type: 'string' },
    subscription: { type: 'string' },
    client: { type: 'string' },
  },
  async run(args, ctx) {
    const user = stringOption(args, 'user');
    if (user === undefined) throw new UsageError('--user is required');
    const ttl = ttlSeconds(stringOption(args, 'ttl') ?? '3600');
    const channels = stringsOption(args, 'channel');
    const info = jsonOption('info', stringOption(args, 'info'));
    const meta = jsonOption('meta', stringOption(args, 'meta'));
    const subChannel = stringOption(args, 'subscription');
    const client = stringOption(args, 'client');
    if (subChannel === undefined && client !== undefined) throw new UsageError('--client needs --subscription');
    if (subChannel !== undefined && (channels.length > 0 || meta !== undefined)) throw new UsageError('--channel and --meta belong to connection tokens');

    const config = loadCliConfig(ctx, stringOption(args, 'config'));
    const settings = subChannel !== undefined && config.client.subscriptionToken.enabled ? config.client.subscriptionToken : config.client.token;
    const secretPath = settings === config.client.token ? 'client.token.hmac_secret_key' : 'client.subscription_token.hmac_secret_key';
    if (settings.hmacSecretKey === '') throw new CommandError(`${secretPath} is not set (in the config file or ROTOR_${secretPath.replaceAll('.', '_').toUpperCase()})`);

    const claims = baseClaims(settings, user, ttl);
    if (info !== undefined) claims['info'] = info;
    if (subChannel !== undefined) {
      claims['channel'] = subChannel;
      if (client !== undefined) claims['client'] = client;
    } else {
      if (channels.length > 0) claims['channels'] = channels;
      if (meta !== undefined) claims['meta'] = meta;
    }
    ctx.stdout(`${await signHmacToken(claims, settings.hmacSecretKey)}\n`);
    return ExitCode.ok;
  },
};
