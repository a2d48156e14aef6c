// Subscription: one channel of one session, client-side or server-side. Fixed shape, options packed
// into a bit field; it is also the hub's member for that channel.
import type { Namespace } from '@rotor/core';
import type { HubChannel, HubMember } from './hub.ts';
import { MemberState } from './hub.ts';
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
} as const;

export class Subscription implements HubMember {
  hubState: MemberState = MemberState.none;
  heldFrom = 0;
  waitOffset = 0;
  hub: HubChannel | null = null;
  /** Channel info from the subscription token or the connection token's `subs`. */
  chanInfo: Uint8Array | undefined = undefined;
  /** Unix ms at which the subscription expires (0 = never); sub_refresh moves it. */
  expireAt = 0;

  constructor(
    readonly session: Session,
    readonly channel: string,
    readonly namespace: Namespace,
    public flags: number,
  ) {}

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
}
