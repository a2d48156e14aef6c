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
import { Proxies } from './proxy/proxies.ts';

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
  /**
   * Connected sessions by user id ('' = anonymous), for limits and control commands: the session
   * itself while a user has one connection (the common case, no Set per user), a Set from two on.
   * Use `addUserSession`, `removeUserSession`, `userSessions`, `userConnections`.
   */
  readonly users = new Map<string, Session | Set<Session>>();
  /** Connected sessions by client id. */
  readonly clients = new Map<string, Session>();
  /** Every open WebSocket session, connected or not (drain, close). */
  readonly sessions = new Set<Session>();
  draining = false;
  closed = false;
  readonly startedAt: number;
  /** Set once the keepalive exists (it needs the context first). */
  keepalive!: Keepalive;
  private proxiesBuilt: Proxies | null = null;

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

  /** The application backend proxies in use (connect, subscribe, publish, rpc, …); startGateway builds them. */
  get proxies(): Proxies {
    return (this.proxiesBuilt ??= new Proxies(this.config, this.metrics));
  }

  addUserSession(s: Session): void {
    const had = this.users.get(s.user);
    if (had === undefined) {
      this.users.set(s.user, s);
    } else if (had instanceof Set) {
      had.add(s);
    } else if (had !== s) {
      // The existing entry's key string is kept; the new session shares it.
      s.user = had.user;
      this.users.set(s.user, new Set([had, s]));
    }
    this.clients.set(s.client, s);
  }

  removeUserSession(s: Session): void {
    const had = this.users.get(s.user);
    if (had === s) {
      this.users.delete(s.user);
    } else if (had instanceof Set && had.delete(s) && had.size === 1) {
      for (const only of had) this.users.set(s.user, only);
    }
    if (this.clients.get(s.client) === s) this.clients.delete(s.client);
  }

  userConnections(user: string): number {
    const had = this.users.get(user);
    if (had === undefined) return 0;
    return had instanceof Set ? had.size : 1;
  }

  /** A snapshot of a user's connected sessions. */
  userSessions(user: string): Session[] {
    const had = this.users.get(user);
    if (had === undefined) return [];
    return had instanceof Set ? [...had] : [had];
  }
}
