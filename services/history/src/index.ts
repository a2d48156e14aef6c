// Public surface of @rotor/history: the history shard role.
export { startHistoryShard } from './start-history-shard.ts';
export type { HistoryShard, HistoryShardConfig, HistoryShardOptions } from './start-history-shard.ts';
export { JetStreamHistoryStore } from './jetstream-history-store.ts';
export type { JetStreamHistoryStoreOptions } from './jetstream-history-store.ts';
export { ShardServer } from './shard-server.ts';
export { JsAppender } from './js-appender.ts';
export { LatencyHistogram } from './latency-histogram.ts';
