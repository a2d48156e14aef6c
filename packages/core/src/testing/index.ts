// @rotor/core/testing: contract suites every adapter must pass, fixtures, a manual clock and the
// latch helpers (re-exported by @rotor/testkit).
export * from './latch.ts';
export * from './manual-clock.ts';
export * from './fixtures.ts';
export { runHistoryStoreContract } from './history-store-contract.ts';
export { runPresenceStoreContract } from './presence-store-contract.ts';
export { runBrokerContract, recordingHandler } from './broker-contract.ts';
export type { BrokerEvent } from './broker-contract.ts';
export { runPublisherContract } from './publisher-contract.ts';
