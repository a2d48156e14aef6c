// ApiService: the Centrifugo server API (PROTOCOL.md §7, semantics §4.6–4.9) as one
// transport-agnostic object. Methods take the generated api.proto request types and resolve with
// the result types; a failure rejects with a RotorError whose code is the API error code (anything
// else thrown below is logged and becomes 100 internal). The HTTP and gRPC bindings only decode,
// authenticate, call these methods and encode.
//
// Everything stateful is injected through the core contracts, so the same service runs embedded
// (memory adapters) and as the cluster api role (NATS-backed adapters):
// - publish / broadcast → Publisher (sequencing, history and idempotency live behind it);
// - presence / presence_stats → PresenceStore; history / history_remove → HistoryStore;
// - subscribe / unsubscribe / disconnect / refresh → ControlBus commands that every gateway
//   applies to the targeted user's connections;
// - info / channels → ControlBus.nodes() / channels().
//
// Every call (batch commands included) is counted in ApiMetrics. With opentelemetry.enabled and
// opentelemetry.api it is also traced as one OpenTelemetry span `rotor.api/<method>` (batch
// commands as children of the batch's span; an incoming W3C traceparent as the parent) through
// whatever tracer provider is registered (tracing.ts registers the OTLP one); otherwise no span
// is even started.
import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import type { Context, Tracer } from '@opentelemetry/api';
import { ChannelRules, DEFAULT_IDEMPOTENCY_TTL_MS, Disconnects, Errors, RotorError, silentLogger } from '@rotor/core';
import type {
  ControlBus,
  ControlCommand,
  Disconnect,
  HistoryStore,
  Logger,
  PresenceStore,
  PublishRequest as CorePublishRequest,
  Publisher,
  ResolvedChannel,
  RotorConfig,
  SubscribeOverride,
} from '@rotor/core';
import type { api } from '@rotor/proto';
import type { Registry } from 'prom-client';
import { mapBounded } from './bounded.ts';
import { GlobSyntaxError, compileGlob } from './glob.ts';
import { ApiMetrics } from './metrics.ts';
import type { ApiProtocol } from './metrics.ts';
import { remoteParent } from './otel/w3c.ts';
import { dataFitsFormat, payloadOf } from './payload.ts';
import { apiTracingEnabled } from './tracing.ts';

/** Method names as used in HTTP paths, batch/legacy commands and metric labels. */
export const API_METHODS = [
  'batch',
  'publish',
  'broadcast',
  'subscribe',
  'unsubscribe',
  'disconnect',
  'presence',
  'presence_stats',
  'history',
  'history_remove',
  'info',
  'rpc',
  'refresh',
  'channels',
] as const;
export type ApiMethod = (typeof API_METHODS)[number];

/** Who is calling: the binding that received the request (a metrics label and span attribute). */
export interface CallContext {
  readonly protocol: ApiProtocol;
  /** The request's W3C `traceparent` / `tracestate` (HTTP headers, gRPC metadata), when traced. */
  readonly traceparent?: string;
  readonly tracestate?: string;
  /** Span context of the enclosing traced call (batch commands); wins over traceparent. */
  readonly parent?: Context;
}

/** A server-side RPC extension (the `rpc` method): params in, data out, both opaque bytes. */
export type RpcHandler = (params: Uint8Array) => Promise<Uint8Array> | Uint8Array;

/** Most commands in one batch and channels in one broadcast. */
export const DEFAULT_MAX_BATCH_SIZE = 10_000;
/** Most batch commands / broadcast channels in flight at once (Centrifugo uses 1024 too). */
export const DEFAULT_CONCURRENCY = 1024;
/** A WebSocket close reason carries at most 123 bytes. */
const MAX_DISCONNECT_REASON_BYTES = 123;

export interface ApiDeps {
  config: RotorConfig;
  publisher: Publisher;
  history: HistoryStore;
  presence: PresenceStore;
  controlBus: ControlBus;
  /** Channel rules built from config.channel (default: built here). */
  rules?: ChannelRules;
  log?: Logger;
  /** Registry for the API metrics (default: a new one, see `service.metrics.registry`). */
  registry?: Registry;
  /** RPC extensions by method name. None at all → `rpc` answers 108; unknown method → 104. */
  rpc?: ReadonlyMap<string, RpcHandler>;
  /** Window of publish/broadcast idempotency keys (default 5 minutes, as Centrifugo). */
  idempotencyTtlMs?: number;
  maxBatchSize?: number;
  concurrency?: number;
}

export interface ApiService {
  readonly metrics: ApiMetrics;
  batch(req: api.BatchRequest, ctx?: CallContext): Promise<api.BatchResponse>;
  publish(req: api.PublishRequest, ctx?: CallContext): Promise<api.PublishResult>;
  broadcast(req: api.BroadcastRequest, ctx?: CallContext): Promise<api.BroadcastResult>;
  subscribe(req: api.SubscribeRequest, ctx?: CallContext): Promise<api.SubscribeResult>;
  unsubscribe(req: api.UnsubscribeRequest, ctx?: CallContext): Promise<api.UnsubscribeResult>;
  disconnect(req: api.DisconnectRequest, ctx?: CallContext): Promise<api.DisconnectResult>;
  refresh(req: api.RefreshRequest, ctx?: CallContext): Promise<api.RefreshResult>;
  presence(req: api.PresenceRequest, ctx?: CallContext): Promise<api.PresenceResult>;
  presenceStats(req: api.PresenceStatsRequest, ctx?: CallContext): Promise<api.PresenceStatsResult>;
  history(req: api.HistoryRequest, ctx?: CallContext): Promise<api.HistoryResult>;
  historyRemove(req: api.HistoryRemoveRequest, ctx?: CallContext): Promise<api.HistoryRemoveResult>;
  info(req: api.InfoRequest, ctx?: CallContext): Promise<api.InfoResult>;
  rpc(req: api.RPCRequest, ctx?: CallContext): Promise<api.RPCResult>;
  channels(req: api.ChannelsRequest, ctx?: CallContext): Promise<api.ChannelsResult>;
}

/** The wire form of an API error. */
export function toApiError(err: RotorError): api.Error {
  return { code: err.code, message: err.message };
}

export function createApiService(deps: ApiDeps): ApiService {
  return new Service(deps);
}

const INTERNAL: CallContext = { protocol: 'internal' };
const SPAN_NAMES = Object.fromEntries(API_METHODS.map((m) => [m, `rotor.api/${m}`])) as Record<ApiMethod, string>;

function bad(detail: string): RotorError {
  return new RotorError(Errors.badRequest, `${Errors.badRequest.message}: ${detail}`);
}

/** A null-prototype record, safe for keys such as "__proto__" (client ids, channel names). */
function record<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

function toApiClientInfo(info: { user: string; client: string; connInfo?: Uint8Array; chanInfo?: Uint8Array }): api.ClientInfo {
  const out: api.ClientInfo = { user: info.user, client: info.client };
  if (info.connInfo !== undefined && info.connInfo.length > 0) out.connInfo = info.connInfo;
  if (info.chanInfo !== undefined && info.chanInfo.length > 0) out.chanInfo = info.chanInfo;
  return out;
}

function hasKeys(o: Record<string, string> | undefined): o is Record<string, string> {
  if (o === undefined) return false;
  for (const k in o) if (Object.prototype.hasOwnProperty.call(o, k)) return true;
  return false;
}

class Service implements ApiService {
  readonly metrics: ApiMetrics;
  readonly #rules: ChannelRules;
  readonly #publisher: Publisher;
  readonly #history: HistoryStore;
  readonly #presence: PresenceStore;
  readonly #control: ControlBus;
  readonly #log: Logger;
  readonly #rpc: ReadonlyMap<string, RpcHandler>;
  readonly #idempotencyTtlMs: number;
  readonly #maxBatch: number;
  readonly #concurrency: number;
  readonly #traced: boolean;
  /**
   * Taken per service, not per module: a ProxyTracer binds to the provider registered when it
   * first starts a span, and a process (tests) may register and unregister several in turn.
   */
  readonly #tracer: Tracer;

  constructor(deps: ApiDeps) {
    this.metrics = new ApiMetrics(deps.registry);
    this.#rules = deps.rules ?? new ChannelRules(deps.config.channel);
    this.#publisher = deps.publisher;
    this.#history = deps.history;
    this.#presence = deps.presence;
    this.#control = deps.controlBus;
    this.#log = deps.log ?? silentLogger();
    this.#rpc = deps.rpc ?? new Map();
    this.#idempotencyTtlMs = deps.idempotencyTtlMs ?? DEFAULT_IDEMPOTENCY_TTL_MS;
    this.#maxBatch = deps.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE;
    this.#concurrency = deps.concurrency ?? DEFAULT_CONCURRENCY;
    this.#traced = apiTracingEnabled(deps.config);
    this.#tracer = trace.getTracer('@rotor/api');
  }

  // ---- instrumentation -------------------------------------------------------------------

  /**
   * Runs one API call, counts it, and normalises what it throws to RotorError; when tracing is on,
   * inside a span. `fn` receives the span's context (undefined untraced) for nested calls.
   */
  #run<T>(method: ApiMethod, ctx: CallContext | undefined, channel: string | undefined, fn: (spanCtx: Context | undefined) => Promise<T>): Promise<T> {
    const c = ctx ?? INTERNAL;
    return this.#traced ? this.#traceRun(method, c, channel, fn) : this.#plainRun(method, c.protocol, fn);
  }

  async #plainRun<T>(method: ApiMethod, protocol: ApiProtocol, fn: (spanCtx: undefined) => Promise<T>): Promise<T> {
    const started = performance.now();
    let code = 0;
    try {
      return await fn(undefined);
    } catch (err) {
      const e = this.#normalise(err, method);
      code = e.code;
      throw e;
    } finally {
      this.metrics.observe(protocol, method, code, (performance.now() - started) / 1000);
    }
  }

  async #traceRun<T>(method: ApiMethod, c: CallContext, channel: string | undefined, fn: (spanCtx: Context) => Promise<T>): Promise<T> {
    const started = performance.now();
    const parent = c.parent ?? remoteParent(c.traceparent, c.tracestate) ?? context.active();
    const span = this.#tracer.startSpan(
      SPAN_NAMES[method],
      { kind: c.parent === undefined ? SpanKind.SERVER : SpanKind.INTERNAL, attributes: { 'rpc.method': method, 'rotor.api.protocol': c.protocol } },
      parent,
    );
    if (channel !== undefined && channel !== '') span.setAttribute('rotor.channel', channel);
    let code = 0;
    try {
      return await fn(trace.setSpan(parent, span));
    } catch (err) {
      const e = this.#normalise(err, method);
      code = e.code;
      span.setAttribute('rotor.api.error_code', code);
      span.setStatus({ code: SpanStatusCode.ERROR, message: e.message });
      throw e;
    } finally {
      this.metrics.observe(c.protocol, method, code, (performance.now() - started) / 1000);
      span.end();
    }
  }

  #normalise(err: unknown, method: string): RotorError {
    if (err instanceof RotorError) return err;
    this.#log.error('server API call failed', { method, error: err instanceof Error ? err.message : String(err) });
    return RotorError.from(err);
  }

  /** Resolves a channel's namespace or throws 107 (invalid name) / 102 (unknown namespace). */
  #resolve(channel: string): ResolvedChannel {
    const r = this.#rules.resolve(channel);
    if (!r.ok) throw new RotorError(r.error);
    return r.channel;
  }

  #send(cmd: ControlCommand): void {
    // Throws only when the bus is closed (shutting down): an internal error for the caller.
    this.#control.send(cmd);
  }

  // ---- batch -----------------------------------------------------------------------------

  batch(req: api.BatchRequest, ctx?: CallContext): Promise<api.BatchResponse> {
    return this.#run('batch', ctx, undefined, async (spanCtx) => {
      const commands = req.commands ?? [];
      if (commands.length > this.#maxBatch) throw bad(`more than ${this.#maxBatch} commands`);
      // Traced: the commands' spans are children of this one (not of the request's traceparent).
      const c: CallContext = spanCtx === undefined ? (ctx ?? INTERNAL) : { protocol: (ctx ?? INTERNAL).protocol, parent: spanCtx };
      let replies: api.Reply[];
      if (req.parallel) {
        replies = await mapBounded(commands, this.#concurrency, (cmd) => this.#command(cmd, c));
      } else {
        replies = [];
        for (const cmd of commands) replies.push(await this.#command(cmd, c));
      }
      return { replies };
    });
  }

  /** One batch command → its reply; errors become the reply's error. Never rejects. */
  async #command(cmd: api.Command, ctx: CallContext): Promise<api.Reply> {
    try {
      if (cmd.publish) return { publish: await this.publish(cmd.publish, ctx) };
      if (cmd.broadcast) return { broadcast: await this.broadcast(cmd.broadcast, ctx) };
      if (cmd.subscribe) return { subscribe: await this.subscribe(cmd.subscribe, ctx) };
      if (cmd.unsubscribe) return { unsubscribe: await this.unsubscribe(cmd.unsubscribe, ctx) };
      if (cmd.disconnect) return { disconnect: await this.disconnect(cmd.disconnect, ctx) };
      if (cmd.presence) return { presence: await this.presence(cmd.presence, ctx) };
      if (cmd.presenceStats) return { presenceStats: await this.presenceStats(cmd.presenceStats, ctx) };
      if (cmd.history) return { history: await this.history(cmd.history, ctx) };
      if (cmd.historyRemove) return { historyRemove: await this.historyRemove(cmd.historyRemove, ctx) };
      if (cmd.info) return { info: await this.info(cmd.info, ctx) };
      if (cmd.rpc) return { rpc: await this.rpc(cmd.rpc, ctx) };
      if (cmd.refresh) return { refresh: await this.refresh(cmd.refresh, ctx) };
      if (cmd.channels) return { channels: await this.channels(cmd.channels, ctx) };
      return { error: toApiError(new RotorError(Errors.methodNotFound)) };
    } catch (err) {
      // The public methods already normalised (and logged) the error.
      return { error: toApiError(err instanceof RotorError ? err : RotorError.from(err)) };
    }
  }

  // ---- publications ----------------------------------------------------------------------

  publish(req: api.PublishRequest, ctx?: CallContext): Promise<api.PublishResult> {
    const channel = req.channel ?? '';
    return this.#run('publish', ctx, channel, () => {
      if (channel === '') throw bad('channel required');
      const data = payloadOf(req.data, req.b64data);
      return this.#publishTo(this.#resolve(channel), data, req);
    });
  }

  broadcast(req: api.BroadcastRequest, ctx?: CallContext): Promise<api.BroadcastResult> {
    return this.#run('broadcast', ctx, undefined, async () => {
      const channels = req.channels ?? [];
      if (channels.length === 0) throw bad('channels required');
      if (channels.length > this.#maxBatch) throw bad(`more than ${this.#maxBatch} channels`);
      const data = payloadOf(req.data, req.b64data);
      const responses = await mapBounded(channels, this.#concurrency, async (channel): Promise<api.PublishResponse> => {
        try {
          if (channel === '') throw bad('channel required');
          return { result: await this.#publishTo(this.#resolve(channel), data, req) };
        } catch (err) {
          return { error: toApiError(this.#normalise(err, 'broadcast')) };
        }
      });
      return { responses };
    });
  }

  async #publishTo(
    resolved: ResolvedChannel,
    data: Uint8Array,
    opts: { skipHistory?: boolean; tags?: Record<string, string>; idempotencyKey?: string },
  ): Promise<api.PublishResult> {
    if (!dataFitsFormat(data, resolved.namespace.publicationDataFormat)) {
      throw bad(data.length === 0 ? 'data required' : `data does not fit publication_data_format ${resolved.namespace.publicationDataFormat}`);
    }
    const req: CorePublishRequest = { channel: resolved.channel, data };
    if (!opts.skipHistory && resolved.history !== null) req.history = resolved.history;
    if (hasKeys(opts.tags)) req.tags = opts.tags;
    if (opts.idempotencyKey) {
      req.idempotencyKey = opts.idempotencyKey;
      req.idempotencyTtlMs = this.#idempotencyTtlMs;
    }
    const position = await this.#publisher.publish(req);
    return { offset: position.offset, epoch: position.epoch };
  }

  // ---- connection control ----------------------------------------------------------------

  subscribe(req: api.SubscribeRequest, ctx?: CallContext): Promise<api.SubscribeResult> {
    const channel = req.channel ?? '';
    return this.#run('subscribe', ctx, channel, async () => {
      if (channel === '') throw bad('channel required');
      this.#resolve(channel);
      const cmd: Extract<ControlCommand, { kind: 'subscribe' }> = { kind: 'subscribe', user: req.user ?? '', channel };
      if (req.client) cmd.client = req.client;
      if (req.session) cmd.session = req.session;
      if (req.expireAt !== undefined && req.expireAt > 0) cmd.expireAt = req.expireAt;
      const info = payloadOf(req.info, req.b64info);
      if (info.length > 0) cmd.info = info;
      const data = payloadOf(req.data, req.b64data);
      if (data.length > 0) cmd.data = data;
      if (req.recoverSince) cmd.recoverSince = { offset: req.recoverSince.offset ?? 0, epoch: req.recoverSince.epoch ?? '' };
      const override = toOverride(req.override);
      if (override !== undefined) cmd.override = override;
      this.#send(cmd);
      return {};
    });
  }

  unsubscribe(req: api.UnsubscribeRequest, ctx?: CallContext): Promise<api.UnsubscribeResult> {
    const channel = req.channel ?? '';
    return this.#run('unsubscribe', ctx, channel, async () => {
      if (channel !== '') this.#resolve(channel);
      const cmd: Extract<ControlCommand, { kind: 'unsubscribe' }> = { kind: 'unsubscribe', user: req.user ?? '', channel };
      if (req.client) cmd.client = req.client;
      if (req.session) cmd.session = req.session;
      this.#send(cmd);
      return {};
    });
  }

  disconnect(req: api.DisconnectRequest, ctx?: CallContext): Promise<api.DisconnectResult> {
    return this.#run('disconnect', ctx, undefined, async () => {
      let disconnect: Disconnect = Disconnects.forceNoReconnect;
      if (req.disconnect) {
        const code = req.disconnect.code ?? 0;
        const reason = req.disconnect.reason ?? '';
        // Only codes a client can act on (reconnect 3000–3499/4000–4499, terminal 3500–3999/4500–4999).
        if (code < 3000 || code > 4999) throw bad('disconnect code must be in 3000..4999');
        if (Buffer.byteLength(reason, 'utf8') > MAX_DISCONNECT_REASON_BYTES) throw bad('disconnect reason longer than 123 bytes');
        disconnect = { code, reason };
      }
      const cmd: Extract<ControlCommand, { kind: 'disconnect' }> = { kind: 'disconnect', user: req.user ?? '', disconnect };
      if (req.client) cmd.client = req.client;
      if (req.session) cmd.session = req.session;
      if (req.whitelist !== undefined && req.whitelist.length > 0) cmd.whitelist = [...req.whitelist];
      this.#send(cmd);
      return {};
    });
  }

  refresh(req: api.RefreshRequest, ctx?: CallContext): Promise<api.RefreshResult> {
    return this.#run('refresh', ctx, undefined, async () => {
      const cmd: Extract<ControlCommand, { kind: 'refresh' }> = { kind: 'refresh', user: req.user ?? '', expired: req.expired === true };
      if (req.client) cmd.client = req.client;
      if (req.session) cmd.session = req.session;
      if (req.expireAt !== undefined && req.expireAt > 0) cmd.expireAt = req.expireAt;
      if (req.info !== undefined && req.info.length > 0) cmd.info = req.info;
      this.#send(cmd);
      return {};
    });
  }

  // ---- presence and history --------------------------------------------------------------

  presence(req: api.PresenceRequest, ctx?: CallContext): Promise<api.PresenceResult> {
    const channel = req.channel ?? '';
    return this.#run('presence', ctx, channel, async () => {
      this.#presenceChannel(channel);
      const entries = await this.#presence.get(channel);
      const presence = record<api.ClientInfo>();
      for (const [client, info] of entries) presence[client] = toApiClientInfo(info);
      return { presence };
    });
  }

  presenceStats(req: api.PresenceStatsRequest, ctx?: CallContext): Promise<api.PresenceStatsResult> {
    const channel = req.channel ?? '';
    return this.#run('presence_stats', ctx, channel, async () => {
      this.#presenceChannel(channel);
      const stats = await this.#presence.stats(channel);
      return { numClients: stats.numClients, numUsers: stats.numUsers };
    });
  }

  #presenceChannel(channel: string): void {
    if (channel === '') throw bad('channel required');
    if (!this.#resolve(channel).namespace.presence) throw new RotorError(Errors.notAvailable);
  }

  history(req: api.HistoryRequest, ctx?: CallContext): Promise<api.HistoryResult> {
    const channel = req.channel ?? '';
    return this.#run('history', ctx, channel, async () => {
      const resolved = this.#historyChannel(channel);
      const limit = req.limit ?? 0;
      const since = req.since;
      const read = await this.#history.read({
        channel,
        // The API limit is not clamped (client history is): 0 → only the position, <0 → all.
        limit: limit < 0 ? -1 : limit,
        reverse: req.reverse === true,
        metaTtlMs: resolved.namespace.effectiveHistoryMetaTtlMs,
        ...(since ? { since: { offset: since.offset ?? 0, epoch: since.epoch ?? '' } } : {}),
      });
      if (since?.epoch && since.epoch !== read.position.epoch) throw new RotorError(Errors.unrecoverablePosition);
      const publications = read.publications.map((p): api.Publication => {
        const out: api.Publication = { data: p.data, offset: p.offset };
        if (p.info !== undefined) out.info = toApiClientInfo(p.info);
        if (p.tags !== undefined) out.tags = p.tags;
        return out;
      });
      return { publications, epoch: read.position.epoch, offset: read.position.offset };
    });
  }

  historyRemove(req: api.HistoryRemoveRequest, ctx?: CallContext): Promise<api.HistoryRemoveResult> {
    const channel = req.channel ?? '';
    return this.#run('history_remove', ctx, channel, async () => {
      this.#historyChannel(channel);
      await this.#history.remove(channel);
      return {};
    });
  }

  #historyChannel(channel: string): ResolvedChannel {
    if (channel === '') throw bad('channel required');
    const resolved = this.#resolve(channel);
    if (resolved.history === null) throw new RotorError(Errors.notAvailable);
    return resolved;
  }

  // ---- cluster view and extensions -------------------------------------------------------

  info(_req: api.InfoRequest, ctx?: CallContext): Promise<api.InfoResult> {
    return this.#run('info', ctx, undefined, async () => {
      const nodes = await this.#control.nodes();
      return {
        nodes: nodes.map((n) => ({
          uid: n.uid,
          name: n.name,
          version: n.version,
          numClients: n.numClients,
          numUsers: n.numUsers,
          numChannels: n.numChannels,
          numSubs: n.numSubs,
          uptime: n.uptimeSeconds,
        })),
      };
    });
  }

  rpc(req: api.RPCRequest, ctx?: CallContext): Promise<api.RPCResult> {
    return this.#run('rpc', ctx, undefined, async () => {
      const method = req.method ?? '';
      if (method === '') throw bad('rpc method required');
      if (this.#rpc.size === 0) throw new RotorError(Errors.notAvailable);
      const handler = this.#rpc.get(method);
      if (handler === undefined) throw new RotorError(Errors.methodNotFound);
      const data = await handler(req.params ?? new Uint8Array(0));
      return data.length > 0 ? { data } : {};
    });
  }

  channels(req: api.ChannelsRequest, ctx?: CallContext): Promise<api.ChannelsResult> {
    return this.#run('channels', ctx, undefined, async () => {
      const pattern = req.pattern ?? '';
      let glob = null;
      if (pattern !== '') {
        try {
          glob = compileGlob(pattern);
        } catch (err) {
          if (err instanceof GlobSyntaxError) throw bad(`invalid pattern: ${err.message}`);
          throw err;
        }
      }
      const all = await this.#control.channels();
      const channels = record<api.ChannelInfo>();
      for (const [name, numClients] of all) {
        if (glob === null || glob.match(name)) channels[name] = { numClients };
      }
      return { channels };
    });
  }
}

function toOverride(o: api.SubscribeOptionOverride | undefined): SubscribeOverride | undefined {
  if (o === undefined) return undefined;
  const out: SubscribeOverride = {};
  if (o.presence) out.presence = o.presence.value === true;
  if (o.joinLeave) out.joinLeave = o.joinLeave.value === true;
  if (o.forcePushJoinLeave) out.forcePushJoinLeave = o.forcePushJoinLeave.value === true;
  if (o.forceRecovery) out.forceRecovery = o.forceRecovery.value === true;
  if (o.forcePositioning) out.forcePositioning = o.forcePositioning.value === true;
  return Object.keys(out).length > 0 ? out : undefined;
}

