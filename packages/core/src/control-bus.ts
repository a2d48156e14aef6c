// ControlBus: commands that must reach whichever gateway holds a user's connections, plus the
// cluster-wide view (nodes, channels) that the server API's info and channels methods report.
//
// Implementations: MemoryControlBus (embedded mode: one node, delivered in-process), NatsControlBus
// (@rotor/nats: a control subject every node subscribes to, periodic node heartbeats, and a
// request/reply survey for channels).
//
// Invariants:
// - `send` reaches the handler of every live node, this one included, at most once each.
// - `nodes()` lists this node and every node whose heartbeat is fresher than the heartbeat expiry.
// - Handlers must not throw; a node without a handler (the api role) only sends and aggregates.
import type { Disconnect } from './codes.ts';

/** Which connections a command targets: a user's, optionally narrowed to one client or session. */
export interface ConnectionTarget {
  user: string;
  client?: string;
  session?: string;
}

export type ControlCommand =
  | (ConnectionTarget & {
      kind: 'disconnect';
      disconnect: Disconnect;
      /** Client ids to keep connected. */
      whitelist?: string[];
    })
  | (ConnectionTarget & { kind: 'unsubscribe'; channel: string })
  | (ConnectionTarget & {
      kind: 'subscribe';
      channel: string;
      /** Unix seconds at which the server-side subscription expires; 0 or absent: never. */
      expireAt?: number;
      info?: Uint8Array;
      data?: Uint8Array;
      recoverSince?: { offset: number; epoch: string };
      override?: SubscribeOverride;
    })
  | (ConnectionTarget & {
      kind: 'refresh';
      expired: boolean;
      /** Unix seconds; 0 or absent: never. */
      expireAt?: number;
      info?: Uint8Array;
    });

/** Per-subscription overrides of namespace options (server API subscribe, token `override`). */
export interface SubscribeOverride {
  presence?: boolean;
  joinLeave?: boolean;
  forcePushJoinLeave?: boolean;
  forceRecovery?: boolean;
  forcePositioning?: boolean;
}

export interface NodeInfo {
  uid: string;
  name: string;
  version: string;
  numClients: number;
  numUsers: number;
  numSubs: number;
  numChannels: number;
  uptimeSeconds: number;
}

export interface ControlHandler {
  onCommand(cmd: ControlCommand): void;
  /** This node's figures for heartbeats. */
  nodeInfo(): NodeInfo;
  /** This node's channels with their local subscriber counts. */
  channels(): Map<string, number>;
}

export interface ControlBus {
  setHandler(handler: ControlHandler): void;
  send(cmd: ControlCommand): void;
  nodes(): Promise<NodeInfo[]>;
  /** Channel → number of subscribed clients, summed over every live node. */
  channels(): Promise<Map<string, number>>;
  close(): Promise<void>;
}
