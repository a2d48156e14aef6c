// Emulation: this gateway's emulated streams by session id, their topic table, and the routing of
// /emulation requests (PROTOCOL.md §6.1 step 3, §12.11).
//
// A request names the node holding the stream (ConnectResult.node = the gateway's node id). Ours:
// its commands go to the session at once (a session gone meanwhile is fine: 204, its stream has
// ended). Another node's: in cluster mode several gateway processes share the port, so the request
// may land on the wrong one; it is forwarded through the EmulationRelay (NATS subject
// `<prefix>.emu.<node>`), and answered 404 only when no node of that id is alive. Embedded mode has
// no relay: any other node is unknown.
import type { Log } from '../context.ts';
import { EmulatedTopics } from './stream.ts';
import type { EmulatedSocket } from './stream.ts';

/**
 * Carries /emulation requests between gateway processes (implemented over NATS by
 * `NatsEmulationRelay` of @rotor/nats).
 */
export interface EmulationRelay {
  /**
   * Receives the requests addressed to `node` (this gateway) and hands them to `deliver`. Resolves
   * once requests can arrive; the returned function stops listening.
   */
  listen(node: string, deliver: (session: string, data: Uint8Array) => void): Promise<() => void>;
  /**
   * Hands a request to the gateway `node`. Resolves true once that gateway took it, false when no
   * gateway of that id is alive; rejects when the cluster cannot tell (timeout, NATS down).
   */
  forward(node: string, session: string, data: Uint8Array): Promise<boolean>;
}

export const RouteResult = { delivered: 0, unknownNode: 1 } as const;
export type RouteResult = (typeof RouteResult)[keyof typeof RouteResult];

/** Node ids that may be routed: a subject token (our node ids are UUIDs). */
const NODE_ID = /^[A-Za-z0-9_-]{1,128}$/;
/** Longer session ids (UTF-8 bytes) were never issued (ours are UUIDs). */
const MAX_SESSION_LENGTH = 128;

export class Emulation {
  readonly topics: EmulatedTopics;
  private readonly streams = new Map<string, EmulatedSocket>();
  private stopListening: (() => void) | null = null;

  constructor(
    private readonly nodeId: string,
    queueMaxSize: number,
    private readonly relay: EmulationRelay | null,
    private readonly log: Log,
  ) {
    this.topics = new EmulatedTopics(queueMaxSize);
  }

  /** Starts taking requests forwarded by other gateways (cluster mode). */
  async start(): Promise<void> {
    if (this.relay === null) return;
    this.stopListening = await this.relay.listen(this.nodeId, (session, data) => this.deliver(session, data));
  }

  stop(): void {
    this.stopListening?.();
    this.stopListening = null;
  }

  get streamCount(): number {
    return this.streams.size;
  }

  add(s: EmulatedSocket): void {
    this.streams.set(s.sessionId, s);
  }

  remove(s: EmulatedSocket): void {
    if (this.streams.get(s.sessionId) === s) this.streams.delete(s.sessionId);
  }

  /** Commands of one /emulation request for a stream of this gateway (ignored when it is gone). */
  deliver(session: string, data: Uint8Array): void {
    const s = this.streams.get(session);
    if (s === undefined || s.closed) return;
    if (data.length === 0) return;
    s.session.receive(data);
  }

  /** Routes one request to the gateway holding its stream. */
  async route(node: string, session: string, data: Uint8Array): Promise<RouteResult> {
    // In bytes: the relay's message holds at most 255 of them.
    const issuable = Buffer.byteLength(session, 'utf8') <= MAX_SESSION_LENGTH;
    if (node === this.nodeId) {
      if (issuable) this.deliver(session, data);
      return RouteResult.delivered;
    }
    if (this.relay === null || !NODE_ID.test(node)) return RouteResult.unknownNode;
    if (!issuable) return RouteResult.delivered;
    const taken = await this.relay.forward(node, session, data);
    if (!taken) this.log.debug('emulation request for an unknown node', () => ({ node }));
    return taken ? RouteResult.delivered : RouteResult.unknownNode;
  }
}
