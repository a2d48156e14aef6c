// Fixture shapes the contract suites receive from an implementation's factory. A factory is called
// once per test, so tests never see each other's state; `dispose` must release everything the
// fixture created (connections, servers, timers) and tolerate objects the test already closed.
import type { Broker } from '../broker.ts';
import type { HistoryStore } from '../history-store.ts';
import type { PresenceStore } from '../presence-store.ts';
import type { Publisher } from '../publisher.ts';

/**
 * Moves the implementation's notion of time forward. For in-memory adapters this is a
 * ManualClock; for remote ones (a history shard) it is the clock injected into the remote side,
 * and the promise resolves once the remote side has observed the new time.
 */
export interface TestClock {
  advance(ms: number): Promise<void> | void;
}

export interface Disposable {
  dispose(): Promise<void> | void;
}

export interface HistoryStoreFixture extends Disposable {
  store: HistoryStore;
  clock: TestClock;
}

export interface PresenceStoreFixture extends Disposable {
  store: PresenceStore;
  clock: TestClock;
}

export interface BrokerFixture extends Disposable {
  /**
   * A new broker node attached to the same network as every other node of this fixture (one NATS
   * connection each for NatsBroker; brokers sharing a MemoryBrokerBus for MemoryBroker).
   */
  newNode(): Promise<Broker> | Broker;
}

export interface PublisherFixture extends Disposable {
  publisher: Publisher;
  /** A broker node on the network the publisher delivers to; the suite subscribes through it. */
  observer: Broker;
  /** Reads the history the publisher writes to (to check "stored before delivered"). */
  history: HistoryStore;
  clock: TestClock;
}

export type Factory<F> = () => Promise<F> | F;

/** Runs `body` with a fresh fixture and always disposes it. */
export async function withFixture<F extends Disposable>(factory: Factory<F>, body: (f: F) => Promise<void>): Promise<void> {
  const fixture = await factory();
  try {
    await body(fixture);
  } finally {
    await fixture.dispose();
  }
}

let channelSeq = 0;

/**
 * A channel name unique within the process, so implementations that share a server across tests
 * (NATS, JetStream) never see another test's streams.
 */
export function uniqueChannel(prefix = 'ch'): string {
  channelSeq++;
  return `${prefix}:${process.pid}-${Date.now().toString(36)}-${channelSeq}`;
}

export function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

export function text(data: Uint8Array): string {
  return new TextDecoder().decode(data);
}
