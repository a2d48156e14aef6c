// Broker: carries channel traffic (publications, join, leave) from whoever sequences a channel to
// every node that has subscribers on it. It does not store anything.
//
// Implementations: MemoryBroker (embedded mode, one process), NatsBroker (@rotor/nats; one NATS
// subject per channel).
//
// Invariants every implementation keeps (tested by the broker contract suite):
// - Per channel, events published by one publisher are delivered to each handler in publish order.
//   (A channel's history shard is its only publisher of publications with offsets, so this gives
//   offset order; channels without history have no offsets to order.)
// - `subscribe(channel)` resolves only once the subscription is active: an event published after
//   the promise resolved reaches the handler. Events published before may or may not.
// - After `unsubscribe(channel)` resolves no further events of that channel are delivered.
// - Subscribing twice is idempotent; the node keeps one underlying subscription per channel and the
//   caller (the gateway hub) counts local subscribers.
// - Delivery is at most once (like NATS core): a receiver detects gaps through offsets and repairs
//   them from history; the broker never retries on its own.
// - Handler callbacks are invoked asynchronously with respect to `publish*` (never re-entrantly
//   inside the publish call) and must not throw.
import type { ClientInfo, Publication } from './types.ts';

/** What a node receives for the channels it subscribed to. */
export interface BrokerHandler {
  /**
   * A publication of `channel`. `epoch` is the channel's stream epoch ('' for channels without
   * history, where `pub.offset` is 0).
   */
  onPublication(channel: string, pub: Publication, epoch: string): void;
  onJoin(channel: string, info: ClientInfo): void;
  onLeave(channel: string, info: ClientInfo): void;
}

export interface Broker {
  /** Sets the single receiver of this node's channel events. Call before the first subscribe. */
  setHandler(handler: BrokerHandler): void;
  /** Starts receiving `channel`'s events on this node; resolves once active. */
  subscribe(channel: string): Promise<void>;
  /** Stops receiving `channel`'s events on this node. */
  unsubscribe(channel: string): Promise<void>;
  /**
   * Sends a publication to every node subscribed to `channel`. Synchronous enqueue: calls made in
   * order are delivered in that order. Throws only when the broker is closed.
   */
  publish(channel: string, pub: Publication, epoch: string): void;
  publishJoin(channel: string, info: ClientInfo): void;
  publishLeave(channel: string, info: ClientInfo): void;
  /** Releases resources; afterwards publish throws and no events are delivered. */
  close(): Promise<void>;
}
