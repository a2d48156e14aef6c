// rotor history — one history shard (services/history): sequences, stores (JetStream) and fans out
// the channels whose hash falls on this shard, answers recovery reads and holds their presence.
// /health and /metrics are served on rotor.history.http_port for probes.
import { setTimeout as delay } from 'node:timers/promises';
import { createLogger } from '@rotor/core';
import type { Logger, RotorConfig } from '@rotor/core';
import { ShardTakenError, startHistoryShard } from '@rotor/history';
import type { HistoryShard } from '@rotor/history';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { CommandError, stringOption, UsageError, type CliContext, type Command } from '../command.ts';
import { loadCliConfig } from '../config.ts';
import { runRole, type RunningRole } from '../roles/lifecycle.ts';
import { openNatsSession } from '../roles/nats-adapters.ts';
import type { NatsSession } from '../roles/nats-adapters.ts';
import { startProbeServer } from '../roles/probe-server.ts';

function nonNegativeInt(text: string, what: string): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`${what} must be a non-negative integer, got ${JSON.stringify(text)}`);
  return Number(text);
}

/** The shard index: --shard, else rotor.history.shard (ROTOR_HISTORY_SHARD), else the HOSTNAME ordinal. */
export function shardIndex(flag: string | undefined, configured: number, hostname: string | undefined): number {
  if (flag !== undefined) return nonNegativeInt(flag, '--shard');
  if (configured >= 0) return configured;
  const m = /-(\d+)$/.exec(hostname ?? '');
  if (m === null) throw new UsageError('--shard is required (or ROTOR_HISTORY_SHARD, or a HOSTNAME ending in -<ordinal>)');
  return Number(m[1]);
}

export const history: Command = {
  name: 'history',
  summary: 'Run one history shard (streams, recovery and presence of its channels)',
  usage: '[--config FILE] [--shard K] [--shards N]',
  details: [
    'Options:',
    '  -c, --config FILE  config file, JSON or YAML (default: ROTOR_CONFIG); ROTOR_* variables apply',
    '  --shard K          this shard\'s index; default rotor.history.shard (ROTOR_HISTORY_SHARD), else the',
    '                     ordinal suffix of $HOSTNAME (StatefulSet pod "rotor-history-3" → 3)',
    '  --shards N         number of shards; default: rotor.history.shards (ROTOR_HISTORY_SHARDS)',
    '',
    'NATS (with JetStream) is rotor.nats.url (ROTOR_NATS_URL); it is waited for at start-up.',
    '/health and /metrics listen on rotor.history.http_port (default 8080; 0 = a free port).',
    'A second process for a shard that is already served refuses to start. Stops cleanly on SIGTERM/SIGINT.',
  ].join('\n'),
  options: { config: { type: 'string', short: 'c' }, shard: { type: 'string' }, shards: { type: 'string' } },
  async run(args, ctx) {
    const config = loadCliConfig(ctx, stringOption(args, 'config'));
    const shardsText = stringOption(args, 'shards');
    const shards = shardsText === undefined ? config.rotor.history.shards : nonNegativeInt(shardsText, '--shards');
    if (shards < 1) throw new UsageError('--shards must be at least 1');
    const shard = shardIndex(stringOption(args, 'shard'), config.rotor.history.shard, ctx.env['HOSTNAME']);
    if (shard >= shards) throw new UsageError(`--shard ${shard} is out of range for ${shards} shard(s)`);
    const log = createLogger({ level: config.log.level, fields: { role: 'history', shard, node: config.rotor.nodeName } });
    return runRole(log, config.shutdown.timeoutMs, (signal) => startHistoryRole(config, log, ctx, shard, shards, signal));
  },
};

function shardMetrics(registry: Registry, get: () => HistoryShard | null): void {
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: 'rotor_history_channels',
    help: 'Channels of this shard held in memory',
    registers: [registry],
    collect() {
      this.set(get()?.store.channelCount ?? 0);
    },
  });
  new Gauge({
    name: 'rotor_history_appends_in_flight',
    help: 'Appends sent to JetStream and not yet acknowledged',
    registers: [registry],
    collect() {
      this.set(get()?.store.inFlight ?? 0);
    },
  });
  // Counters fed from the shard's own tallies at scrape time.
  const fed = (name: string, help: string, read: (h: HistoryShard) => number): void => {
    let last = 0;
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        const h = get();
        const now = h === null ? last : read(h);
        if (now > last) this.inc(now - last);
        last = now;
      },
    });
  };
  fed('rotor_history_requests_total', 'Requests received by this shard', (h) => h.server.requests);
  fed('rotor_history_request_failures_total', 'Requests answered with an error', (h) => h.server.failures);
  fed('rotor_history_epoch_resets_total', 'Channels that started a new epoch because continuity could not be proven', (h) => h.store.epochResets);
}

async function startHistoryRole(config: Readonly<RotorConfig>, log: Logger, ctx: CliContext, shard: number, shards: number, signal: AbortSignal): Promise<RunningRole> {
  let handle: HistoryShard | null = null;
  let session: NatsSession | null = null;
  let fence!: (reason: string) => void;
  const fenced = new Promise<string>((resolve) => (fence = resolve));
  const registry = new Registry();
  shardMetrics(registry, () => handle);
  const probe = await startProbeServer({
    address: config.httpServer.address,
    port: config.rotor.history.httpPort,
    registry: config.prometheus.enabled ? registry : null,
    // Two shards on one machine must not share a probe port (a probe would reach either).
    exclusive: true,
    ready: () => {
      if (session === null) return { ok: false, reason: 'waiting for nats' };
      if (handle === null) return { ok: false, reason: 'starting' };
      return session.readiness();
    },
  });
  log.info('history probe server listening', { httpPort: probe.port });
  try {
    session = await openNatsSession(config, log, `history-${shard}`, signal);
    const nc = session.nc;
    // JetStream may still be starting (or recovering) when NATS already answers: retry the start.
    for (let attempt = 1; ; attempt++) {
      try {
        handle = await startHistoryShard(config, {
          shard,
          shards,
          natsUrl: config.rotor.nats.url,
          nc,
          onError: (err, context) => log.warn('history shard error', { context, error: String(err) }),
          onFenced: fence,
        });
        break;
      } catch (err) {
        signal.throwIfAborted();
        if (err instanceof ShardTakenError) throw new CommandError(err.message);
        log.warn('history shard could not start, retrying', { attempt, error: (err as Error).message });
        await delay(Math.min(2000, 250 * attempt), undefined, { signal });
      }
    }
  } catch (err) {
    probe.close();
    await session?.close();
    throw err;
  }
  const h = handle;
  const s = session;
  ctx.stdout(`history shard ${shard}/${shards} ready (nats ${config.rotor.nats.url})\n`);
  log.info('rotor started', { mode: 'cluster', role: 'history', pid: process.pid, shard, shards, httpPort: probe.port, nats: s.nc.getServer() });
  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      await h.close();
      await s.close();
      probe.close();
      ctx.stdout(`history shard ${shard} stopped\n`);
    })());
  return { drain: stop, close: stop, failed: fenced };
}
