// A broker that loses chosen publications on the way to this node, the way NATS core (at most
// once) can: publishing works as usual, but the handler never sees a publication `drop` picks.
import type { Broker, BrokerHandler, ClientInfo, Publication } from '@rotor/core';

export type DropRule = (channel: string, pub: Publication, epoch: string) => boolean;

export class LossyBroker implements Broker {
  /** Publications dropped so far. */
  dropped = 0;

  constructor(
    private readonly inner: Broker,
    public drop: DropRule,
  ) {}

  setHandler(handler: BrokerHandler): void {
    this.inner.setHandler({
      onPublication: (channel: string, pub: Publication, epoch: string) => {
        if (this.drop(channel, pub, epoch)) {
          this.dropped++;
          return;
        }
        handler.onPublication(channel, pub, epoch);
      },
      onJoin: (channel: string, info: ClientInfo) => handler.onJoin(channel, info),
      onLeave: (channel: string, info: ClientInfo) => handler.onLeave(channel, info),
    });
  }

  subscribe(channel: string): Promise<void> {
    return this.inner.subscribe(channel);
  }

  unsubscribe(channel: string): Promise<void> {
    return this.inner.unsubscribe(channel);
  }

  publish(channel: string, pub: Publication, epoch: string): void {
    this.inner.publish(channel, pub, epoch);
  }

  publishJoin(channel: string, info: ClientInfo): void {
    this.inner.publishJoin(channel, info);
  }

  publishLeave(channel: string, info: ClientInfo): void {
    this.inner.publishLeave(channel, info);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** Drops the publications of `channel` whose offsets are listed. */
export function dropOffsets(channel: string, offsets: Iterable<number>): DropRule {
  const set = new Set(offsets);
  return (c, pub) => c === channel && set.has(pub.offset);
}
