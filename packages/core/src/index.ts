// Public surface of @rotor/core.
// Implementations and helpers, listed one by one so the surface stays
// deliberate; test helpers and contract suites live in '@rotor/core/testing'.
export { newEpoch, EPOCH_LENGTH } from './epoch.ts';
export { Deque } from './deque.ts';
export { MemoryBroker, MemoryBrokerBus } from './memory-broker.ts';
export type { MemoryBrokerOptions } from './memory-broker.ts';
export { MemoryHistoryStore, DEFAULT_IDEMPOTENCY_TTL_MS } from './memory-history-store.ts';
export type { MemoryHistoryStoreOptions } from './memory-history-store.ts';
export { MemoryPresenceStore } from './memory-presence-store.ts';
export type { MemoryPresenceStoreOptions } from './memory-presence-store.ts';
export { MemoryControlBus } from './memory-control-bus.ts';
export type { MemoryControlBusOptions } from './memory-control-bus.ts';
export { ChannelSequencer } from './channel-sequencer.ts';
export type { ChannelSequencerOptions } from './channel-sequencer.ts';

export { ChannelRules, compileNamespace, compileGoRegex } from './channels.ts';
export type { ChannelResolution, ChannelRulesOptions, ResolvedChannel } from './channels.ts';
export {
  LiveVerdict,
  cacheRecovery,
  isStreamRecovered,
  livePosition,
  mergePublications,
  recoveryRead,
  subscribePosition,
} from './recovery.ts';
export type { MergeResult, SubscribePosition, SubscribePositionInput } from './recovery.ts';
export { CoarseClock, sharedCoarseClock } from './coarse-clock.ts';
export type { CoarseClockOptions } from './coarse-clock.ts';
export { BucketScheduler } from './bucket-scheduler.ts';
export type { BucketSchedulerOptions } from './bucket-scheduler.ts';

// Contracts (type-only) and shared domain types.
export * from './types.ts';
export * from './codes.ts';
export type * from './broker.ts';
export type * from './history-store.ts';
export type * from './presence-store.ts';
export type * from './publisher.ts';
export type * from './control-bus.ts';
export type * from './config/types.ts';
export type * from './auth/token-verifier.ts';
export * from './config/load.ts';
export * from './config/duration.ts';
export * from './auth/jose-token-verifier.ts';
export * from './auth/api-key.ts';
export * from './auth/token-signer.ts';
export * from './log.ts';
