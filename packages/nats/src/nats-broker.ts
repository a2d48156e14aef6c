// NatsBroker: the Broker contract over NATS core. One subject per channel (subjects.ts), one NATS
// subscription per channel while this node has local subscribers, never a firehose.
//
// Ordering: every publish of this broker goes through one connection, and NATS keeps the order of
// messages from one connection to one subscription, so per-channel publish order is delivery order.
// Delivery is at most once (NATS core); receivers detect gaps by offsets.
// Reconnects are transparent: nats.js re-sends every SUB after a reconnect, and publishes made while
// disconnected are buffered by the client (up to its reconnect buffer) and sent after it.
import type { NatsConnection, Subscription, Msg, NatsError } from 'nats';
import type { Broker, BrokerHandler, ClientInfo, Publication } from '@rotor/core';
import { decodeChannelEvent, encodePresenceEvent, encodePublicationEvent } from './envelope.ts';
import { Subjects } from './subjects.ts';
import { closeNats } from './connection.ts';

export interface NatsBrokerOptions {
  subjects?: Subjects;
  /** Close the connection in close() (default false: the caller owns it). */
  ownsConnection?: boolean;
  /** Malformed envelopes and subscription errors are reported here (never thrown). */
  onError?: (err: unknown, context: string) => void;
}

interface ChannelSub {
  sub: Subscription;
  ready: Promise<void>;
}

export class NatsBroker implements Broker {
  private readonly subjects: Subjects;
  private readonly subs = new Map<string, ChannelSub>();
  private handler: BrokerHandler | null = null;
  private closed = false;
  /** Envelopes that failed to decode (a metric for the owner). */
  malformed = 0;

  constructor(
    private readonly nc: NatsConnection,
    private readonly opts: NatsBrokerOptions = {},
  ) {
    this.subjects = opts.subjects ?? new Subjects();
  }

  setHandler(handler: BrokerHandler): void {
    this.handler = handler;
  }

  subscribe(channel: string): Promise<void> {
    if (this.closed) return Promise.reject(new Error('broker closed'));
    const existing = this.subs.get(channel);
    if (existing !== undefined) return existing.ready;
    let subject: string;
    try {
      subject = this.subjects.channel(channel);
    } catch (err) {
      return Promise.reject(err);
    }
    const entry = { sub: null as unknown as Subscription, ready: Promise.resolve() };
    entry.sub = this.nc.subscribe(subject, {
      callback: (err: NatsError | null, msg: Msg) => this.onMessage(channel, entry, err, msg),
    });
    // The SUB is only known to be active once the server answered a PING sent after it.
    entry.ready = this.nc.flush();
    this.subs.set(channel, entry);
    return entry.ready;
  }

  async unsubscribe(channel: string): Promise<void> {
    const entry = this.subs.get(channel);
    if (entry === undefined) return;
    this.subs.delete(channel);
    // Local unsubscribe takes effect at once: nats.js drops messages of a closed subscription.
    entry.sub.unsubscribe();
  }

  private onMessage(channel: string, entry: ChannelSub, err: NatsError | null, msg: Msg): void {
    if (err !== null) {
      this.report(err, `subscription ${channel}`);
      return;
    }
    // A message that was already queued when the channel was unsubscribed (or resubscribed with a
    // new subscription) is not delivered.
    if (this.subs.get(channel) !== entry) return;
    const handler = this.handler;
    if (handler === null) return;
    let ev;
    try {
      ev = decodeChannelEvent(msg.data);
    } catch (e) {
      this.malformed++;
      this.report(e, `malformed event on ${channel}`);
      return;
    }
    if (ev.kind === 'publication') handler.onPublication(channel, ev.publication, ev.epoch);
    else if (ev.kind === 'join') handler.onJoin(channel, ev.info);
    else handler.onLeave(channel, ev.info);
  }

  private report(err: unknown, context: string): void {
    this.opts.onError?.(err, context);
  }

  publish(channel: string, pub: Publication, epoch: string): void {
    this.assertOpen();
    this.nc.publish(this.subjects.channel(channel), encodePublicationEvent(pub, epoch));
  }

  publishJoin(channel: string, info: ClientInfo): void {
    this.assertOpen();
    this.nc.publish(this.subjects.channel(channel), encodePresenceEvent('join', info));
  }

  publishLeave(channel: string, info: ClientInfo): void {
    this.assertOpen();
    this.nc.publish(this.subjects.channel(channel), encodePresenceEvent('leave', info));
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('broker closed');
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const entry of this.subs.values()) entry.sub.unsubscribe();
    this.subs.clear();
    if (this.opts.ownsConnection) await closeNats(this.nc);
  }
}
