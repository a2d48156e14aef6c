// NatsBroker: the Broker contract over NATS core. One subject per channel (subjects.ts), one NATS
// subscription per channel while this node has local subscribers, never a firehose.
//
// Ordering: every publish of this broker goes through one connection, and NATS keeps the order of
// messages from one connection to one subscription, so per-channel publish order is delivery order.
// Delivery is at most once (NATS core); receivers detect gaps by offsets.
// Reconnects are transparent: nats.js re-sends every SUB after a reconnect, and publishes made while
// disconnected are buffered by the client (up to its reconnect buffer) and sent after it.
//
// Writes per turn: nats.js writes its outbound buffer to the socket from a microtask, and
// uWebSockets.js runs the microtasks after every message callback — so a gateway handing each
// client publish to NATS at once made one socket write (a syscall and a wake-up of nats-server)
// per publication: a third of a cluster gateway's CPU under a publish load. Publications and
// presence events are therefore queued and handed to nats.js together once per event-loop turn
// (setImmediate), in the order they were published: one write for the turn. What nats.js would
// refuse at once (closed connection, payload over the server's max_payload) still throws from
// publish(); a failure at the end of the turn (the connection closed meanwhile) goes to onError.
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
  /** The last confirmation failed (e.g. NATS was disconnected): the next subscribe asks again. */
  unconfirmed: boolean;
}

export class NatsBroker implements Broker {
  private readonly subjects: Subjects;
  private readonly subs = new Map<string, ChannelSub>();
  private handler: BrokerHandler | null = null;
  private closed = false;
  /** Envelopes that failed to decode (a metric for the owner). */
  malformed = 0;
  /** Subjects and payloads published in this turn, not handed to nats.js yet. */
  private pendingSubjects: string[] = [];
  private pendingData: Uint8Array[] = [];
  private flushScheduled = false;
  private readonly flushBound = (): void => this.flushPublishes();

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
    if (existing !== undefined) {
      // The NATS subscription itself survives a disconnect (nats.js re-sends it after the
      // reconnect); only a failed confirmation is stale.
      if (existing.unconfirmed) existing.ready = this.confirm(existing);
      return existing.ready;
    }
    let subject: string;
    try {
      subject = this.subjects.channel(channel);
    } catch (err) {
      return Promise.reject(err);
    }
    const entry: ChannelSub = { sub: null as unknown as Subscription, ready: Promise.resolve(), unconfirmed: false };
    entry.sub = this.nc.subscribe(subject, {
      callback: (err: NatsError | null, msg: Msg) => this.onMessage(channel, entry, err, msg),
    });
    entry.ready = this.confirm(entry);
    this.subs.set(channel, entry);
    return entry.ready;
  }

  /** The SUB is only known to be active once the server answered a PING sent after it. */
  private confirm(entry: ChannelSub): Promise<void> {
    entry.unconfirmed = false;
    const ready = this.nc.flush();
    ready.catch(() => {
      // The caller sees the rejection through `ready`; remember to ask again next time.
      entry.unconfirmed = true;
    });
    return ready;
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
    this.enqueue(this.subjects.channel(channel), encodePublicationEvent(pub, epoch));
  }

  publishJoin(channel: string, info: ClientInfo): void {
    this.enqueue(this.subjects.channel(channel), encodePresenceEvent('join', info));
  }

  publishLeave(channel: string, info: ClientInfo): void {
    this.enqueue(this.subjects.channel(channel), encodePresenceEvent('leave', info));
  }

  private enqueue(subject: string, data: Uint8Array): void {
    this.assertOpen();
    // What nc.publish() would refuse right away is refused here, synchronously, as before.
    if (this.nc.isClosed()) throw new Error('nats connection closed');
    const max = this.nc.info?.max_payload;
    if (max !== undefined && data.byteLength > max) throw new Error(`event of ${data.byteLength} bytes exceeds the NATS max_payload of ${max}`);
    this.pendingSubjects.push(subject);
    this.pendingData.push(data);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flushBound);
    }
  }

  /** Hands this turn's events to nats.js, which writes them out together. */
  private flushPublishes(): void {
    this.flushScheduled = false;
    const subjects = this.pendingSubjects;
    const data = this.pendingData;
    if (subjects.length === 0) return;
    this.pendingSubjects = [];
    this.pendingData = [];
    for (let i = 0; i < subjects.length; i++) {
      try {
        this.nc.publish(subjects[i]!, data[i]!);
      } catch (err) {
        this.report(err, `publish to ${subjects[i]!}`);
      }
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('broker closed');
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // What was accepted before close still goes out.
    this.flushPublishes();
    this.closed = true;
    for (const entry of this.subs.values()) entry.sub.unsubscribe();
    this.subs.clear();
    if (this.opts.ownsConnection) await closeNats(this.nc);
  }
}
