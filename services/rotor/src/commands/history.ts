// rotor history — one history shard (services/history): sequences, stores (JetStream) and fans out
// the channels whose hash falls on this shard, answers recovery reads and holds their presence.
import { startHistoryShard } from '@rotor/history';
import { ExitCode, stringOption, UsageError, type Command } from '../command.ts';
import { loadCliConfig } from '../config.ts';

function nonNegativeInt(text: string, what: string): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`${what} must be a non-negative integer, got ${JSON.stringify(text)}`);
  return Number(text);
}

export const history: Command = {
  name: 'history',
  summary: 'Run one history shard (streams, recovery and presence of its channels)',
  usage: '[--config FILE] [--shard K] [--shards N]',
  details: [
    'Options:',
    '  --shard K    this shard\'s index; default: the ordinal suffix of $HOSTNAME (StatefulSet pod "rotor-history-3" → 3)',
    '  --shards N   number of shards; default: rotor.history.shards (ROTOR_HISTORY_SHARDS)',
    'NATS (with JetStream) is rotor.nats.url (ROTOR_NATS_URL). Stops cleanly on SIGTERM/SIGINT.',
  ].join('\n'),
  options: { config: { type: 'string', short: 'c' }, shard: { type: 'string' }, shards: { type: 'string' } },
  async run(args, ctx) {
    const config = loadCliConfig(ctx, stringOption(args, 'config'));
    const shardsText = stringOption(args, 'shards');
    const shards = shardsText === undefined ? config.rotor.history.shards : nonNegativeInt(shardsText, '--shards');
    if (shards < 1) throw new UsageError('--shards must be at least 1');
    let shardText = stringOption(args, 'shard');
    if (shardText === undefined) {
      const m = /-(\d+)$/.exec(ctx.env['HOSTNAME'] ?? '');
      if (m === null) throw new UsageError('--shard is required (or a HOSTNAME ending in -<ordinal>)');
      shardText = m[1]!;
    }
    const shard = nonNegativeInt(shardText, '--shard');
    if (shard >= shards) throw new UsageError(`--shard ${shard} is out of range for ${shards} shard(s)`);

    const handle = await startHistoryShard(config, { shard, shards, natsUrl: config.rotor.nats.url });
    ctx.stdout(`history shard ${shard}/${shards} ready (nats ${config.rotor.nats.url})\n`);
    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off('SIGTERM', stop);
        process.off('SIGINT', stop);
        resolve();
      };
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    });
    await handle.close();
    ctx.stdout(`history shard ${shard} stopped\n`);
    return ExitCode.ok;
  },
};
