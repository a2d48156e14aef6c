// rotor cluster (`pnpm cluster`): a whole cluster on this machine, each role a separate process —
// nats-server with JetStream, history shards, gateways sharing one port, the api — supervised
// by this process (cluster/supervisor.ts).
//
// Configuration comes from the same sources as `rotor start`: --config FILE / ROTOR_CONFIG, or
// ROTOR_* variables, or neither (or --dev): the INSECURE development configuration with fresh
// secrets printed (plus gRPC on, as the cluster serves it). The cluster's own nats-server listens
// on the port of rotor.nats.url, which must be one loopback URL (default nats://127.0.0.1:4222;
// ROTOR_NATS_URL=nats://127.0.0.1:0 picks a free port). Ports: http_server.port (gateways, 8000),
// rotor.api_port (9000), grpc_api.port (10000); 0 = free ports, printed.
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { createLogger, signHmacToken } from '@rotor/core';
import { CommandError, UsageError, flag, stringOption, type CliContext, type Command } from '../command.ts';
import { loadCliConfig } from '../config.ts';
import { configVariablesIn, devConfigEnv, generateDevSecrets } from '../embedded/dev-config.ts';
import type { DevSecrets } from '../embedded/dev-config.ts';
import { clusterBanner } from '../cluster/banner.ts';
import { findNatsServer, loopbackNatsPort } from '../cluster/nats-server.ts';
import { ClusterSupervisor } from '../cluster/supervisor.ts';
import type { ClusterEndpoints } from '../cluster/supervisor.ts';
import { baseClaims } from './gentoken.ts';
import { ROTOR_NODE_FLAGS } from '../node-flags.ts';

const CHILD_MAIN = fileURLToPath(new URL('../cluster/child-main.ts', import.meta.url));

/**
 * This process's node options for the children, with a bare `--import tsx` made absolute: the
 * children run in the user's directory, where `tsx` may not resolve. The launch flags
 * (ROTOR_NODE_FLAGS) are added unless this process was started with its own value of them.
 */
export function childExecArgv(execArgv: readonly string[]): string[] {
  const given = new Set(execArgv.map((a) => a.split('=')[0]));
  const args = [...ROTOR_NODE_FLAGS.filter((f) => !given.has(f.split('=')[0])), ...execArgv];
  return args.map((arg, i) => {
    if (args[i - 1] !== '--import' || arg !== 'tsx') return arg;
    try {
      return import.meta.resolve('tsx');
    } catch (err) {
      if (err instanceof Error) return arg;
      throw err;
    }
  });
}

function count(text: string | undefined, def: number, what: string, max: number): number {
  if (text === undefined) return def;
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > max) throw new UsageError(`${what}: expected 1..${max}, got "${text}"`);
  return Number(text);
}

export const cluster: Command = {
  name: 'cluster',
  summary: 'Start a local cluster: nats-server, history shards, gateways, api (separate processes)',
  usage: '[--config FILE] [--dev] [--gateways N] [--shards N] [--dir DIR]',
  details: [
    'Options:',
    '  -c, --config FILE  config file, JSON or YAML (default: ROTOR_CONFIG); ROTOR_* variables apply',
    '      --dev          the INSECURE development configuration even when ROTOR_* variables are set',
    '      --gateways N   gateway processes sharing http_server.port (default 2)',
    '      --shards N     history shards (default 2)',
    '      --dir DIR      working directory: DIR/cluster (JetStream store, emptied at start) and',
    '                     DIR/logs/<process>.log (default .rotor)',
    '',
    'Same configuration sources as `rotor start`; with none, the development configuration is used and',
    'its API key printed. nats-server (JetStream) listens on the port of rotor.nats.url, which must be',
    'one loopback URL (ROTOR_NATS_URL=nats://127.0.0.1:0 picks a free port). Ports 0 pick free ports.',
    'Prints the endpoints and "cluster ready" once every process answers /health. A process that dies',
    'is restarted (5 times a minute at most, then the cluster stops with exit 1). Ctrl-C/SIGTERM drain',
    'the gateways, then stop the api, the shards and nats-server; exit 0.',
  ].join('\n'),
  options: {
    config: { type: 'string', short: 'c' },
    dev: { type: 'boolean' },
    gateways: { type: 'string' },
    shards: { type: 'string' },
    dir: { type: 'string' },
  },
  async run(args, ctx) {
    const gateways = count(stringOption(args, 'gateways'), 2, '--gateways', 16);
    const shards = count(stringOption(args, 'shards'), 2, '--shards', 64);
    const file = stringOption(args, 'config');
    const path = file ?? (ctx.env['ROTOR_CONFIG'] === '' ? undefined : ctx.env['ROTOR_CONFIG']);
    const dev = flag(args, 'dev');
    if (dev && path !== undefined) throw new UsageError('--dev runs the development configuration; it does not combine with --config or ROTOR_CONFIG');
    const useDev = dev || (path === undefined && configVariablesIn(ctx.env).length === 0);
    const secrets = useDev ? generateDevSecrets() : null;
    // The development settings sit under the user's environment, so ROTOR_* set by hand still win.
    const devEnv: Record<string, string> = secrets === null ? {} : { ...devConfigEnv(secrets), ROTOR_GRPC_API_ENABLED: 'true' };
    const env: Record<string, string | undefined> = { ...devEnv, ...ctx.env };
    const config = loadCliConfig({ ...ctx, env }, path);
    const source = useDev ? 'development configuration' : path !== undefined ? `config ${path}` : 'ROTOR_* environment';

    const natsPort = loopbackNatsPort(config.rotor.nats.url);
    if (natsPort === null) {
      throw new CommandError(`rotor cluster runs its own nats-server: rotor.nats.url must be one loopback URL such as nats://127.0.0.1:4222, got ${JSON.stringify(config.rotor.nats.url)}`);
    }
    const natsBin = findNatsServer(ctx.env);
    if (natsBin === null) throw new CommandError('nats-server not found (install it, e.g. apt-get install nats-server, or set NATS_SERVER_BIN)');

    const log = createLogger({ level: config.log.level, fields: { role: 'cluster' } });
    const supervisor = new ClusterSupervisor(
      {
        config,
        configFile: file === undefined ? undefined : resolve(ctx.cwd, file),
        env,
        gateways,
        shards,
        dir: resolve(ctx.cwd, stringOption(args, 'dir') ?? '.rotor'),
        natsPort,
        natsBin,
        node: { execPath: process.execPath, execArgv: childExecArgv(process.execArgv), childMain: CHILD_MAIN },
        cwd: ctx.cwd,
      },
      log,
      ctx.stdout,
      process.stdout.isTTY === true && ctx.env['NO_COLOR'] === undefined,
    );
    return supervise(supervisor, ctx, log, { config, gateways, shards, source, secrets });
  },
};

async function supervise(
  supervisor: ClusterSupervisor,
  ctx: CliContext,
  log: ReturnType<typeof createLogger>,
  info: { config: ReturnType<typeof loadCliConfig>; gateways: number; shards: number; source: string; secrets: DevSecrets | null },
): Promise<number> {
  const controller = new AbortController();
  let signals = 0;
  let resolveSignal!: () => void;
  const signalled = new Promise<'signal'>((r) => (resolveSignal = () => r('signal')));
  const onSignal = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals === 1) {
      log.info('signal received, stopping the cluster', { signal });
      controller.abort(new Error(`stopped by ${signal}`));
      resolveSignal();
    } else {
      log.warn('second signal: killing every process', { signal });
      supervisor.killAll();
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    let endpoints: ClusterEndpoints;
    try {
      endpoints = await supervisor.start(controller.signal);
    } catch (err) {
      const aborted = controller.signal.aborted;
      if (!aborted) log.error('cluster failed to start', { error: (err as Error).message });
      const code = await supervisor.stop();
      log.info('cluster stopped', { exitCode: aborted ? code : 1 });
      return aborted ? code : 1;
    }
    const { config, secrets } = info;
    const token = secrets === null ? null : await signHmacToken(baseClaims(config.client.token, 'demo', 24 * 3600), config.client.token.hmacSecretKey);
    ctx.stdout(
      clusterBanner({
        config,
        endpoints,
        gateways: info.gateways,
        shards: info.shards,
        logDir: supervisor.logDir,
        storeDir: supervisor.natsStoreDir,
        cwd: ctx.cwd,
        source: info.source,
        dev: secrets === null || token === null ? null : { secrets, token },
      }),
    );
    log.info('cluster ready', { pid: process.pid, ...endpoints });
    const outcome = await Promise.race([signalled, supervisor.failed]);
    if (outcome !== 'signal') log.error('cluster stopping', { reason: outcome });
    const code = await supervisor.stop();
    const exitCode = outcome === 'signal' ? code : 1;
    log.info('cluster stopped', { exitCode });
    return exitCode;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
