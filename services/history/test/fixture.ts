// An in-process cluster slice for tests: N history shards on a real nats-server, plus client-side
// connections with the shard clients. Each call gets its own subject and stream prefix.
import { ManualClock } from '@rotor/core/testing';
import type { Clock } from '@rotor/core';
import { closeNats, connectNats, NatsBroker, ShardRouter, Subjects } from '@rotor/nats';
import type { NatsConnection } from 'nats';
import { startHistoryShard, type HistoryShard, type HistoryShardConfig } from '../src/index.ts';

let seq = 0;

export function shardConfig(streamPrefix: string): HistoryShardConfig {
  return {
    rotor: {
      nats: { url: '' },
      drainWindowMs: 0,
      presenceTtlMs: 60_000,
      history: { shards: 1, streamPrefix, replicas: 1 },
      apiPort: 0,
      nodeName: 'test',
    },
  } as HistoryShardConfig;
}

export interface ClusterSlice {
  clock: ManualClock;
  subjects: Subjects;
  shards: HistoryShard[];
  nc: NatsConnection;
  router: ShardRouter;
  broker: NatsBroker;
  streamPrefix: string;
  dispose(): Promise<void>;
}

export async function startSlice(url: string, opts: { shards?: number; clock?: Clock; timeoutMs?: number } = {}): Promise<ClusterSlice> {
  seq++;
  const n = opts.shards ?? 1;
  const clock = (opts.clock as ManualClock | undefined) ?? new ManualClock();
  const subjects = new Subjects(`t${process.pid}x${seq}`);
  const streamPrefix = `T${process.pid}X${seq}`;
  const shards: HistoryShard[] = [];
  for (let k = 0; k < n; k++) {
    shards.push(await startHistoryShard(shardConfig(streamPrefix), { shard: k, shards: n, natsUrl: url, clock, subjects, sweepIntervalMs: 0 }));
  }
  const nc = await connectNats({ url, name: 'client' });
  const router = new ShardRouter(nc, { shards: n, subjects, timeoutMs: opts.timeoutMs ?? 5000 });
  const broker = new NatsBroker(nc, { subjects });
  return {
    clock,
    subjects,
    shards,
    nc,
    router,
    broker,
    streamPrefix,
    async dispose() {
      router.close();
      await broker.close();
      await closeNats(nc);
      for (const s of shards) await s.close();
    },
  };
}
