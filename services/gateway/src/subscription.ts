// Subscription: one channel of one session, client-side or server-side. Fixed shape, options packed
// into a bit field; it is also the hub's member for that channel.
import type { Namespace } from '@rotor/core';
import type { HubChannel, HubMember } from './hub.ts';
import type { MemberState } from './hub.ts';
import type { Format } from './hub.ts';
import type { Session } from './session.ts';

export const SubFlag = {
  /** Offset continuity is guaranteed (recovery or positioning on). */
  positioned: 1,
  recoverable: 2,
  /** The client gets join/leave pushes. */
  pushJoinLeave: 4,
  /** Established by the server (token `channels`/`subs`, server API subscribe). */
  serverSide: 8,
  /** Tracked in channel presence. */
  presence: 16,
  /** Publishes join/leave messages. */
  joinLeave: 32,
  /** The subscribe reply was sent; the subscription is live. */
  established: 64,
  /** Expiry is extended by the sub_refresh proxy (server-side), not by the client. */
  serverRefresh: 128,
  /** A server-side refresh of this subscription is in flight (above the hub state bits). */
  refreshing: 1024,
} as const;

/**
 * Milliseconds as seconds for a deadline field: an int32 (a V8 small integer, stored in the field)
 * when they are whole and fit, the exact value otherwise; 0 for "never".
 */
export function smallSeconds(ms: number): number {
  if (!(ms > 0)) return 0;
  const sec = ms / 1000;
  return sec <= 0x7fffffff && sec === Math.floor(sec) ? sec | 0 : sec;
}

/** Bits of `flags` above the SubFlag options: the hub's MemberState. */
const STATE_SHIFT = 8;
const STATE_MASK = 3 << STATE_SHIFT;

export class Subscription implements HubMember {
  heldFrom = 0;
  hub: HubChannel | null = null;
  /** Channel info from the subscription token or the connection token's `subs`. */
  chanInfo: Uint8Array | undefined = undefined;
  /** Unix seconds of the expiry (0 = never): a small integer, not a boxed double (see Session). */
  private expireAtSec = 0;

  readonly channel: string;

  constructor(
    readonly session: Session,
    channel: string,
    readonly namespace: Namespace,
    /** SubFlag bits; the hub state lives in bits 8–9. */
    public flags: number,
  ) {
    // Subscribers of a channel share one copy of its name (the hub's) instead of one decoded copy
    // each.
    this.channel = session.gw.hub.intern(channel);
  }

  /** Owned by the hub. */
  get hubState(): MemberState {
    return ((this.flags & STATE_MASK) >> STATE_SHIFT) as MemberState;
  }

  set hubState(v: MemberState) {
    this.flags = (this.flags & ~STATE_MASK) | (v << STATE_SHIFT);
  }

  /** Unix ms at which the subscription expires (0 = never); sub_refresh moves it. */
  get expireAt(): number {
    return this.expireAtSec * 1000;
  }

  set expireAt(ms: number) {
    this.expireAtSec = smallSeconds(ms);
  }

  get format(): Format {
    return this.session.format;
  }

  get positioned(): boolean {
    return (this.flags & SubFlag.positioned) !== 0;
  }

  get pushJoinLeave(): boolean {
    return (this.flags & SubFlag.pushJoinLeave) !== 0;
  }

  get serverSide(): boolean {
    return (this.flags & SubFlag.serverSide) !== 0;
  }

  has(flag: number): boolean {
    return (this.flags & flag) !== 0;
  }

  subscribeTopic(topic: string): void {
    this.session.ws?.subscribe(topic);
  }

  unsubscribeTopic(topic: string): void {
    this.session.ws?.unsubscribe(topic);
  }

  sendFrame(frame: Uint8Array): void {
    this.session.sendFrame(frame);
  }

  checkSlow(): void {
    this.session.checkSlow();
  }
}
