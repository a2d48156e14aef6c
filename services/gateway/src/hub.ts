// Hub: this node's per-channel fan-out state. It is the gateway's BrokerHandler.
//
// For each channel with local subscribers the hub holds one broker subscription (taken for the
// first local subscriber, dropped after the last), the live stream position (epoch + last offset),
// per-format subscriber counts and the pushes that arrived in the current event-loop turn.
//
// Fan-out. Every channel has four uWebSockets topics: publications in JSON, publications in
// protobuf, and join/leave pushes in each format (only subscribers that asked for join/leave are on
// those). A publication is encoded once per format that has subscribers and appended to the
// channel's pending buffer; all pushes of one channel that arrive in the same turn are joined into
// one frame per topic and handed to the native `app.publish` once, from a single flush scheduled for
// the end of the turn. Per publication that is O(1) JavaScript work; per subscriber, native work only.
//
// Ordering (PROTOCOL.md §4.3, §4.5). A subscriber joins in three steps: `join` registers it (from
// then on live publications of the channel are also *held* for it), the caller reads history and
// sends the subscribe reply, then `completeJoin` delivers the held publications the client does not
// have yet (offset above the reply's position, contiguous, once) and only then subscribes its socket
// to the topics — all synchronously, after flushing the channel, so nothing slips in between and
// nothing is delivered twice. When the history read saw a position the live stream has not reached
// yet (the publication is still in flight), the member *waits* off-topic until the stream catches up.
//
// Positioning. Live publications must continue the stream: offset == last + 1 in the same epoch.
// Stale duplicates (offset <= last) are dropped for everyone. The broker is at-most-once (NATS
// core), so a gap (offset > last + 1, same epoch) means publications were lost on the way to this
// node: the channel is *repaired* from history — one read per channel, however many subscribers —
// while its live publications are queued; then the missing and the queued publications go through
// the normal path in offset order, without duplicates, and nobody is disconnected. The periodic
// position check (client.channel_position_check_delay) runs the same repair on channels that saw
// no publication for a period: it catches a lost *last* publication, which no later one reveals.
// Only when repair is impossible — the history no longer holds the missing range, the epoch
// changed, the reads keep failing, or the queue outgrows its bounds — do the positioned
// subscriptions end (the session turns that into Unsubscribe 2500 for client subscriptions and
// disconnect 3010 for server-side ones) after what came before the gap was flushed; every other
// subscriber still gets each publication the node received, in order.
//
// A channel whose position is not known yet (no live publication with an offset since the broker
// subscription started) takes it from its first positioned subscriber's history read. Publications
// that were still in flight then arrive below that position: they are "late" — never delivered on
// this node — and go to the non-positioned subscribers (directly, not through the topics the
// positioned ones share) and to joiners, instead of being dropped as duplicates.
import type { Broker, BrokerHandler, ClientInfo, Clock, Publication, ReadResult, StreamPosition } from '@rotor/core';
import type { GatewayMetrics } from './metrics.ts';
import { RepairOutcome } from './metrics.ts';
import { Rounds } from './rounds.ts';

export const Format = { json: 0, protobuf: 1 } as const;
export type Format = (typeof Format)[keyof typeof Format];

/**
 * Builds the wire bytes of pushes; each result is one complete message of a frame. `prepare` is
 * called once per channel (e.g. to pre-encode its name); its result is passed back as `ch`.
 */
export interface HubEncoder {
  prepare(channel: string): unknown;
  publication(ch: unknown, pub: Publication, format: Format): Uint8Array;
  join(ch: unknown, info: ClientInfo, format: Format): Uint8Array;
  leave(ch: unknown, info: ClientInfo, format: Format): Uint8Array;
  /** Joins messages of one format into one WebSocket frame. */
  frame(parts: readonly Uint8Array[], format: Format): Uint8Array;
}

/** Native topic fan-out (uWebSockets `app.publish`). */
export interface TopicSink {
  publish(topic: string, frame: Uint8Array, isBinary: boolean): void;
}

/** Where the hub repairs gaps from. */
export interface HubHistory {
  /**
   * The publications after `since`, ascending, at most `limit` (> 0), and the stream's current
   * top; no publications when `since.epoch` is not the current epoch (HistoryStore.read).
   */
  read(channel: string, since: StreamPosition, limit: number): Promise<ReadResult>;
}

/** Member lifecycle inside the hub. */
export const MemberState = { none: 0, joining: 1, waiting: 2, attached: 3 } as const;
export type MemberState = (typeof MemberState)[keyof typeof MemberState];

/** A subscription as the hub sees it (implemented by the session's Subscription). */
export interface HubMember {
  readonly format: Format;
  /** Positioned subscriptions get the offset-continuity guarantees. */
  readonly positioned: boolean;
  readonly pushJoinLeave: boolean;
  /** Owned by the hub. */
  hubState: MemberState;
  /** Owned by the hub: absolute index of the first held publication that concerns the member. */
  heldFrom: number;
  subscribeTopic(topic: string): void;
  unsubscribeTopic(topic: string): void;
  /** Sends a frame straight to the member's socket (held and late publications). */
  sendFrame(frame: Uint8Array, isBinary: boolean): void;
  /** Closes the member's connection (3008) if its outbound buffer is over the soft limit. */
  checkSlow(): void;
}

export interface HubEvents {
  /** The member was removed from the hub because its position can no longer be guaranteed. */
  insufficientState(member: HubMember): void;
  /** A JSON member would be sent a payload that is not valid JSON (disconnect 3506). */
  inappropriateProtocol(member: HubMember): void;
}

export const JoinOutcome = { attached: 0, waiting: 1, insufficient: 2 } as const;
export type JoinOutcome = (typeof JoinOutcome)[keyof typeof JoinOutcome];

/** Topic slots of a channel. */
const PUB = 0; // + format
const JL = 2; // + format

/** Marks an encoding that failed (payload not valid for the format). */
const INVALID = new Uint8Array(0);

interface Held {
  pub: Publication;
  epoch: string;
  enc: Array<Uint8Array | null>;
}

interface Queued {
  pub: Publication;
  epoch: string;
}

/** A repair in progress on one channel (at most one per channel). */
class Repair {
  /** Live publications that arrived since the repair started, in arrival order. */
  queue: Queued[] = [];
  queuedBytes = 0;
  /** Consecutive reads that failed or brought nothing. */
  attempts = 0;
  timer: NodeJS.Timeout | null = null;
  /** Publications the reads supplied that the live stream had not brought. */
  supplied = 0;
  /**
   * Position check: catch up to the top the first read reported (0 until then). A gap repair only
   * needs the queue to continue the stream.
   */
  target = 0;

  constructor(readonly toTop: boolean) {}
}

export class HubChannel {
  readonly topics: readonly [string, string, string, string];
  /** Attached subscribers per topic slot. */
  readonly counts = [0, 0, 0, 0];
  readonly members = new Set<HubMember>();
  /** Resolves once the broker subscription is active. */
  ready: Promise<void> = Promise.resolve();
  failed = false;
  closed = false;
  // Live stream position.
  posKnown = false;
  epoch = '';
  last = 0;
  /**
   * When the position came from a history read: offsets up to `lateUntil` that arrive later were in
   * flight, never delivered here (0 = none expected); `lateSeen` is the last one delivered.
   */
  lateUntil = 0;
  lateSeen = 0;
  lastPubAt = 0;
  /** Bucket in the position-check rounds, -1 when not positioned. */
  posBucket = -1;
  /** Attached or waiting positioned members. */
  positioned = 0;
  repair: Repair | null = null;
  // Join window.
  joining = 0;
  /** Waiting members and the reply position each needs the live stream to reach. */
  waiters: Map<HubMember, number> | null = null;
  held: Held[] | null = null;
  heldBytes = 0;
  heldBase = 0;
  /** Bytes published to the channel's topics since its members' buffers were last checked. */
  unchecked = 0;
  // Pending pushes of the current turn, per topic slot.
  readonly pending: Uint8Array[][] = [[], [], [], []];
  readonly pendingBytes = [0, 0, 0, 0];
  dirty = false;

  constructor(
    readonly name: string,
    id: number,
    /** The encoder's per-channel handle. */
    readonly prepared: unknown,
  ) {
    const s = id.toString(36);
    // Short topics keep uWS's per-subscription memory small; channel names never reach uWS.
    this.topics = [`j${s}`, `b${s}`, `J${s}`, `B${s}`];
  }

  /** Local attached subscribers. */
  get subscribers(): number {
    return (this.counts[PUB] ?? 0) + (this.counts[PUB + 1] ?? 0);
  }

  /** A repair (gap or position check) is in progress. */
  get repairing(): boolean {
    return this.repair !== null;
  }
}

export type FlushMode = 'microtask' | 'immediate';

export interface RepairOptions {
  /** Most publications one repair read asks for (default 1000). */
  batch?: number;
  /** Reads that fail (or bring nothing) in a row before the repair gives up (default 4). */
  attempts?: number;
  /** Delay before the first retry, doubled for each further one (default 100 ms). */
  backoffMs?: number;
}

export interface HubOptions {
  broker: Broker;
  sink: TopicSink;
  encoder: HubEncoder;
  events: HubEvents;
  metrics: GatewayMetrics;
  clock: Clock;
  /**
   * When the per-turn flush runs: 'immediate' (default) flushes once per event-loop turn, after
   * every I/O callback of the poll phase, so pushes from several broker reads share a frame;
   * 'microtask' flushes after each delivering callback. hub.bench.ts (part B) measured 5.7 M vs
   * 3.1 M messages/s delivered to 200 local subscribers with 'immediate'.
   */
  flushMode?: FlushMode;
  /** A topic's pending frame is flushed early once it holds this many bytes. */
  maxFrameBytes?: number;
  /**
   * Live publications (and their payload bytes) held for joining members, or queued while a
   * channel is repaired; beyond either bound the joiners of that moment get insufficient state, and
   * a repair is given up, instead of the buffer growing.
   */
  maxHeld?: number;
  maxHeldBytes?: number;
  /**
   * The history that gaps are repaired from. Without it a gap ends the positioned subscriptions at
   * once and there are no position checks.
   */
  history?: HubHistory;
  /**
   * Period of the position check (client.channel_position_check_delay; 0 = off): a channel with
   * positioned subscribers that saw no publication for this long is repaired up to the history top.
   * Channels are spread over the period.
   */
  positionCheckMs?: number;
  repair?: RepairOptions;
  /**
   * Slow-consumer check (0 = off): once this many bytes were published to a channel's topics since
   * its members' outbound buffers were last checked, every attached member is checked (see
   * README, "Slow consumers"). No socket can grow by more than this between two checks of its
   * channel, whatever the rate, at one native call per member per this many bytes of channel traffic.
   */
  slowCheckBytes?: number;
  onError?: (err: unknown, what: string) => void;
}

/** Position-check rounds visit one bucket every this many ms at most (spreads channels). */
const POSITION_TICK_MS = 50;

export class Hub implements BrokerHandler {
  readonly channels = new Map<string, HubChannel>();
  /** Channels whose positioned subscribers need periodic position checks. */
  readonly positionedChannels = new Set<HubChannel>();
  private readonly closing = new Map<string, Promise<void>>();
  private readonly dirty: HubChannel[] = [];
  private flushScheduled = false;
  private nextId = 1;
  private readonly broker: Broker;
  private readonly sink: TopicSink;
  private readonly encoder: HubEncoder;
  private readonly events: HubEvents;
  private readonly metrics: GatewayMetrics;
  private readonly clock: Clock;
  private readonly flushMode: FlushMode;
  private readonly maxFrameBytes: number;
  private readonly maxHeld: number;
  private readonly maxHeldBytes: number;
  private readonly onError: (err: unknown, what: string) => void;
  private readonly flushBound = (): void => this.flush();
  private readonly history: HubHistory | null;
  private readonly positionCheckMs: number;
  private readonly positionRounds: Rounds<HubChannel> | null;
  private readonly repairBatch: number;
  private readonly repairAttempts: number;
  private readonly repairBackoffMs: number;
  private readonly slowCheckBytes: number;

  constructor(opts: HubOptions) {
    this.broker = opts.broker;
    this.sink = opts.sink;
    this.encoder = opts.encoder;
    this.events = opts.events;
    this.metrics = opts.metrics;
    this.clock = opts.clock;
    this.flushMode = opts.flushMode ?? 'immediate';
    this.maxFrameBytes = opts.maxFrameBytes ?? 64 * 1024;
    this.maxHeld = opts.maxHeld ?? 10_000;
    this.maxHeldBytes = opts.maxHeldBytes ?? 16 * 1024 * 1024;
    this.onError = opts.onError ?? (() => undefined);
    this.history = opts.history ?? null;
    this.repairBatch = Math.max(1, opts.repair?.batch ?? 1000);
    this.repairAttempts = Math.max(1, opts.repair?.attempts ?? 4);
    this.repairBackoffMs = Math.max(0, opts.repair?.backoffMs ?? 100);
    this.slowCheckBytes = Math.max(0, opts.slowCheckBytes ?? 0);
    const period = this.history !== null ? (opts.positionCheckMs ?? 0) : 0;
    this.positionCheckMs = period > 0 ? period : 0;
    this.positionRounds =
      this.positionCheckMs > 0
        ? new Rounds<HubChannel>(this.positionCheckMs, opts.clock.now(), Math.ceil(this.positionCheckMs / POSITION_TICK_MS), POSITION_TICK_MS)
        : null;
  }

  /** Tick interval the position checks need from the driver (0 when disabled). */
  get positionTickMs(): number {
    return this.positionRounds?.tickMs ?? 0;
  }

  /** The hub's copy of a channel name when the channel has local subscribers, else `name`. */
  intern(name: string): string {
    return this.channels.get(name)?.name ?? name;
  }

  // ---- membership -------------------------------------------------------------------------

  /**
   * Registers `m` as joining `name` and returns the channel; `await channel.ready` before reading
   * history. From now on live publications are held for `m`. Always pair with `completeJoin` or
   * `leave`.
   */
  join(name: string, m: HubMember): HubChannel {
    let ch = this.channels.get(name);
    if (ch === undefined || ch.failed) ch = this.open(name);
    ch.members.add(m);
    m.hubState = MemberState.joining;
    ch.joining++;
    if (ch.held === null) ch.held = [];
    m.heldFrom = ch.heldBase + ch.held.length;
    return ch;
  }

  private open(name: string): HubChannel {
    const ch = new HubChannel(name, this.nextId++, this.encoder.prepare(name));
    this.channels.set(name, ch);
    this.metrics.channels = this.channels.size;
    const before = this.closing.get(name);
    const subscribe = (): Promise<void> => this.broker.subscribe(name);
    ch.ready = before === undefined ? subscribe() : before.then(subscribe);
    ch.ready.catch((err: unknown) => {
      ch.failed = true;
      this.onError(err, 'broker subscribe');
    });
    return ch;
  }

  /**
   * Finishes a join after the subscribe reply was sent. `position` is the stream position the reply
   * told the client (offset = what the client has), or null for a subscription without positioning.
   * Sends the held publications the client still needs, then subscribes its socket to the topics.
   */
  completeJoin(ch: HubChannel, m: HubMember, position: StreamPosition | null): JoinOutcome {
    if (m.hubState !== MemberState.joining || ch.closed) return JoinOutcome.insufficient;
    // Pending pushes go to the current subscribers first; `m` gets its share from the held list.
    this.flushChannel(ch);
    if (position === null) {
      this.sendHeld(ch, m, -1, '');
      if (m.hubState !== MemberState.joining) return JoinOutcome.insufficient;
      this.attach(ch, m);
      return JoinOutcome.attached;
    }
    if (m.heldFrom < ch.heldBase) return this.insufficient(ch, m);
    if (!ch.posKnown || (ch.epoch !== position.epoch && ch.positioned === 0)) {
      // No live publication with an offset arrived since the broker subscription started (or only
      // ones of another epoch, and no positioned subscriber depends on it): the read is the best
      // knowledge of the stream. Publications still in flight below it are late.
      ch.posKnown = true;
      ch.epoch = position.epoch;
      ch.last = position.offset;
      ch.lateUntil = position.offset;
      ch.lateSeen = 0;
    }
    if (ch.epoch !== position.epoch) return this.insufficient(ch, m);
    if (ch.last < position.offset) {
      m.hubState = MemberState.waiting;
      (ch.waiters ??= new Map()).set(m, position.offset);
      this.addPositioned(ch);
      return JoinOutcome.waiting;
    }
    if (!this.sendHeld(ch, m, position.offset, position.epoch)) return this.insufficient(ch, m);
    // Sending may have closed the socket (slow consumer, invalid payload): then it already left.
    if (m.hubState !== MemberState.joining) return JoinOutcome.insufficient;
    this.addPositioned(ch);
    this.attach(ch, m);
    return JoinOutcome.attached;
  }

  /** Removes `m` from its channel; `socketOpen` false when its WebSocket is already closed. */
  leave(ch: HubChannel, m: HubMember, socketOpen: boolean): void {
    if (!ch.members.delete(m)) return;
    const state = m.hubState;
    m.hubState = MemberState.none;
    if (state === MemberState.attached) {
      ch.counts[PUB + m.format]!--;
      if (socketOpen) m.unsubscribeTopic(ch.topics[PUB + m.format]!);
      if (m.pushJoinLeave) {
        ch.counts[JL + m.format]!--;
        if (socketOpen) m.unsubscribeTopic(ch.topics[JL + m.format]!);
      }
      if (m.positioned) this.removePositioned(ch);
    } else if (state === MemberState.waiting) {
      const w = ch.waiters;
      if (w !== null && w.delete(m) && w.size === 0) ch.waiters = null;
      this.removePositioned(ch);
      this.joined(ch);
    } else if (state === MemberState.joining) {
      this.joined(ch);
    }
    if (ch.members.size === 0) this.close(ch);
  }

  private joined(ch: HubChannel): void {
    ch.joining--;
    if (ch.joining === 0) {
      ch.heldBase += ch.held?.length ?? 0;
      ch.held = null;
      ch.heldBytes = 0;
    }
  }

  private attach(ch: HubChannel, m: HubMember): void {
    const wasWaiting = m.hubState === MemberState.waiting;
    m.hubState = MemberState.attached;
    this.joined(ch);
    const w = ch.waiters;
    if (wasWaiting && w !== null && w.delete(m) && w.size === 0) ch.waiters = null;
    m.subscribeTopic(ch.topics[PUB + m.format]!);
    ch.counts[PUB + m.format]!++;
    if (m.pushJoinLeave) {
      m.subscribeTopic(ch.topics[JL + m.format]!);
      ch.counts[JL + m.format]!++;
    }
  }

  private insufficient(ch: HubChannel, m: HubMember): JoinOutcome {
    this.leave(ch, m, true);
    this.metrics.insufficientState++;
    return JoinOutcome.insufficient;
  }

  private addPositioned(ch: HubChannel): void {
    if (ch.positioned++ === 0) {
      this.positionedChannels.add(ch);
      if (this.positionRounds !== null) ch.posBucket = this.positionRounds.add(ch);
    }
  }

  private removePositioned(ch: HubChannel): void {
    if (--ch.positioned === 0) this.unposition(ch);
  }

  private unposition(ch: HubChannel): void {
    this.positionedChannels.delete(ch);
    if (ch.posBucket >= 0) {
      this.positionRounds?.remove(ch, ch.posBucket);
      ch.posBucket = -1;
    }
  }

  /**
   * Sends `m` the held publications after `afterOffset` (all of them when -1). For a positioned
   * member they must continue its position without a gap, in its epoch, up to the channel's
   * position; returns false if not.
   */
  private sendHeld(ch: HubChannel, m: HubMember, afterOffset: number, epoch: string): boolean {
    const held = ch.held;
    let expected = afterOffset + 1;
    if (held !== null) {
      const fmt = m.format;
      const parts: Uint8Array[] = [];
      for (let i = Math.max(0, m.heldFrom - ch.heldBase); i < held.length; i++) {
        const h = held[i]!;
        // Offset 0 (published without history, e.g. skip_history) carries no position: delivered.
        if (afterOffset >= 0 && h.pub.offset > 0) {
          if (h.epoch !== epoch) return false;
          if (h.pub.offset <= afterOffset) continue;
          if (h.pub.offset !== expected) return false;
          expected++;
        }
        let enc = h.enc[fmt] ?? null;
        if (enc === null) {
          enc = this.encodePub(ch.prepared, h.pub, fmt);
          h.enc[fmt] = enc;
        }
        if (enc === INVALID) {
          this.events.inappropriateProtocol(m);
          return true;
        }
        parts.push(enc);
      }
      if (parts.length > 0) {
        m.sendFrame(parts.length === 1 ? parts[0]! : this.encoder.frame(parts, fmt), fmt === Format.protobuf);
      }
    }
    // A read older than a position the channel took from another read cannot be brought up to it
    // from the held publications when those were still in flight (see `lateUntil`).
    return afterOffset < 0 || expected - 1 >= ch.last;
  }

  private close(ch: HubChannel): void {
    if (ch.closed) return;
    ch.closed = true;
    if (this.channels.get(ch.name) === ch) this.channels.delete(ch.name);
    this.metrics.channels = this.channels.size;
    this.unposition(ch);
    this.dropRepair(ch);
    for (let t = 0; t < 4; t++) {
      ch.pending[t]!.length = 0;
      ch.pendingBytes[t] = 0;
    }
    ch.held = null;
    if (ch.failed) return;
    const name = ch.name;
    const done = ch.ready
      .then(() => this.broker.unsubscribe(name))
      .catch((err: unknown) => {
        if (!ch.failed) this.onError(err, 'broker unsubscribe');
      });
    this.closing.set(name, done);
    void done.then(() => {
      if (this.closing.get(name) === done) this.closing.delete(name);
    });
  }

  /** Resolves once every broker unsubscribe in flight has finished. */
  async idle(): Promise<void> {
    await Promise.all([...this.closing.values()]);
  }

  // ---- broker events ----------------------------------------------------------------------

  onPublication(channel: string, pub: Publication, epoch: string): void {
    const ch = this.channels.get(channel);
    if (ch === undefined) return;
    // A broker handler must not throw (broker.ts): a failure is reported, never propagated.
    try {
      const r = ch.repair;
      if (r !== null) this.enqueue(ch, r, pub, epoch);
      else this.live(ch, pub, epoch, true);
    } catch (err) {
      this.onError(err, 'publication');
    }
  }

  /**
   * One publication of the live stream, in stream order. A gap starts a repair when `mayRepair`
   * (the publication is then queued); otherwise it ends the positioned subscriptions.
   */
  private live(ch: HubChannel, pub: Publication, epoch: string, mayRepair: boolean): void {
    if (pub.offset > 0 && ch.posKnown) {
      if (epoch === ch.epoch) {
        if (pub.offset <= ch.last) {
          if (pub.offset <= ch.lateUntil && pub.offset > ch.lateSeen) this.late(ch, pub, epoch);
          else this.metrics.stalePublications++;
          return;
        }
        ch.lateUntil = 0;
        if (pub.offset !== ch.last + 1) {
          if (mayRepair && this.history !== null && (ch.positioned > 0 || ch.joining > 0)) {
            this.startRepair(ch, false, pub, epoch);
            return;
          }
          this.lostPosition(ch);
        }
      } else {
        ch.lateUntil = 0;
        this.lostPosition(ch);
      }
    }
    this.deliver(ch, pub, epoch);
  }

  /** Advances the position and fans the publication out (topics, held list, waiters). */
  private deliver(ch: HubChannel, pub: Publication, epoch: string): void {
    if (pub.offset > 0) {
      ch.posKnown = true;
      ch.epoch = epoch;
      ch.last = pub.offset;
    }
    ch.lastPubAt = this.clock.now();
    let encJson: Uint8Array | null = null;
    let encProto: Uint8Array | null = null;
    if (ch.counts[PUB]! > 0) {
      encJson = this.encodePub(ch.prepared, pub, Format.json);
      if (encJson === INVALID) this.rejectJson(ch);
      else this.append(ch, PUB, encJson);
    }
    if (ch.counts[PUB + 1]! > 0) {
      encProto = this.encodePub(ch.prepared, pub, Format.protobuf);
      this.append(ch, PUB + 1, encProto);
    }
    this.hold(ch, pub, epoch, encJson, encProto);
    if (ch.waiters !== null) this.releaseWaiters(ch);
  }

  private hold(ch: HubChannel, pub: Publication, epoch: string, encJson: Uint8Array | null, encProto: Uint8Array | null): void {
    if (ch.held === null) return;
    if (ch.held.length >= this.maxHeld || ch.heldBytes >= this.maxHeldBytes) {
      // Joiners that needed these can no longer be served from the live stream.
      ch.heldBase += ch.held.length;
      ch.held = [];
      ch.heldBytes = 0;
    }
    ch.held.push({ pub, epoch, enc: [encJson, encProto] });
    ch.heldBytes += pub.data.byteLength;
  }

  /**
   * A publication that was in flight when the channel took its position from a history read: the
   * positioned subscribers are past it, everybody else has not seen it. Rare (only right after the
   * first positioned subscribe on this node), so it is sent socket by socket.
   */
  private late(ch: HubChannel, pub: Publication, epoch: string): void {
    ch.lateSeen = pub.offset;
    if (pub.offset >= ch.lateUntil) ch.lateUntil = 0;
    this.flushChannel(ch);
    const enc: Array<Uint8Array | null> = [null, null];
    let invalid: HubMember[] | null = null;
    for (const m of ch.members) {
      if (m.positioned || m.hubState !== MemberState.attached) continue;
      const fmt = m.format;
      const e = (enc[fmt] ??= this.encodePub(ch.prepared, pub, fmt));
      if (e === INVALID) (invalid ??= []).push(m);
      else m.sendFrame(e, fmt === Format.protobuf);
    }
    if (invalid !== null) for (const m of invalid) this.events.inappropriateProtocol(m);
    // Non-positioned joiners take it from the held list; positioned ones skip it (or need it).
    this.hold(ch, pub, epoch, enc[0] ?? null, enc[1] ?? null);
    this.metrics.latePublications++;
  }

  onJoin(channel: string, info: ClientInfo): void {
    this.presenceEvent(channel, info, true);
  }

  onLeave(channel: string, info: ClientInfo): void {
    this.presenceEvent(channel, info, false);
  }

  private presenceEvent(channel: string, info: ClientInfo, join: boolean): void {
    const ch = this.channels.get(channel);
    if (ch === undefined) return;
    try {
      for (let fmt = 0 as Format; fmt <= 1; fmt++) {
        if (ch.counts[JL + fmt]! === 0) continue;
        this.append(ch, JL + fmt, join ? this.encoder.join(ch.prepared, info, fmt) : this.encoder.leave(ch.prepared, info, fmt));
      }
    } catch (err) {
      this.onError(err, join ? 'join' : 'leave');
    }
  }

  private encodePub(ch: unknown, pub: Publication, fmt: Format): Uint8Array {
    try {
      return this.encoder.publication(ch, pub, fmt);
    } catch (err) {
      if (fmt === Format.json) return INVALID;
      throw err;
    }
  }

  /** Every attached JSON subscriber would get a payload that is not JSON: disconnect them. */
  private rejectJson(ch: HubChannel): void {
    const victims: HubMember[] = [];
    for (const m of ch.members) if (m.format === Format.json && m.hubState === MemberState.attached) victims.push(m);
    for (const m of victims) this.events.inappropriateProtocol(m);
  }

  /** The position cannot be continued: flush what came before, then end every positioned subscription. */
  private lostPosition(ch: HubChannel): void {
    this.flushChannel(ch);
    const victims: HubMember[] = [];
    for (const m of ch.members) {
      if (m.positioned && (m.hubState === MemberState.attached || m.hubState === MemberState.waiting)) victims.push(m);
    }
    for (const m of victims) {
      this.leave(ch, m, true);
      this.metrics.insufficientState++;
      this.events.insufficientState(m);
    }
  }

  private releaseWaiters(ch: HubChannel): void {
    const ready: Array<[HubMember, number]> = [];
    for (const entry of ch.waiters!) if (entry[1] <= ch.last) ready.push(entry);
    if (ready.length === 0) return;
    this.flushChannel(ch);
    for (const [m, offset] of ready) {
      if (m.hubState !== MemberState.waiting) continue;
      if (m.heldFrom < ch.heldBase || !this.sendHeld(ch, m, offset, ch.epoch)) {
        this.leave(ch, m, true);
        this.metrics.insufficientState++;
        this.events.insufficientState(m);
        continue;
      }
      if (m.hubState === MemberState.waiting) this.attach(ch, m);
    }
  }

  // ---- repair -----------------------------------------------------------------------------

  /** Runs the position checks that are due (driven by the gateway's timer). */
  checkPositions(now: number): void {
    const rounds = this.positionRounds;
    if (rounds === null) return;
    const period = this.positionCheckMs;
    rounds.run(now, (members) => {
      for (const ch of members) {
        if (ch.repair !== null || !ch.posKnown || now - ch.lastPubAt < period) continue;
        this.metrics.positionChecks++;
        this.startRepair(ch, true);
      }
    });
  }

  /**
   * Starts repairing `ch` from its last delivered position: live publications are queued from now
   * on. `toTop`: a position check, which catches up to the history top; otherwise a gap, which is
   * repaired once the queue continues the stream.
   */
  private startRepair(ch: HubChannel, toTop: boolean, first: Publication | null = null, epoch = ''): void {
    // What came before the gap goes out now.
    this.flushChannel(ch);
    const r = new Repair(toTop);
    ch.repair = r;
    if (first !== null) {
      this.enqueue(ch, r, first, epoch);
      if (ch.repair !== r) return;
    }
    this.readRepair(ch, r);
  }

  private enqueue(ch: HubChannel, r: Repair, pub: Publication, epoch: string): void {
    r.queue.push({ pub, epoch });
    r.queuedBytes += pub.data.byteLength;
    if (r.queue.length > this.maxHeld || r.queuedBytes > this.maxHeldBytes) this.abandonRepair(ch, r, RepairOutcome.overflow);
  }

  private readRepair(ch: HubChannel, r: Repair): void {
    const history = this.history!;
    let limit = this.repairBatch;
    // A gap needs exactly the publications up to the first queued one.
    const first = r.queue.find((q) => q.pub.offset > 0);
    if (first !== undefined && first.epoch === ch.epoch && first.pub.offset > ch.last + 1) {
      limit = Math.min(limit, first.pub.offset - 1 - ch.last);
    }
    const since = { offset: ch.last, epoch: ch.epoch };
    let reading: Promise<ReadResult>;
    try {
      reading = history.read(ch.name, since, limit);
    } catch (err) {
      reading = Promise.reject(err);
    }
    reading.then(
      (res) => {
        if (ch.repair !== r) return;
        try {
          this.repaired(ch, r, res);
        } catch (err) {
          this.onError(err, 'repair');
        }
      },
      (err: unknown) => {
        if (ch.repair !== r) return;
        this.onError(err, 'repair read');
        this.retryRepair(ch, r);
      },
    );
  }

  private repaired(ch: HubChannel, r: Repair, res: ReadResult): void {
    if (res.position.epoch !== ch.epoch) {
      this.abandonRepair(ch, r, RepairOutcome.epoch);
      return;
    }
    const pubs = res.publications;
    let i = 0;
    while (i < pubs.length && pubs[i]!.offset <= ch.last) i++;
    if (res.position.offset > ch.last && (i >= pubs.length || pubs[i]!.offset !== ch.last + 1)) {
      // The history moved past our position without holding what follows it.
      this.abandonRepair(ch, r, RepairOutcome.trimmed);
      return;
    }
    if (r.toTop && r.target === 0) r.target = res.position.offset;
    const before = ch.last;
    if (!this.merge(ch, r, pubs, i)) return;
    if (r.queue.length === 0 && ch.last >= r.target) {
      this.finishRepair(ch, r);
      return;
    }
    if (ch.last > before) {
      r.attempts = 0;
      this.readRepair(ch, r);
    } else {
      // The history is behind what the live stream brought (a lagging read): try again later.
      this.retryRepair(ch, r);
    }
  }

  /**
   * Delivers, in offset order, the read publications and the queued live ones while they continue
   * the stream; stops at the first gap that remains. Returns false when the repair was given up.
   */
  private merge(ch: HubChannel, r: Repair, pubs: readonly Publication[], i: number): boolean {
    const q = r.queue;
    let k = 0;
    for (;;) {
      if (ch.closed) return false;
      const p = pubs[i];
      if (p !== undefined && p.offset <= ch.last) {
        i++;
        continue;
      }
      if (p !== undefined && p.offset === ch.last + 1) {
        i++;
        r.supplied++;
        this.deliver(ch, p, ch.epoch);
        continue;
      }
      const h = q[k];
      if (h === undefined) break;
      if (h.pub.offset > 0) {
        if (h.epoch !== ch.epoch) {
          // The stream changed epoch after the gap: positioned subscribers cannot continue.
          r.queue = q.slice(k);
          this.abandonRepair(ch, r, RepairOutcome.epoch);
          return false;
        }
        if (h.pub.offset <= ch.last) {
          k++;
          this.metrics.stalePublications++;
          continue;
        }
        if (h.pub.offset !== ch.last + 1) break;
      }
      k++;
      this.deliver(ch, h.pub, h.epoch);
    }
    if (k > 0) {
      r.queue = q.slice(k);
      let bytes = 0;
      for (const h of r.queue) bytes += h.pub.data.byteLength;
      r.queuedBytes = bytes;
    }
    return true;
  }

  private retryRepair(ch: HubChannel, r: Repair): void {
    if (++r.attempts >= this.repairAttempts) {
      this.abandonRepair(ch, r, RepairOutcome.failed);
      return;
    }
    const delay = this.repairBackoffMs * 2 ** (r.attempts - 1);
    r.timer = setTimeout(() => {
      r.timer = null;
      if (ch.repair === r) this.readRepair(ch, r);
    }, delay);
    r.timer.unref();
  }

  private finishRepair(ch: HubChannel, r: Repair): void {
    ch.repair = null;
    if (r.supplied > 0) {
      this.metrics.repair(RepairOutcome.repaired);
      this.metrics.repairedPublications += r.supplied;
    }
  }

  /**
   * Repair is impossible: the positioned subscriptions end (after what was delivered so far), then
   * the queued publications go to everybody else in arrival order.
   */
  private abandonRepair(ch: HubChannel, r: Repair, outcome: RepairOutcome): void {
    if (ch.repair !== r) return;
    this.dropRepair(ch);
    this.metrics.repair(outcome);
    this.metrics.repairedPublications += r.supplied;
    ch.lateUntil = 0;
    this.lostPosition(ch);
    for (const h of r.queue) {
      if (ch.closed) return;
      this.live(ch, h.pub, h.epoch, false);
    }
  }

  private dropRepair(ch: HubChannel): void {
    const r = ch.repair;
    if (r === null) return;
    ch.repair = null;
    if (r.timer !== null) clearTimeout(r.timer);
    r.timer = null;
  }

  // ---- flushing ---------------------------------------------------------------------------

  private append(ch: HubChannel, slot: number, enc: Uint8Array): void {
    const list = ch.pending[slot]!;
    list.push(enc);
    const bytes = (ch.pendingBytes[slot] = ch.pendingBytes[slot]! + enc.byteLength);
    if (bytes >= this.maxFrameBytes) {
      this.flushSlot(ch, slot);
      return;
    }
    if (!ch.dirty) {
      ch.dirty = true;
      this.dirty.push(ch);
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        if (this.flushMode === 'microtask') queueMicrotask(this.flushBound);
        else setImmediate(this.flushBound);
      }
    }
  }

  /** Publishes every pending frame. Runs once per turn in which pushes arrived. */
  flush(): void {
    this.flushScheduled = false;
    const list = this.dirty;
    for (let i = 0; i < list.length; i++) {
      const ch = list[i]!;
      try {
        this.flushChannel(ch);
      } catch (err) {
        this.onError(err, 'flush');
      }
    }
    list.length = 0;
  }

  flushChannel(ch: HubChannel): void {
    ch.dirty = false;
    for (let slot = 0; slot < 4; slot++) if (ch.pending[slot]!.length > 0) this.flushSlot(ch, slot);
  }

  private flushSlot(ch: HubChannel, slot: number): void {
    const parts = ch.pending[slot]!;
    const n = parts.length;
    const receivers = ch.counts[slot]!;
    if (n === 0) return;
    if (receivers === 0) {
      parts.length = 0;
      ch.pendingBytes[slot] = 0;
      return;
    }
    const fmt = (slot & 1) as Format;
    const frame = n === 1 ? parts[0]! : this.encoder.frame(parts, fmt);
    parts.length = 0;
    ch.pendingBytes[slot] = 0;
    this.sink.publish(ch.topics[slot]!, frame, fmt === Format.protobuf);
    const m = this.metrics;
    m.topicFrames++;
    m.messagesOut[fmt] = m.messagesOut[fmt]! + n * receivers;
    m.bytesOut[fmt] = m.bytesOut[fmt]! + frame.byteLength * receivers;
    if (this.slowCheckBytes > 0 && (ch.unchecked += frame.byteLength) >= this.slowCheckBytes) this.checkSlow(ch);
  }

  /** Checks the outbound buffer of every attached member (closing slow ones with 3008). */
  private checkSlow(ch: HubChannel): void {
    ch.unchecked = 0;
    this.metrics.slowChecks++;
    // A slow member's close removes it from `members`: safe during for-of.
    for (const m of ch.members) if (m.hubState === MemberState.attached) m.checkSlow();
  }
}
