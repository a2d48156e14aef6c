// rotor start: the embedded mode — every role in one process over in-memory adapters (see
// embedded/server.ts), until SIGTERM/SIGINT drains it (exit 0; a second signal closes at once).
//
// Which configuration runs:
//   --config FILE / ROTOR_CONFIG        the file, with ROTOR_* variables on top;
//   ROTOR_* configuration variables     those alone (over the defaults);
//   neither (or --dev)                  the INSECURE development configuration (dev-config.ts),
//                                       fresh secrets printed; with --dev, ROTOR_* still apply.
// --port overrides http_server.port in every case (0 = a free port; the port is logged).
import { createLogger, signHmacToken } from '@rotor/core';
import type { Logger, RotorConfig } from '@rotor/core';
import { CommandError, UsageError, flag, stringOption, type CliContext, type Command } from '../command.ts';
import { loadCliConfig } from '../config.ts';
import { configuredSummary, devBanner } from '../embedded/banner.ts';
import { configVariablesIn, devConfigEnv, generateDevSecrets } from '../embedded/dev-config.ts';
import type { DevSecrets } from '../embedded/dev-config.ts';
import { startEmbedded } from '../embedded/server.ts';
import type { EmbeddedServer } from '../embedded/server.ts';
import { baseClaims } from './gentoken.ts';
import { rotorVersion } from './version.ts';

const SAMPLE_TOKEN_TTL_S = 24 * 3600;
/** After a stop, how long open handles may keep the process before it exits anyway. */
const EXIT_GRACE_MS = 2_000;

function parsePort(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) throw new UsageError(`--port: expected 0..65535, got "${text}"`);
  return Number(text);
}

interface Plan {
  config: Readonly<RotorConfig>;
  /** Set in the development configuration. */
  dev: DevSecrets | null;
  /** Where the configuration came from, for the summary. */
  source: string;
}

function plan(ctx: CliContext, file: string | undefined, dev: boolean, port: number | undefined): Plan {
  const path = file ?? (ctx.env['ROTOR_CONFIG'] === '' ? undefined : ctx.env['ROTOR_CONFIG']);
  if (dev && path !== undefined) throw new UsageError('--dev runs the development configuration; it does not combine with --config or ROTOR_CONFIG');
  const useDev = dev || (path === undefined && configVariablesIn(ctx.env).length === 0);
  const secrets = useDev ? generateDevSecrets() : null;
  const env: Record<string, string | undefined> = { ...(secrets === null ? {} : devConfigEnv(secrets)), ...ctx.env };
  if (port !== undefined) env['ROTOR_HTTP_SERVER_PORT'] = String(port);
  const config = loadCliConfig({ ...ctx, env }, path);
  const source = useDev ? 'development configuration' : path !== undefined ? `config ${path}` : 'ROTOR_* environment';
  return { config, dev: secrets, source };
}

async function sampleToken(config: Readonly<RotorConfig>): Promise<string> {
  const settings = config.client.token;
  if (settings.hmacSecretKey === '') return '(none: client.token.hmac_secret_key is empty)';
  return signHmacToken(baseClaims(settings, 'demo', SAMPLE_TOKEN_TTL_S), settings.hmacSecretKey);
}

/** Resolves with the exit code once a signal has stopped the server. */
function serveUntilSignal(server: EmbeddedServer, log: Logger, timeoutMs: number): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    const stop = (code: number): void => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      log.info('rotor stopped', { exitCode: code });
      resolve(code);
      // Exit even if something forgot to close; unref'd, so a clean stop exits at once.
      setTimeout(() => {
        log.warn('handles still open after shutdown; exiting');
        process.exit(code);
      }, EXIT_GRACE_MS).unref();
    };
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) {
        log.warn('second signal: closing at once', { signal });
        server.close().then(
          () => undefined,
          (err: unknown) => log.error('close failed', { error: String(err) }),
        );
        return;
      }
      stopping = true;
      log.info('signal received, draining', { signal });
      const deadline = setTimeout(() => {
        log.error('shutdown did not finish in time', { timeoutMs });
        stop(1);
      }, timeoutMs);
      server.drain().then(
        () => {
          clearTimeout(deadline);
          stop(0);
        },
        (err: unknown) => {
          clearTimeout(deadline);
          log.error('drain failed', { error: String(err) });
          stop(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

export const start: Command = {
  name: 'start',
  summary: 'Run every role in one process (embedded mode); no config = insecure dev setup',
  usage: '[--config FILE] [--dev] [--port PORT]',
  details: [
    'Options:',
    '  -c, --config FILE  config file, JSON or YAML (default: ROTOR_CONFIG); ROTOR_* variables apply',
    '      --dev          the INSECURE development configuration even when ROTOR_* variables are set',
    '                     (they apply on top of it)',
    '  -p, --port PORT    http_server.port (WebSocket, HTTP API, demo page); 0 picks a free port',
    '',
    'With no config file and no ROTOR_* configuration variable, Rotor starts an INSECURE development',
    'configuration (anonymous clients allowed) and prints a fresh API key, a curl command and a',
    'sample token. Through pnpm: pnpm start --config config.json',
    'opentelemetry.enabled + opentelemetry.api: API spans over OTLP/HTTP (protobuf, or http/json) to OTEL_EXPORTER_OTLP_ENDPOINT',
    '(default http://localhost:4318), service.name rotor (OTEL_SERVICE_NAME); see README "Observability".',
  ].join('\n'),
  options: {
    config: { type: 'string', short: 'c' },
    dev: { type: 'boolean' },
    port: { type: 'string', short: 'p' },
  },
  async run(args, ctx) {
    const port = parsePort(stringOption(args, 'port'));
    const { config, dev, source } = plan(ctx, stringOption(args, 'config'), flag(args, 'dev'), port);
    const log = createLogger({ level: config.log.level });

    let server: EmbeddedServer;
    try {
      server = await startEmbedded({ config, log, env: ctx.env, version: rotorVersion() });
    } catch (err) {
      const where = `${config.httpServer.address || '*'}:${config.httpServer.port}`;
      throw new CommandError(`cannot start: ${err instanceof Error ? err.message : String(err)} (is another server on ${where}? --port picks another port)`);
    }
    log.info('rotor started', {
      mode: 'embedded',
      pid: process.pid,
      config: dev === null ? source : 'development (insecure)',
      address: config.httpServer.address || '*',
      httpPort: server.httpPort,
      grpcPort: server.grpcPort,
    });
    const endpoints = { httpPort: server.httpPort, grpcPort: server.grpcPort };
    // With --dev, ROTOR_* variables may have replaced the generated values: print what is in force.
    const effective = { apiKey: config.httpApi.key, hmacSecret: config.client.token.hmacSecretKey };
    ctx.stdout(dev === null ? configuredSummary(config, endpoints, source) : devBanner(config, endpoints, effective, await sampleToken(config)));
    return serveUntilSignal(server, log, config.shutdown.timeoutMs);
  },
};
