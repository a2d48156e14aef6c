// NatsControlBus: the ControlBus contract over NATS.
// - Commands: one control subject every node with a handler subscribes to; `send` publishes there,
//   so it reaches every live node, this one included (echo is on), at most once each.
// - Heartbeats: a node with a handler publishes its NodeInfo every `heartbeatIntervalMs`, saying
//   how long it should be considered live (`heartbeatExpiryMs`, default 3 intervals). Every bus
//   (api nodes too) listens and keeps the fresh ones; a closing node sends expiry 0 to leave at once.
//   Expiry is measured on the receiver's clock, so clocks of different nodes need not agree.
// - channels(): a request/reply survey. Every node with a handler answers with its channel
//   counts; the asker waits for as many answers as it knows live nodes, or `surveyTimeoutMs`.
import { randomUUID } from 'node:crypto';
import type { Msg, NatsConnection, NatsError, Subscription } from 'nats';
import { systemClock } from '@rotor/core';
import type { Clock, ControlBus, ControlCommand, ControlHandler, NodeInfo } from '@rotor/core';
import {
  decodeChannelsSurveyReply,
  decodeControlCommand,
  decodeHeartbeat,
  encodeChannelsSurveyReply,
  encodeControlCommand,
  encodeHeartbeat,
} from './envelope.ts';
import { Subjects } from './subjects.ts';

export interface NatsControlBusOptions {
  subjects?: Subjects;
  /** This node's id (default: a random UUID). */
  uid?: string;
  clock?: Clock;
  heartbeatIntervalMs?: number;
  heartbeatExpiryMs?: number;
  surveyTimeoutMs?: number;
  onError?: (err: unknown, context: string) => void;
}

interface PeerEntry {
  info: NodeInfo;
  expiresAt: number;
}

export class NatsControlBus implements ControlBus {
  readonly uid: string;
  private readonly subjects: Subjects;
  private readonly clock: Clock;
  private readonly intervalMs: number;
  private readonly expiryMs: number;
  private readonly surveyTimeoutMs: number;
  private readonly onError: (err: unknown, context: string) => void;
  private readonly peers = new Map<string, PeerEntry>();
  private readonly hbSub: Subscription;
  private handler: ControlHandler | null = null;
  private ctlSub: Subscription | null = null;
  private surveySub: Subscription | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly nc: NatsConnection,
    opts: NatsControlBusOptions = {},
  ) {
    this.uid = opts.uid ?? randomUUID();
    this.subjects = opts.subjects ?? new Subjects();
    this.clock = opts.clock ?? systemClock;
    this.intervalMs = opts.heartbeatIntervalMs ?? 5000;
    this.expiryMs = opts.heartbeatExpiryMs ?? this.intervalMs * 3;
    this.surveyTimeoutMs = opts.surveyTimeoutMs ?? 2000;
    this.onError = opts.onError ?? ((err, context) => console.error(`control bus: ${context}`, err));
    this.hbSub = nc.subscribe(this.subjects.heartbeat, { callback: (err, msg) => this.onHeartbeat(err, msg) });
  }

  /** Resolves once this bus's subscriptions are active on the server. */
  ready(): Promise<void> {
    return this.nc.flush();
  }

  setHandler(handler: ControlHandler): void {
    this.handler = handler;
    if (this.ctlSub !== null || this.closed) return;
    this.ctlSub = this.nc.subscribe(this.subjects.control, { callback: (err, msg) => this.onControl(err, msg) });
    this.surveySub = this.nc.subscribe(this.subjects.channelsSurvey, { callback: (err, msg) => this.onSurvey(err, msg) });
    this.sendHeartbeat(this.expiryMs);
    this.timer = setInterval(() => this.sendHeartbeat(this.expiryMs), this.intervalMs);
    this.timer.unref();
  }

  send(cmd: ControlCommand): void {
    if (this.closed) throw new Error('control bus is closed');
    this.nc.publish(this.subjects.control, encodeControlCommand(cmd));
  }

  async nodes(): Promise<NodeInfo[]> {
    const now = this.clock.now();
    const out: NodeInfo[] = [];
    if (this.handler !== null && !this.closed) out.push({ ...this.handler.nodeInfo(), uid: this.uid });
    for (const [uid, peer] of this.peers) {
      if (now >= peer.expiresAt) {
        this.peers.delete(uid);
        continue;
      }
      if (uid !== this.uid) out.push(peer.info);
    }
    return out;
  }

  async channels(): Promise<Map<string, number>> {
    const total = new Map<string, number>();
    const add = (m: Map<string, number>) => {
      for (const [ch, n] of m) total.set(ch, (total.get(ch) ?? 0) + n);
    };
    if (this.handler !== null && !this.closed) add(this.handler.channels());
    const expected = (await this.nodes()).filter((n) => n.uid !== this.uid).length;
    if (expected === 0 || this.closed) return total;
    try {
      const replies = await this.nc.requestMany(this.subjects.channelsSurvey, new Uint8Array(0), {
        maxWait: this.surveyTimeoutMs,
        // Our own answer (if any) comes back too: ask for one more and skip it by uid.
        maxMessages: expected + (this.handler !== null ? 1 : 0),
      });
      for await (const msg of replies) {
        try {
          const rep = decodeChannelsSurveyReply(msg.data);
          if (rep.uid !== this.uid) add(rep.channels);
        } catch (err) {
          this.onError(err, 'malformed survey reply');
        }
      }
    } catch (err) {
      // No responders or a timeout: report what we have (the nodes that answered).
      this.onError(err, 'channels survey');
    }
    return total;
  }

  private onControl(err: NatsError | null, msg: Msg): void {
    if (err !== null) return this.onError(err, 'control subscription');
    const h = this.handler;
    if (h === null || this.closed) return;
    let cmd: ControlCommand;
    try {
      cmd = decodeControlCommand(msg.data);
    } catch (e) {
      return this.onError(e, 'malformed control command');
    }
    try {
      h.onCommand(cmd);
    } catch (e) {
      this.onError(e, 'control handler threw');
    }
  }

  private onHeartbeat(err: NatsError | null, msg: Msg): void {
    if (err !== null) return this.onError(err, 'heartbeat subscription');
    let hb;
    try {
      hb = decodeHeartbeat(msg.data);
    } catch (e) {
      return this.onError(e, 'malformed heartbeat');
    }
    if (hb.expiresInMs === 0) {
      this.peers.delete(hb.uid);
      return;
    }
    const { expiresInMs: _e, ...info } = hb;
    this.peers.set(hb.uid, { info, expiresAt: this.clock.now() + hb.expiresInMs });
  }

  private onSurvey(err: NatsError | null, msg: Msg): void {
    if (err !== null) return this.onError(err, 'survey subscription');
    const h = this.handler;
    if (h === null || this.closed || !msg.reply) return;
    try {
      msg.respond(encodeChannelsSurveyReply(this.uid, h.channels()));
    } catch (e) {
      this.onError(e, 'survey reply');
    }
  }

  private sendHeartbeat(expiresInMs: number): void {
    const h = this.handler;
    if (h === null) return;
    try {
      const info = h.nodeInfo();
      this.nc.publish(this.subjects.heartbeat, encodeHeartbeat({ ...info, uid: this.uid, expiresInMs }));
    } catch (e) {
      this.onError(e, 'heartbeat');
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    if (this.handler !== null && !this.nc.isClosed()) {
      // Leave at once instead of after the expiry.
      this.sendHeartbeat(0);
      await this.nc.flush().catch((e: unknown) => this.onError(e, 'flush on close'));
    }
    this.closed = true;
    this.hbSub.unsubscribe();
    this.ctlSub?.unsubscribe();
    this.surveySub?.unsubscribe();
  }
}
