// Session: one client connection, the uWebSockets user data of its socket. A fixed-shape object
// with no per-connection closures or timers: keepalive, expiry and presence refresh are driven by
// the gateway's shared rounds (keepalive.ts), fan-out by the hub.
//
// Inbound: every frame is copied out of uWS's ArrayBuffer before anything else, decoded at once,
// and its commands run strictly in order; a command that awaits (connect, subscribe, …) holds the
// rest of the frame and any later frames, so the JS SDK's connect + subscribes in one frame see the
// connect complete first (PROTOCOL.md §4.1). Replies produced while a frame runs are joined into
// one outbound frame, written when the frame is done — or earlier when a subscribe must attach to
// its channel's topics, since its reply has to precede the channel's publications.
//
// Outbound writes go through `sendFrame` to the session's SessionSocket (transport.ts: a uWS
// WebSocket or an emulated HTTP stream), corked, with the backpressure limit enforced: a
// connection whose buffered output exceeds client.queue_max_size is closed with 3008 "slow" while
// the close frame still fits (uWS's hard limit, closeOnBackpressureLimit, sits above it). Topic
// traffic is checked by the hub (`checkSlow`), see README "Slow consumers".
import { randomUUID } from 'node:crypto';
import { Disconnects, RotorError } from '@rotor/core';
import type { Disconnect, ErrorCode } from '@rotor/core';
import type { GatewayContext } from './context.ts';
import { Format } from './hub.ts';
import { CommandKind, CommandResult } from './metrics.ts';
import type { Subscription } from './subscription.ts';
import { smallSeconds } from './subscription.ts';
import type { SessionSocket } from './transport.ts';
import type { Command, Push, Reply } from './wire-types.ts';
import { handleConnect } from './commands/connect.ts';
import { handleSubscribe } from './commands/subscribe.ts';
import { handleUnsubscribe } from './commands/unsubscribe.ts';
import { handlePublish } from './commands/publish.ts';
import { handlePresence, handlePresenceStats } from './commands/presence.ts';
import { handleHistory } from './commands/history.ts';
import { handleRefresh } from './commands/refresh.ts';
import { handleSubRefresh } from './commands/sub-refresh.ts';
import { handleRpc } from './commands/rpc.ts';
import { removeSubscription } from './commands/establish.ts';
import type { ProxyState } from './proxy/wire.ts';

export const SessionState = { connecting: 0, connected: 1, failed: 2, closed: 3 } as const;
export type SessionState = (typeof SessionState)[keyof typeof SessionState];

/** Frames waiting while a command of an earlier frame awaits. */
const MAX_QUEUED_FRAMES = 256;

// cork() takes a callback; these module-level slots let one shared function serve every session.
let corkWs: SessionSocket | null = null;
let corkFrame: Uint8Array | null = null;
let corkBinary = false;
let corkResult = 0;
function corkedSend(): void {
  corkResult = corkWs!.send(corkFrame!, corkBinary, false);
}

/** Frames that arrived while a command of an earlier frame awaits. */
interface FrameQueue {
  frames: Uint8Array[];
  bytes: number;
}

// Session.bits: small state packed into one integer field (see "Memory" in README.md).
const FORMAT_BIT = 1;
const BUSY_BIT = 2;
const STATE_SHIFT = 2;
const STATE_MASK = 3 << STATE_SHIFT;
const RESULT_SHIFT = 4;
const RESULT_MASK = 3 << RESULT_SHIFT;

export class Session {
  /** The connection's transport: a uWS WebSocket, or an emulated stream (emulation/stream.ts). */
  ws: SessionSocket | null = null;
  readonly client: string = randomUUID();
  user = '';
  connInfo: Uint8Array | undefined = undefined;
  /**
   * Subscriptions by channel: none, the one subscription itself (the common case, no Map), or a
   * Map once there are two. Use `subscription`, `addSubscription`, `removeSubscriptionEntry`,
   * `subscriptionList`.
   */
  private subs: Subscription | Map<string, Subscription> | null = null;
  private queue: FrameQueue | null = null;
  /** Replies of the frame being processed, not yet written. */
  out: Uint8Array[] | null = null;
  /** Format, state, busy flag and command result (bit fields above). */
  private bits: number;
  /**
   * Unix seconds at which the connection expires (0 = never). Seconds, not milliseconds: they stay
   * small integers, which V8 stores in the field itself instead of boxing a double per session.
   */
  private expireAtSec = 0;
  // Keepalive bookkeeping, owned by keepalive.ts.
  pingBase = 0;
  pongRound = 0;
  /** Ping bucket + 1 in the low 16 bits, presence bucket + 1 above (0 = none). */
  private buckets = 0;
  /** Forwarded headers and connection meta; null unless some proxy is configured. */
  proxy: ProxyState | null = null;

  constructor(
    readonly gw: GatewayContext,
    format: Format,
  ) {
    this.bits = format === Format.protobuf ? FORMAT_BIT : 0;
  }

  get format(): Format {
    return (this.bits & FORMAT_BIT) as Format;
  }

  get state(): SessionState {
    return ((this.bits & STATE_MASK) >> STATE_SHIFT) as SessionState;
  }

  set state(v: SessionState) {
    this.bits = (this.bits & ~STATE_MASK) | (v << STATE_SHIFT);
  }

  /** A command is running; frames that arrive meanwhile wait in the queue. */
  get busy(): boolean {
    return (this.bits & BUSY_BIT) !== 0;
  }

  set busy(v: boolean) {
    this.bits = v ? this.bits | BUSY_BIT : this.bits & ~BUSY_BIT;
  }

  /** Result of the command being processed (metrics). */
  private get cmdResult(): CommandResult {
    return ((this.bits & RESULT_MASK) >> RESULT_SHIFT) as CommandResult;
  }

  private set cmdResult(v: CommandResult) {
    this.bits = (this.bits & ~RESULT_MASK) | (v << RESULT_SHIFT);
  }

  /** Unix ms at which the connection expires (0 = never); refresh moves it. */
  get expireAt(): number {
    return this.expireAtSec * 1000;
  }

  set expireAt(ms: number) {
    this.expireAtSec = smallSeconds(ms);
  }

  /** Ping bucket index, -1 when not pinged. */
  get pingBucket(): number {
    return (this.buckets & 0xffff) - 1;
  }

  set pingBucket(b: number) {
    this.buckets = (this.buckets & ~0xffff) | (b + 1);
  }

  /** Presence-refresh bucket index, -1 when none. */
  get presenceBucket(): number {
    return (this.buckets >>> 16) - 1;
  }

  set presenceBucket(b: number) {
    this.buckets = (this.buckets & 0xffff) | ((b + 1) << 16);
  }

  get closed(): boolean {
    return this.state === SessionState.closed;
  }

  // ---- inbound ----------------------------------------------------------------------------

  /**
   * An inbound frame. It may be a view of uWS's buffer, valid only during this call: it is decoded
   * now, or copied if it has to wait.
   */
  receive(frame: Uint8Array): void {
    if (this.state === SessionState.closed) return;
    if (this.busy) {
      const q = (this.queue ??= { frames: [], bytes: 0 });
      if (q.frames.length >= MAX_QUEUED_FRAMES || q.bytes + frame.byteLength > 16 * this.gw.config.websocket.messageSizeLimit) {
        this.disconnect(Disconnects.tooManyRequests);
        return;
      }
      q.frames.push(frame.slice());
      q.bytes += frame.byteLength;
      return;
    }
    this.processFrame(frame);
    this.drainQueue();
  }

  /** Runs queued frames until one awaits (a loop, not recursion: up to MAX_QUEUED_FRAMES). */
  private drainQueue(): void {
    const q = this.queue;
    if (q === null) return;
    while (!this.busy && q.frames.length > 0 && this.state !== SessionState.closed) {
      const next = q.frames.shift()!;
      q.bytes -= next.byteLength;
      this.processFrame(next);
    }
    if (q.frames.length === 0 && this.queue === q) this.queue = null;
  }

  private processFrame(frame: Uint8Array): void {
    const gw = this.gw;
    const decoded = gw.codec.decodeCommands(frame, this.format);
    if (!decoded.ok || decoded.commands.length === 0) {
      gw.log.debug('malformed frame', () => ({ client: this.client, error: decoded.ok ? 'empty frame' : decoded.error }));
      this.disconnect(Disconnects.badRequest);
      return;
    }
    gw.metrics.messagesIn[this.format] = gw.metrics.messagesIn[this.format]! + decoded.commands.length;
    this.runCommands(decoded.commands, 0);
  }

  private runCommands(cmds: Command[], from: number): void {
    for (let i = from; i < cmds.length; i++) {
      if (this.state === SessionState.closed) return;
      const cmd = cmds[i]!;
      const started = performance.now();
      this.cmdResult = CommandResult.ok;
      const kind = commandKind(cmd);
      let pending: Promise<void> | undefined;
      try {
        pending = this.dispatch(cmd, kind);
      } catch (err) {
        this.fail(cmd.id ?? 0, err, kind);
        pending = undefined;
      }
      if (pending === undefined) {
        this.gw.metrics.command(kind, this.cmdResult, (performance.now() - started) / 1000);
        continue;
      }
      // One reaction per awaited command: its metrics, its failure reply, then the rest of the
      // frame and any queued frames (a promise chain per step would cost a microtask and a
      // promise each, on every client publish).
      this.busy = true;
      pending.then(
        () => this.commandDone(cmds, i, kind, started, false, undefined),
        (err: unknown) => this.commandDone(cmds, i, kind, started, true, err),
      );
      return;
    }
    this.flushOut();
    this.busy = false;
  }

  /** An awaited command settled (`rejected` with `err`): record it, then go on. */
  private commandDone(cmds: Command[], i: number, kind: CommandKind, started: number, rejected: boolean, err: unknown): void {
    try {
      if (rejected) this.fail(cmds[i]!.id ?? 0, err, kind);
      this.gw.metrics.command(kind, this.cmdResult, (performance.now() - started) / 1000);
    } catch (unexpected) {
      this.gw.log.error('command failed unexpectedly', { client: this.client, error: String(unexpected) });
      this.disconnect(Disconnects.internal);
      return;
    }
    this.runCommands(cmds, i + 1);
    this.drainQueue();
  }

  /** A handler threw: a RotorError becomes its error reply, anything else 100 (or 3004 for connect). */
  private fail(id: number, err: unknown, kind: CommandKind): void {
    if (this.state === SessionState.closed) return;
    if (!(err instanceof RotorError)) {
      this.gw.log.error('command handler error', { client: this.client, command: kind, error: String(err) });
    }
    if (kind === CommandKind.connect && !(err instanceof RotorError)) {
      this.disconnect(Disconnects.internal);
      return;
    }
    const e = RotorError.from(err);
    if (id > 0) this.replyError(id, { code: e.code, message: e.message, temporary: e.temporary });
  }

  private dispatch(cmd: Command, kind: CommandKind): Promise<void> | undefined {
    const id = cmd.id ?? 0;
    if (this.state !== SessionState.connected) {
      // Only a first connect is acceptable; after a failed connect nothing is (PROTOCOL.md §4.1).
      if (this.state === SessionState.connecting && kind === CommandKind.connect) return handleConnect(this, id, cmd.connect!);
      this.disconnect(Disconnects.badRequest);
      return undefined;
    }
    switch (kind) {
      case CommandKind.pong:
        this.gw.keepalive.pong(this);
        return undefined;
      case CommandKind.send:
        // No message handler in Rotor (as in Centrifugo OSS).
        this.disconnect(Disconnects.notAvailable);
        return undefined;
      case CommandKind.connect:
        this.disconnect(Disconnects.badRequest);
        return undefined;
      case CommandKind.subscribe:
        return handleSubscribe(this, id, cmd.subscribe!);
      case CommandKind.unsubscribe:
        return handleUnsubscribe(this, id, cmd.unsubscribe!);
      case CommandKind.publish:
        return handlePublish(this, id, cmd.publish!);
      case CommandKind.presence:
        return handlePresence(this, id, cmd.presence!);
      case CommandKind.presenceStats:
        return handlePresenceStats(this, id, cmd.presenceStats!);
      case CommandKind.history:
        return handleHistory(this, id, cmd.history!);
      case CommandKind.rpc:
        return handleRpc(this, id, cmd.rpc!);
      case CommandKind.refresh:
        return handleRefresh(this, id, cmd.refresh!);
      case CommandKind.subRefresh:
        return handleSubRefresh(this, id, cmd.subRefresh!);
      default:
        this.disconnect(Disconnects.badRequest);
        return undefined;
    }
  }

  // ---- outbound ---------------------------------------------------------------------------

  reply(id: number, reply: Reply): void {
    reply.id = id;
    this.queueOut(this.gw.codec.reply(reply, this.format));
  }

  replyError(id: number, err: ErrorCode): void {
    this.cmdResult = CommandResult.error;
    const e: Reply = { id, error: { code: err.code, message: err.message } };
    if (err.temporary === true) e.error!.temporary = true;
    this.queueOut(this.gw.codec.reply(e, this.format));
  }

  push(push: Push): void {
    this.queueOut(this.gw.codec.reply({ push }, this.format));
  }

  private queueOut(msg: Uint8Array): void {
    if (this.state === SessionState.closed) return;
    if (this.out === null) this.out = [msg];
    else this.out.push(msg);
    const m = this.gw.metrics;
    m.messagesOut[this.format] = m.messagesOut[this.format]! + 1;
  }

  /** Writes the queued replies as one frame. */
  flushOut(): void {
    const out = this.out;
    if (out === null || out.length === 0) return;
    this.out = null;
    this.sendFrame(out.length === 1 ? out[0]! : this.gw.codec.frame(out, this.format));
  }

  /** Writes one frame now, corked; closes the connection with 3008 when it is over its buffer limit. */
  sendFrame(frame: Uint8Array): void {
    const ws = this.ws;
    if (ws === null || this.state === SessionState.closed) return;
    corkWs = ws;
    corkFrame = frame;
    corkBinary = this.format === Format.protobuf;
    ws.cork(corkedSend);
    corkWs = null;
    corkFrame = null;
    const m = this.gw.metrics;
    m.bytesOut[this.format] = m.bytesOut[this.format]! + frame.byteLength;
    // 2 = dropped by uWS (over maxBackpressure): the client would silently miss data.
    if (corkResult === 2 || (this.ws !== null && this.ws.getBufferedAmount() > this.gw.config.client.queueMaxSize)) this.slow();
  }

  /** Closes the connection (3008) if its outbound buffer is over client.queue_max_size. */
  checkSlow(): void {
    const ws = this.ws;
    if (ws !== null && ws.getBufferedAmount() > this.gw.config.client.queueMaxSize) this.slow();
  }

  /** Closes a connection whose outbound buffer is over the limit. */
  slow(): void {
    if (this.state === SessionState.closed) return;
    this.gw.metrics.slowDisconnects++;
    this.close(Disconnects.slow);
  }

  /**
   * The server refreshed the connection (server API refresh, refresh proxy). Nothing to tell a
   * bidirectional client; unidirectional sessions (emulation/uni.ts) send a refresh push.
   */
  refreshed(): void {}

  // ---- closing ----------------------------------------------------------------------------

  /** Sends what is queued, then closes the WebSocket with the disconnect's code and reason. */
  disconnect(d: Disconnect): void {
    if (this.state === SessionState.closed) return;
    this.cmdResult = CommandResult.disconnect;
    this.flushOut();
    this.close(d);
  }

  private close(d: Disconnect): void {
    const ws = this.ws;
    if (ws === null || this.state === SessionState.closed) return;
    this.gw.metrics.disconnect(d.code);
    // uWS runs the close handler (onClose) synchronously inside end(). A close reason may hold at
    // most 123 bytes (RFC 6455); application reasons from the server API are cut to fit.
    ws.end(d.code, d.reason.length <= 40 ? d.reason : closeReason(d.reason));
  }

  /** The WebSocket is gone (uWS close handler): release everything this connection held. */
  onClose(): void {
    if (this.state === SessionState.closed) return;
    const wasConnected = this.state === SessionState.connected;
    this.state = SessionState.closed;
    this.ws = null;
    this.out = null;
    this.queue = null;
    const gw = this.gw;
    gw.sessions.delete(this);
    gw.keepalive.remove(this);
    this.proxy?.close();
    if (this.subs !== null) {
      for (const sub of this.subscriptionList()) removeSubscription(this, sub, false);
      this.subs = null;
    }
    if (wasConnected) gw.removeUserSession(this);
    gw.metrics.connections[this.format] = gw.metrics.connections[this.format]! - 1;
  }

  // ---- helpers for command handlers -------------------------------------------------------

  /** Number of subscriptions, client-side and server-side. */
  get subscriptionCount(): number {
    const subs = this.subs;
    if (subs === null) return 0;
    return subs instanceof Map ? subs.size : 1;
  }

  subscription(channel: string): Subscription | undefined {
    const subs = this.subs;
    if (subs === null) return undefined;
    if (subs instanceof Map) return subs.get(channel);
    return subs.channel === channel ? subs : undefined;
  }

  /** Adds (or replaces) the subscription of `sub.channel`. */
  addSubscription(sub: Subscription): void {
    const subs = this.subs;
    if (subs === null || (!(subs instanceof Map) && subs.channel === sub.channel)) {
      this.subs = sub;
    } else if (subs instanceof Map) {
      subs.set(sub.channel, sub);
    } else {
      this.subs = new Map([
        [subs.channel, subs],
        [sub.channel, sub],
      ]);
    }
  }

  /** Forgets `sub` if it is the session's subscription of its channel. */
  removeSubscriptionEntry(sub: Subscription): void {
    const subs = this.subs;
    if (subs === sub) {
      this.subs = null;
    } else if (subs instanceof Map && subs.get(sub.channel) === sub) {
      subs.delete(sub.channel);
      if (subs.size === 1) for (const only of subs.values()) this.subs = only;
    }
  }

  /** A snapshot of the subscriptions (safe to iterate while removing). */
  subscriptionList(): Subscription[] {
    const subs = this.subs;
    if (subs === null) return [];
    return subs instanceof Map ? [...subs.values()] : [subs];
  }
}

const encoder = new TextEncoder();

/** The longest prefix of `reason` that fits a close frame (123 UTF-8 bytes). */
export function closeReason(reason: string): Uint8Array {
  const bytes = encoder.encode(reason);
  if (bytes.length <= 123) return bytes;
  let end = 123;
  // Do not cut a multi-byte character: back up to the start of one.
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}

function commandKind(cmd: Command): CommandKind {
  // Centrifugo treats any command without id and without `send` as a pong (PROTOCOL.md §2.1).
  if ((cmd.id ?? 0) === 0) return cmd.send !== undefined ? CommandKind.send : CommandKind.pong;
  if (cmd.connect !== undefined) return CommandKind.connect;
  if (cmd.subscribe !== undefined) return CommandKind.subscribe;
  if (cmd.unsubscribe !== undefined) return CommandKind.unsubscribe;
  if (cmd.publish !== undefined) return CommandKind.publish;
  if (cmd.presence !== undefined) return CommandKind.presence;
  if (cmd.presenceStats !== undefined) return CommandKind.presenceStats;
  if (cmd.history !== undefined) return CommandKind.history;
  if (cmd.rpc !== undefined) return CommandKind.rpc;
  if (cmd.send !== undefined) return CommandKind.send;
  if (cmd.refresh !== undefined) return CommandKind.refresh;
  if (cmd.subRefresh !== undefined) return CommandKind.subRefresh;
  return CommandKind.unknown;
}
