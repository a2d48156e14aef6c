// startHistoryShard: one history shard (the `rotor history --shard k --shards N` role) in this
// process. It owns the channels whose FNV-1a hash mod N is k (see @rotor/nats shard.ts): their
// streams (JetStream-backed, reloaded after a restart), their fan-out (ChannelSequencer over the
// store and the NATS broker, so every accepted publication reaches the channel subject in offset
// order) and their presence (in memory: gateways refresh entries, so a restarted shard is complete
// again within one presence TTL).
import type { NatsConnection } from 'nats';
import { ChannelSequencer, MemoryPresenceStore, systemClock } from '@rotor/core';
import type { Clock, RotorConfig } from '@rotor/core';
import { closeNats, connectNats, NatsBroker, Subjects } from '@rotor/nats';
import { JetStreamHistoryStore } from './jetstream-history-store.ts';
import { ShardServer } from './shard-server.ts';

export type HistoryShardConfig = Pick<RotorConfig, 'rotor'>;

export interface HistoryShardOptions {
  shard: number;
  shards: number;
  natsUrl: string;
  clock?: Clock;
  /** Subject prefix (default "rotor"); tests use their own. */
  subjects?: Subjects;
  /** JetStream ack timeout per append (default 5000 ms). */
  appendTimeoutMs?: number;
  /** Cleanup sweep interval of the store and presence (default 10 s; 0 disables). */
  sweepIntervalMs?: number;
  onError?: (err: unknown, context: string) => void;
}

export interface HistoryShard extends AsyncDisposable {
  readonly shard: number;
  readonly shards: number;
  readonly store: JetStreamHistoryStore;
  readonly presence: MemoryPresenceStore;
  readonly publisher: ChannelSequencer;
  readonly nc: NatsConnection;
  readonly server: ShardServer;
  close(): Promise<void>;
}

export async function startHistoryShard(config: HistoryShardConfig, opts: HistoryShardOptions): Promise<HistoryShard> {
  const { shard, shards } = opts;
  if (!Number.isInteger(shards) || shards < 1) throw new Error(`invalid shard count ${shards}`);
  if (!Number.isInteger(shard) || shard < 0 || shard >= shards) throw new Error(`invalid shard index ${shard} of ${shards}`);
  const clock = opts.clock ?? systemClock;
  const subjects = opts.subjects ?? new Subjects();
  const onError = opts.onError ?? ((err: unknown, context: string) => console.error(`history shard ${shard}: ${context}`, err));
  const sweepIntervalMs = opts.sweepIntervalMs ?? 10_000;

  const nc = await connectNats({ url: opts.natsUrl, name: `${config.rotor.nodeName || 'rotor'}-history-${shard}` });
  let store: JetStreamHistoryStore | null = null;
  try {
    store = await JetStreamHistoryStore.open({
      nc,
      shard,
      subjects,
      streamPrefix: config.rotor.history.streamPrefix,
      replicas: config.rotor.history.replicas,
      clock,
      appendTimeoutMs: opts.appendTimeoutMs,
      sweepIntervalMs,
      onError,
    });
    const broker = new NatsBroker(nc, { subjects, onError });
    const presence = new MemoryPresenceStore({ clock, sweepIntervalMs });
    const publisher = new ChannelSequencer({ history: store, broker, clock, sweepIntervalMs, onError: (err, ch) => onError(err, `fan-out of ${JSON.stringify(ch)}`) });
    const server = new ShardServer({ nc, shard, subjects, history: store, presence, publisher, onError });
    await server.start();
    const s = store;
    let closed = false;
    const close = async (): Promise<void> => {
      if (closed) return;
      closed = true;
      server.stop();
      publisher.close();
      await s.close();
      await presence.close();
      await broker.close();
      await closeNats(nc);
    };
    return { shard, shards, store: s, presence, publisher, nc, server, close, [Symbol.asyncDispose]: close };
  } catch (err) {
    await store?.close();
    await closeNats(nc);
    throw err;
  }
}
