// GatewayContext: everything the sessions of one gateway share — configuration, adapters, the hub,
// the codec, metrics and the connection registries. One instance per gateway; sessions hold a
// reference to it instead of closures.
import type {
  Broker,
  Clock,
  ControlBus,
  HistoryStore,
  PresenceStore,
  Publisher,
  RotorConfig,
  TokenVerifier,
} from '@rotor/core';
import type { ChannelRules, Logger } from '@rotor/core';
import type { GatewayCodec } from './codec.ts';
import type { Hub } from './hub.ts';
import type { GatewayMetrics } from './metrics.ts';
import type { Session } from './session.ts';
import type { Keepalive } from './keepalive.ts';

/** The gateway logs through core's structured logger. */
export type Log = Logger;

export interface GatewayAdapters {
  broker: Broker;
  history: HistoryStore;
  presence: PresenceStore;
  publisher: Publisher;
  controlBus: ControlBus;
  tokenVerifier: TokenVerifier;
}

export class GatewayContext {
  /** Connected sessions by user id ('' = anonymous), for limits and control commands. */
  readonly users = new Map<string, Set<Session>>();
  /** Connected sessions by client id. */
  readonly clients = new Map<string, Session>();
  /** Every open WebSocket session, connected or not (drain, close). */
  readonly sessions = new Set<Session>();
  draining = false;
  closed = false;
  readonly startedAt: number;
  /** Set once the keepalive exists (it needs the context first). */
  keepalive!: Keepalive;

  constructor(
    readonly config: RotorConfig,
    readonly adapters: GatewayAdapters,
    readonly rules: ChannelRules,
    readonly hub: Hub,
    readonly codec: GatewayCodec,
    readonly metrics: GatewayMetrics,
    readonly clock: Clock,
    readonly log: Log,
    readonly nodeId: string,
    readonly version: string,
  ) {
    this.startedAt = clock.now();
  }

  addUserSession(s: Session): void {
    let set = this.users.get(s.user);
    if (set === undefined) {
      set = new Set();
      this.users.set(s.user, set);
    }
    set.add(s);
    this.clients.set(s.client, s);
  }

  removeUserSession(s: Session): void {
    const set = this.users.get(s.user);
    if (set !== undefined && set.delete(s) && set.size === 0) this.users.delete(s.user);
    if (this.clients.get(s.client) === s) this.clients.delete(s.client);
  }

  userConnections(user: string): number {
    return this.users.get(user)?.size ?? 0;
  }
}
