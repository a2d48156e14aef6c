// Keepalive: every per-connection deadline of the gateway, driven by one timer (`tick`).
//
// - Stale: a connection that has not connected within client.stale_close_delay → 3502
//   (constant delay: a FIFO).
// - Ping/pong (PROTOCOL.md §4.2): connected sessions sit in ping buckets (Rounds); visiting a
//   bucket sends one empty reply to all its sessions through a uWS topic per bucket and format
//   (native fan-out), then, client.pong_timeout later, sessions that did not answer since are
//   closed with 3012. An answer before any ping is 3501.
// - Slow sweep: the ping buckets are also swept once per second for sockets whose buffered output
//   exceeds client.queue_max_size (3008), catching consumers that fall behind on topic traffic.
// - Expiry (§4.8): sessions or subscriptions with an expiry sit in an expiry round visited every
//   second: connection expired + expired_close_delay → 3005; subscription expired +
//   expired_sub_close_delay → Unsubscribe 2501 (client-side) or 3006 (server-side).
// - Presence refresh (§4.6): sessions with presence subscriptions re-add their entries every
//   client.presence_update_interval.
import { Disconnects, Unsubscribes } from '@rotor/core';
import type { GatewayContext } from './context.ts';
import { Format } from './hub.ts';
import { DelayQueue, Rounds } from './rounds.ts';
import type { Session } from './session.ts';
import { SessionState } from './session.ts';
import { SubFlag } from './subscription.ts';
import type { Subscription } from './subscription.ts';
import { subscriberInfo, unsubscribeWithPush } from './commands/establish.ts';

/** Topic publish for pings (uWS `app.publish`). */
export interface PingSink {
  publish(topic: string, frame: Uint8Array, isBinary: boolean): void;
}

const SLOW_SWEEP_MS = 1000;
const EXPIRY_ROUND_MS = 1000;

export class Keepalive {
  readonly pings: Rounds<Session> | null;
  /** Ping rounds sent per bucket. */
  private readonly pingRound: number[];
  private readonly pingTopics: Array<[string, string]>;
  private readonly pongChecks: Array<{ bucket: number; round: number; at: number }> = [];
  private readonly stale: DelayQueue<Session>;
  private readonly presenceRounds: Rounds<Session>;
  private readonly expiry: Rounds<Session>;
  private sweepCursor = 0;
  private sweepNextAt: number;
  private readonly pingFrames: [Uint8Array, Uint8Array];
  /** Interval at which `tick` should run. */
  readonly tickMs: number;

  constructor(
    private readonly gw: GatewayContext,
    private readonly sink: PingSink,
  ) {
    const cfg = gw.config.client;
    const now = gw.clock.now();
    this.pings = cfg.pingIntervalMs > 0 ? new Rounds<Session>(cfg.pingIntervalMs, now) : null;
    const b = this.pings?.buckets.length ?? 0;
    this.pingRound = new Array<number>(b).fill(0);
    this.pingTopics = Array.from({ length: b }, (_, i) => [`~${i}j`, `~${i}b`] as [string, string]);
    this.pingFrames = [gw.codec.ping(Format.json), gw.codec.ping(Format.protobuf)];
    this.stale = new DelayQueue<Session>(cfg.staleCloseDelayMs);
    this.presenceRounds = new Rounds<Session>(Math.max(1, cfg.presenceUpdateIntervalMs), now);
    this.expiry = new Rounds<Session>(EXPIRY_ROUND_MS, now);
    this.sweepNextAt = now;
    const ticks = [this.presenceRounds.tickMs, this.expiry.tickMs, 100];
    if (this.pings !== null) ticks.push(this.pings.tickMs, SLOW_SWEEP_MS / b);
    if (cfg.pongTimeoutMs > 0) ticks.push(cfg.pongTimeoutMs / 4);
    if (cfg.staleCloseDelayMs > 0) ticks.push(cfg.staleCloseDelayMs / 4);
    this.tickMs = Math.max(10, Math.min(...ticks));
  }

  /** A WebSocket opened: it must connect within the stale delay. */
  opened(s: Session): void {
    if (this.gw.config.client.staleCloseDelayMs > 0) this.stale.push(s, this.gw.clock.now());
  }

  /** Connect succeeded: start pinging, watch the expiry. */
  connected(s: Session): void {
    const pings = this.pings;
    if (pings !== null && s.ws !== null) {
      const bucket = pings.add(s);
      s.pingBucket = bucket;
      s.pingBase = this.pingRound[bucket]!;
      s.pongRound = s.pingBase;
      s.ws.subscribe(this.pingTopics[bucket]![s.format]);
    }
    this.expiryChanged(s);
  }

  /** The session's connection expiry changed (connect, refresh, control refresh). */
  expiryChanged(s: Session): void {
    this.watchExpiry(s);
  }

  /** A subscription was established or refreshed. */
  subscribed(s: Session, sub: Subscription): void {
    if (sub.expireAt > 0) this.watchExpiry(s);
    if (sub.has(SubFlag.presence) && s.presenceBucket < 0) s.presenceBucket = this.presenceRounds.add(s);
  }

  private watchExpiry(s: Session): void {
    // Once in the expiry round a session stays there: without expiries it costs one comparison
    // per second.
    if (s.expiryBucket < 0 && s.state === SessionState.connected) s.expiryBucket = this.expiry.add(s);
  }

  pong(s: Session): void {
    if (this.pings === null || s.pingBucket < 0) {
      s.disconnect(Disconnects.badRequest);
      return;
    }
    const round = this.pingRound[s.pingBucket]!;
    if (round === s.pingBase) {
      // A pong before any ping.
      s.disconnect(Disconnects.badRequest);
      return;
    }
    s.pongRound = round;
  }

  remove(s: Session): void {
    if (s.pingBucket >= 0) {
      this.pings?.remove(s, s.pingBucket);
      s.pingBucket = -1;
    }
    if (s.presenceBucket >= 0) {
      this.presenceRounds.remove(s, s.presenceBucket);
      s.presenceBucket = -1;
    }
    if (s.expiryBucket >= 0) {
      this.expiry.remove(s, s.expiryBucket);
      s.expiryBucket = -1;
    }
  }

  tick(now: number): void {
    const cfg = this.gw.config.client;
    this.stale.drain(now, (s) => {
      if (s.state === SessionState.connecting || s.state === SessionState.failed) s.disconnect(Disconnects.stale);
    });
    const pings = this.pings;
    if (pings !== null) {
      pings.run(now, (members, bucket) => this.ping(bucket, members.size, now));
      const checks = this.pongChecks;
      while (checks.length > 0 && checks[0]!.at <= now) {
        const c = checks.shift()!;
        this.checkPongs(c.bucket, c.round);
      }
      this.sweep(now);
    }
    // Deleting the visited member from a Set during for-of is safe (closing removes the session).
    this.expiry.run(now, (members) => {
      for (const s of members) this.checkExpiry(s, now, cfg.expiredCloseDelayMs, cfg.expiredSubCloseDelayMs);
    });
    this.presenceRounds.run(now, (members) => {
      for (const s of members) this.refreshPresence(s);
    });
  }

  private ping(bucket: number, size: number, now: number): void {
    if (size === 0) return;
    this.pingRound[bucket]!++;
    const [tj, tb] = this.pingTopics[bucket]!;
    this.sink.publish(tj, this.pingFrames[0], false);
    this.sink.publish(tb, this.pingFrames[1], true);
    const pongTimeout = this.gw.config.client.pongTimeoutMs;
    if (pongTimeout > 0) this.pongChecks.push({ bucket, round: this.pingRound[bucket]!, at: now + pongTimeout });
  }

  private checkPongs(bucket: number, round: number): void {
    const members = this.pings?.buckets[bucket];
    if (members === undefined) return;
    const late: Session[] = [];
    for (const s of members) if (s.pingBase < round && s.pongRound < round) late.push(s);
    for (const s of late) s.disconnect(Disconnects.noPong);
  }

  /** Visits the ping buckets so that every connected socket's buffer is checked once a second. */
  private sweep(now: number): void {
    const pings = this.pings!;
    const b = pings.buckets.length;
    const step = SLOW_SWEEP_MS / b;
    const limit = this.gw.config.client.queueMaxSize;
    let budget = b;
    while (now >= this.sweepNextAt && budget-- > 0) {
      const members = pings.buckets[this.sweepCursor]!;
      this.sweepCursor = (this.sweepCursor + 1) % b;
      this.sweepNextAt += step;
      let slow: Session[] | null = null;
      for (const s of members) {
        const ws = s.ws;
        if (ws !== null && ws.getBufferedAmount() > limit) (slow ??= []).push(s);
      }
      if (slow !== null) for (const s of slow) s.slow();
    }
    if (now >= this.sweepNextAt) this.sweepNextAt = now + step;
  }

  private checkExpiry(s: Session, now: number, connGrace: number, subGrace: number): void {
    if (s.state !== SessionState.connected) return;
    if (s.expireAt > 0 && s.expireAt + connGrace <= now) {
      s.disconnect(Disconnects.expired);
      return;
    }
    const subs = s.subs;
    if (subs === null) return;
    let expired: Subscription[] | null = null;
    for (const sub of subs.values()) {
      if (sub.expireAt > 0 && sub.has(SubFlag.established) && sub.expireAt + subGrace <= now) (expired ??= []).push(sub);
    }
    if (expired === null) return;
    for (const sub of expired) {
      if (s.closed) return;
      if (sub.serverSide) {
        s.disconnect(Disconnects.subExpired);
        return;
      }
      unsubscribeWithPush(s, sub, Unsubscribes.expired.code, Unsubscribes.expired.reason);
    }
  }

  private refreshPresence(s: Session): void {
    const subs = s.subs;
    let any = false;
    if (subs !== null && s.state === SessionState.connected) {
      const gw = this.gw;
      for (const sub of subs.values()) {
        if (!sub.has(SubFlag.presence) || !sub.has(SubFlag.established)) continue;
        any = true;
        gw.adapters.presence.add(sub.channel, subscriberInfo(s, sub), gw.config.rotor.presenceTtlMs).catch((err: unknown) => {
          gw.log.warn('presence refresh failed', { error: String(err) });
        });
      }
    }
    if (!any && s.presenceBucket >= 0) {
      this.presenceRounds.remove(s, s.presenceBucket);
      s.presenceBucket = -1;
    }
  }
}
