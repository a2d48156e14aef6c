// The two phases every subscription goes through — client subscribe, server-side subscriptions at
// connect, and server API subscribe alike:
//
//   prepare   join the channel in the hub (live publications are held from now on), wait for the
//             broker subscription, add presence, read history and decide recovery (§4.5);
//   — the caller sends the subscribe reply (or connect reply, or Subscribe push) —
//   establish attach to the channel's topics after the held publications the client still needs,
//             publish the join, start expiry and presence refresh.
//
// A failure in prepare leaves nothing behind (`removeSubscription` undoes it).
import { Disconnects, Errors, RotorError, cacheRecovery, isStreamRecovered, recoveryRead } from '@rotor/core';
import type { ClientInfo, Publication, ReadResult, StreamPosition } from '@rotor/core';
import { JoinOutcome } from '../hub.ts';
import type { HubChannel } from '../hub.ts';
import { RecoveryOutcome } from '../metrics.ts';
import type { Session } from '../session.ts';
import { SubFlag } from '../subscription.ts';
import type { Subscription } from '../subscription.ts';
import type { SubscribeResult } from '../wire-types.ts';
import { allJson, toWirePublications } from '../convert.ts';
import { Format } from '../hub.ts';

export interface PrepareOptions {
  /** The client's position when it asks to recover (and recovery is on); else null. */
  recover: StreamPosition | null;
  /** SubscribeRequest.flag bit 2: answer 112 instead of recovered=false. */
  rejectUnrecovered: boolean;
  /** Custom data for SubscribeResult.data (subscription token / token `subs`). */
  data: Uint8Array | undefined;
}

export interface Prepared {
  channel: HubChannel;
  result: SubscribeResult;
  /** The stream position the client holds once it applied the reply; null when not positioned. */
  position: StreamPosition | null;
}

/** ClientInfo of a subscriber, as presence and join/leave carry it. */
export function subscriberInfo(s: Session, sub: Subscription): ClientInfo {
  const info: ClientInfo = { user: s.user, client: s.client };
  if (s.connInfo !== undefined) info.connInfo = s.connInfo;
  if (sub.chanInfo !== undefined) info.chanInfo = sub.chanInfo;
  return info;
}

/** The subscription was removed (its connection closed) while it was being prepared. */
export class SubscribeCancelled extends Error {
  constructor() {
    super('subscription removed while it was prepared');
    this.name = 'SubscribeCancelled';
  }
}

/**
 * Phase 1. `sub` must already be one of the session's subscriptions. Throws RotorError (or anything, = internal), or
 * SubscribeCancelled when the connection went away meanwhile (nothing to answer then).
 */
export async function prepare(s: Session, sub: Subscription, opts: PrepareOptions): Promise<Prepared> {
  const gw = s.gw;
  const ch = gw.hub.join(sub.channel, sub);
  sub.hub = ch;
  try {
    await ch.ready;
  } catch {
    throw new RotorError(Errors.internal, 'channel subscription failed');
  }
  if (sub.hub !== ch) throw new SubscribeCancelled();
  if (sub.has(SubFlag.presence)) {
    await gw.adapters.presence.add(sub.channel, subscriberInfo(s, sub), gw.config.rotor.presenceTtlMs);
    if (sub.hub !== ch) {
      // Removed while the entry was written: take it out again, or it would linger until its TTL.
      await gw.adapters.presence.remove(sub.channel, s.client);
      throw new SubscribeCancelled();
    }
  }
  const result: SubscribeResult = {};
  const now = gw.clock.now();
  if (sub.expireAt > 0 && !sub.has(SubFlag.serverRefresh)) {
    result.expires = true;
    result.ttl = Math.max(1, Math.ceil((sub.expireAt - now) / 1000));
  }
  if (opts.data !== undefined) result.data = opts.data;
  let position: StreamPosition | null = null;
  if (sub.positioned) {
    const metaTtlMs = sub.namespace.effectiveHistoryMetaTtlMs;
    const history = gw.adapters.history;
    result.positioned = true;
    if (sub.has(SubFlag.recoverable)) result.recoverable = true;
    const recover = opts.recover;
    let read: ReadResult;
    if (recover !== null && sub.namespace.forceRecoveryMode === 'cache') {
      read = await history.read({ channel: sub.channel, limit: 1, reverse: true, metaTtlMs });
      const latest = read.publications[0] ?? null;
      const r = cacheRecovery(recover, latest, read.position);
      finishRecovery(s, result, r.recovered, opts.rejectUnrecovered);
      if (r.recovered) result.publications = jsonSafe(s, r.publications);
      result.offset = read.position.offset;
    } else if (recover !== null) {
      const limit = gw.config.client.recoveryMaxPublicationLimit;
      read = await history.read(recoveryRead(sub.channel, recover, limit, metaTtlMs));
      const recovered = isStreamRecovered(recover, read, limit);
      finishRecovery(s, result, recovered, opts.rejectUnrecovered);
      // Recovered: the publications take the client from its offset to the top, and the reply
      // carries the client's offset (PROTOCOL.md §4.5). Otherwise: no publications, the top.
      if (recovered) {
        result.publications = jsonSafe(s, read.publications);
        result.offset = recover.offset;
      } else {
        result.offset = read.position.offset;
      }
    } else {
      read = await history.read({ channel: sub.channel, limit: 0, reverse: false, metaTtlMs });
      result.offset = read.position.offset;
    }
    result.epoch = read.position.epoch;
    position = read.position;
  }
  return { channel: ch, result, position };
}

/** Recovered publications for the reply; a JSON client that cannot take them is closed (3506). */
function jsonSafe(s: Session, pubs: Publication[]): ReturnType<typeof toWirePublications> {
  if (s.format === Format.json && !allJson(pubs)) {
    s.disconnect(Disconnects.inappropriateProtocol);
    throw new SubscribeCancelled();
  }
  return toWirePublications(pubs);
}

function finishRecovery(s: Session, result: SubscribeResult, recovered: boolean, rejectUnrecovered: boolean): void {
  result.wasRecovering = true;
  if (recovered) {
    result.recovered = true;
    s.gw.metrics.recovery(RecoveryOutcome.recovered);
    return;
  }
  if (rejectUnrecovered) {
    s.gw.metrics.recovery(RecoveryOutcome.rejected);
    throw new RotorError(Errors.unrecoverablePosition);
  }
  s.gw.metrics.recovery(RecoveryOutcome.notRecovered);
}

/**
 * Phase 2, right after the reply was written. Returns the hub's verdict; on `insufficient` the
 * subscription has already left the hub and the caller ends it (Unsubscribe 2500 / disconnect 3010).
 */
export function establish(s: Session, sub: Subscription, prepared: Prepared): JoinOutcome {
  const gw = s.gw;
  const outcome = gw.hub.completeJoin(prepared.channel, sub, sub.positioned ? prepared.position : null);
  if (outcome === JoinOutcome.insufficient || s.closed) return outcome;
  sub.flags |= SubFlag.established;
  gw.metrics.subscriptions++;
  if (sub.has(SubFlag.joinLeave)) {
    try {
      gw.adapters.broker.publishJoin(sub.channel, subscriberInfo(s, sub));
    } catch (err) {
      gw.log.warn('join publish failed', { error: String(err) });
    }
  }
  gw.keepalive.subscribed(s, sub);
  return outcome;
}

/**
 * Ends a subscription: leaves the hub, removes presence, publishes the leave. `socketOpen` is false
 * from the close handler (uWS already dropped the socket's topics).
 */
export function removeSubscription(s: Session, sub: Subscription, socketOpen: boolean): void {
  const gw = s.gw;
  s.removeSubscriptionEntry(sub);
  if (sub.hub !== null) {
    gw.hub.leave(sub.hub, sub, socketOpen);
    sub.hub = null;
  }
  if (sub.has(SubFlag.presence)) {
    gw.adapters.presence.remove(sub.channel, s.client).catch((err: unknown) => {
      gw.log.warn('presence remove failed', { error: String(err) });
    });
  }
  if (sub.has(SubFlag.established)) {
    sub.flags &= ~SubFlag.established;
    gw.metrics.subscriptions--;
    if (sub.has(SubFlag.joinLeave)) {
      try {
        gw.adapters.broker.publishLeave(sub.channel, subscriberInfo(s, sub));
      } catch (err) {
        gw.log.warn('leave publish failed', { error: String(err) });
      }
    }
  }
}

/** Ends a live subscription from the server side with an Unsubscribe push (client-side subs). */
export function unsubscribeWithPush(s: Session, sub: Subscription, code: number, reason: string): void {
  removeSubscription(s, sub, true);
  if (s.closed) return;
  s.push({ channel: sub.channel, unsubscribe: { code, reason } });
  s.flushOut();
}
