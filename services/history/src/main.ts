// Stand-alone entry point of one history shard, until the `rotor history` command wraps it:
//   node --import tsx services/history/src/main.ts --shard 0 --shards 2 --nats nats://127.0.0.1:4222
//     [--stream-prefix ROTOR] [--replicas 1] [--subject-prefix rotor]
// Prints "ready shard=<k>" on stdout once it serves requests; SIGTERM/SIGINT close it cleanly.
// (process.env is not read here: the CLI's config loader owns the environment.)
import { parseArgs } from 'node:util';
import { Subjects } from '@rotor/nats';
import { startHistoryShard, type HistoryShardConfig } from './start-history-shard.ts';

const { values } = parseArgs({
  options: {
    shard: { type: 'string' },
    shards: { type: 'string' },
    nats: { type: 'string' },
    'stream-prefix': { type: 'string', default: 'ROTOR' },
    replicas: { type: 'string', default: '1' },
    'subject-prefix': { type: 'string', default: 'rotor' },
  },
});

function int(name: string, v: string | undefined): number {
  const n = Number(v);
  if (v === undefined || !Number.isInteger(n) || n < 0) {
    console.error(`--${name} must be a non-negative integer`);
    process.exit(2);
  }
  return n;
}

const shard = int('shard', values.shard);
const shards = int('shards', values.shards);
const natsUrl = values.nats ?? 'nats://127.0.0.1:4222';
const config = {
  rotor: {
    nats: { url: natsUrl },
    drainWindowMs: 0,
    presenceTtlMs: 60_000,
    history: { shards, streamPrefix: values['stream-prefix'] ?? 'ROTOR', replicas: int('replicas', values.replicas) },
    apiPort: 0,
    nodeName: `history-${shard}`,
  },
} as HistoryShardConfig;

const handle = await startHistoryShard(config, { shard, shards, natsUrl, subjects: new Subjects(values['subject-prefix']) });
process.stdout.write(`ready shard=${shard}\n`);
let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  handle.close().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error('history shard: close failed', err);
      process.exit(1);
    },
  );
};
// SIGUSR2 prints the shard's publish latency (request received → reply after fan-out) since the
// previous SIGUSR2 and resets it: benchmarks read it per phase.
process.on('SIGUSR2', () => {
  const h = handle.server.publishLatency;
  process.stdout.write(`latency count=${h.count} p50=${h.percentile(50).toFixed(3)} p99=${h.percentile(99).toFixed(3)} max=${h.max.toFixed(3)}\n`);
  h.reset();
});
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
