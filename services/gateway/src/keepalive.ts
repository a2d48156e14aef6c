// Keepalive: every per-connection deadline of the gateway, driven by the gateway's one timer
// (`tick`); no timer and no closure per connection.
//
// - Ping/pong (PROTOCOL.md §4.2): connected sessions sit in ping buckets (Rounds). Visiting a
//   bucket sends the empty ping reply to each of its sessions, and client.pong_timeout later,
//   sessions that did not answer since are closed with 3012. A pong before any ping is 3501. The
//   first ping of a session falls in [interval/2, interval) after connect. Pings are direct sends,
//   not a uWS topic per bucket: a topic membership costs ~80 B of native memory per socket, a send
//   once per ping interval (25 s) about a microsecond.
// - Slow sweep: the ping buckets are also walked every `slowSweepMs` (250 ms) for sockets whose
//   buffered output exceeds client.queue_max_size (3008). It is the backstop: topic traffic, the
//   bulk of what a consumer can fall behind on, is checked by the hub per bytes published to each
//   channel (hub.ts `slowCheckBytes`), so a fast feed meets the soft limit (3008) long before
//   uWS's hard one (1006) whatever its rate; direct writes are checked as they are made.
// - Stale (a connection that has not connected within client.stale_close_delay → 3502) and expiry
//   (§4.8: connection expired + expired_close_delay → 3005; subscription expired +
//   expired_sub_close_delay → Unsubscribe 2501, or 3006 for server-side ones) are one-off deadlines
//   in core's BucketScheduler, keyed by the session.
// - Presence refresh (§4.6): sessions with presence subscriptions sit in presence rounds and
//   re-add their entries every client.presence_update_interval.
//
// Why Rounds for pings rather than the BucketScheduler: pings repeat at one fixed interval for
// everybody, so a session stays in one bucket for life (no rescheduling).
import { BucketScheduler, Disconnects, Unsubscribes } from '@rotor/core';
import type { GatewayContext } from './context.ts';
import { Format } from './hub.ts';
import { Rounds } from './rounds.ts';
import type { Session } from './session.ts';
import { SessionState } from './session.ts';
import { SubFlag } from './subscription.ts';
import type { Subscription } from './subscription.ts';
import { subscriberInfo, unsubscribeWithPush } from './commands/establish.ts';
import { refreshConnection, refreshSubscription } from './proxy/refresh.ts';

export const DEFAULT_SLOW_SWEEP_MS = 250;

export class Keepalive {
  readonly pings: Rounds<Session> | null;
  /** Pings sent per bucket. */
  private readonly pingRound: number[];
  private readonly pongChecks: Array<{ bucket: number; round: number; at: number }> = [];
  private readonly stale: BucketScheduler<Session>;
  private readonly expiry: BucketScheduler<Session>;
  private readonly presenceRounds: Rounds<Session>;
  private sweepCursor = 0;
  private sweepNextAt: number;
  private readonly pingFrames: [Uint8Array, Uint8Array];
  /** Interval at which `tick` should run. */
  readonly tickMs: number;

  constructor(
    private readonly gw: GatewayContext,
    private readonly slowSweepMs = DEFAULT_SLOW_SWEEP_MS,
  ) {
    const cfg = gw.config.client;
    const clock = gw.clock;
    const now = clock.now();
    this.pings = cfg.pingIntervalMs > 0 ? new Rounds<Session>(cfg.pingIntervalMs, now) : null;
    const b = this.pings?.length ?? 0;
    this.pingRound = new Array<number>(b).fill(0);
    this.pingFrames = [gw.codec.ping(Format.json), gw.codec.ping(Format.protobuf)];
    // Deadlines are met within a quarter of the shortest configured delay, at most 1 s late.
    const resolutionMs = Math.max(
      10,
      Math.min(1000, ...[cfg.staleCloseDelayMs, cfg.expiredCloseDelayMs, cfg.expiredSubCloseDelayMs].filter((d) => d > 0).map((d) => d / 4)),
    );
    const onError = (err: unknown): void => gw.log.error('keepalive deadline failed', { error: String(err) });
    this.stale = new BucketScheduler<Session>({ onDue: (s) => this.staleDue(s), resolutionMs, clock, autoStart: false, onError });
    this.expiry = new BucketScheduler<Session>({ onDue: (s) => this.expiryDue(s), resolutionMs, clock, autoStart: false, onError });
    this.presenceRounds = new Rounds<Session>(Math.max(1, cfg.presenceUpdateIntervalMs), now);
    this.sweepNextAt = now;
    // Every round catches up on the buckets that came due, so the driver need not tick once per
    // bucket: 50 ms unless a configured delay asks for finer steps (tests).
    const ticks = [this.presenceRounds.tickMs, resolutionMs, slowSweepMs / 2, 50];
    if (this.pings !== null) ticks.push(this.pings.tickMs);
    if (cfg.pongTimeoutMs > 0) ticks.push(cfg.pongTimeoutMs / 4);
    this.tickMs = Math.max(5, Math.min(...ticks));
  }

  /** A WebSocket opened: it must connect within the stale delay. */
  opened(s: Session): void {
    const delay = this.gw.config.client.staleCloseDelayMs;
    if (delay > 0) this.stale.schedule(s, this.gw.clock.now() + delay);
  }

  /** Connect succeeded: start pinging, watch the expiry. */
  connected(s: Session): void {
    this.stale.cancel(s);
    const pings = this.pings;
    if (pings !== null && s.ws !== null) {
      const bucket = pings.add(s);
      s.pingBucket = bucket;
      s.pingBase = this.pingRound[bucket]!;
      s.pongRound = s.pingBase;
    }
    this.expiryChanged(s);
  }

  /** The connection failed its connect: it has the stale delay to go away by itself. */
  failed(s: Session): void {
    if (!this.stale.has(s)) this.opened(s);
  }

  /** Re-plans the session's next expiry deadline (connect, refresh, subscription changes). */
  expiryChanged(s: Session): void {
    if (s.state !== SessionState.connected) return;
    const next = this.nextExpiry(s);
    if (next > 0) this.expiry.schedule(s, next);
    else this.expiry.cancel(s);
  }

  /** A subscription was established or refreshed. */
  subscribed(s: Session, sub: Subscription): void {
    if (sub.expireAt > 0) this.expiryChanged(s);
    if (sub.has(SubFlag.presence) && s.presenceBucket < 0) s.presenceBucket = this.presenceRounds.add(s);
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
    this.stale.cancel(s);
    this.expiry.cancel(s);
    if (s.pingBucket >= 0) {
      this.pings?.remove(s, s.pingBucket);
      s.pingBucket = -1;
    }
    if (s.presenceBucket >= 0) {
      this.presenceRounds.remove(s, s.presenceBucket);
      s.presenceBucket = -1;
    }
  }

  tick(now: number): void {
    this.stale.tick(now);
    this.expiry.tick(now);
    const pings = this.pings;
    if (pings !== null) {
      pings.run(now, (members, bucket) => this.ping(bucket, members, now));
      const checks = this.pongChecks;
      while (checks.length > 0 && checks[0]!.at <= now) {
        const c = checks.shift()!;
        this.checkPongs(c.bucket, c.round);
      }
      this.sweep(now);
    }
    // Deleting the visited member from a Set during for-of is safe.
    this.presenceRounds.run(now, (members) => {
      for (const s of members) this.refreshPresence(s);
    });
  }

  close(): void {
    this.stale.close();
    this.expiry.close();
  }

  private staleDue(s: Session): void {
    if (s.state === SessionState.connecting || s.state === SessionState.failed) s.disconnect(Disconnects.stale);
  }

  private ping(bucket: number, members: ReadonlySet<Session>, now: number): void {
    if (members.size === 0) return;
    this.pingRound[bucket]!++;
    // A send may close a slow socket, which removes it from `members`: safe during for-of.
    for (const s of members) s.sendFrame(this.pingFrames[s.format]);
    const pongTimeout = this.gw.config.client.pongTimeoutMs;
    if (pongTimeout > 0) this.pongChecks.push({ bucket, round: this.pingRound[bucket]!, at: now + pongTimeout });
  }

  private checkPongs(bucket: number, round: number): void {
    const members = this.pings?.bucket(bucket);
    if (members === undefined) return;
    for (const s of members) if (s.pingBase < round && s.pongRound < round) s.disconnect(Disconnects.noPong);
  }

  /** Walks the ping buckets so that every connected socket's buffer is checked every slowSweepMs. */
  private sweep(now: number): void {
    const pings = this.pings!;
    const b = pings.length;
    const step = this.slowSweepMs / b;
    const limit = this.gw.config.client.queueMaxSize;
    let budget = b;
    while (now >= this.sweepNextAt && budget-- > 0) {
      const members = pings.bucket(this.sweepCursor);
      this.sweepCursor = (this.sweepCursor + 1) % b;
      this.sweepNextAt += step;
      for (const s of members) {
        const ws = s.ws;
        if (ws !== null && ws.getBufferedAmount() > limit) s.slow();
      }
    }
    if (now >= this.sweepNextAt) this.sweepNextAt = now + step;
  }

  /**
   * The earliest close/unsubscribe/refresh deadline of a session, 0 when none. Connections and
   * subscriptions refreshed by a proxy are due at their expiry (no grace), and not while their
   * refresh is in flight.
   */
  private nextExpiry(s: Session): number {
    const cfg = this.gw.config.client;
    const serverRefresh = this.gw.proxies.refresh !== null;
    let next = 0;
    if (s.expireAt > 0 && s.proxy?.refreshing !== true) next = serverRefresh ? s.expireAt : s.expireAt + cfg.expiredCloseDelayMs;
    for (const sub of s.subscriptionList()) {
      if (sub.expireAt <= 0 || sub.has(SubFlag.refreshing)) continue;
      const at = sub.has(SubFlag.serverRefresh) ? sub.expireAt : sub.expireAt + cfg.expiredSubCloseDelayMs;
      if (next === 0 || at < next) next = at;
    }
    return next;
  }

  private expiryDue(s: Session): void {
    if (s.state !== SessionState.connected) return;
    const cfg = this.gw.config.client;
    const now = this.gw.clock.now();
    if (s.expireAt > 0) {
      if (this.gw.proxies.refresh !== null) {
        if (s.expireAt <= now) refreshConnection(s);
      } else if (s.expireAt + cfg.expiredCloseDelayMs <= now) {
        s.disconnect(Disconnects.expired);
        return;
      }
    }
    for (const sub of s.subscriptionList()) {
      if (!(sub.expireAt > 0 && sub.has(SubFlag.established))) continue;
      if (s.closed) return;
      if (sub.has(SubFlag.serverRefresh)) {
        if (sub.expireAt <= now) refreshSubscription(s, sub);
        continue;
      }
      if (sub.expireAt + cfg.expiredSubCloseDelayMs > now) continue;
      if (sub.serverSide) {
        s.disconnect(Disconnects.subExpired);
        return;
      }
      unsubscribeWithPush(s, sub, Unsubscribes.expired.code, Unsubscribes.expired.reason);
    }
    this.expiryChanged(s);
  }

  private refreshPresence(s: Session): void {
    let any = false;
    if (s.state === SessionState.connected) {
      const gw = this.gw;
      for (const sub of s.subscriptionList()) {
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
