// Clients of the history shards for the gateway and api roles: HistoryStore, PresenceStore and
// Publisher over NATS request/reply to the shard that owns the channel (shardOf, FNV-1a mod N).
//
// Failure model: a shard that does not answer within the timeout, or that nobody serves (503 no
// responders), yields RotorError(internal 100, temporary, "history shard unavailable") — the SDKs
// retry temporary errors. A shard's own error reply keeps its code and temporary flag.
// A timed-out publish may still have been accepted by the shard: retry with an idempotency key.
import type { NatsConnection } from 'nats';
import { Errors, RotorError, systemClock } from '@rotor/core';
import type {
  AppendRequest,
  AppendResult,
  Broker,
  ClientInfo,
  Clock,
  HistoryStore,
  PresenceStats,
  PresenceStore,
  Publication,
  Publisher,
  PublishRequest,
  PublishResult,
  ReadRequest,
  ReadResult,
} from '@rotor/core';
import { decodeShardReply, encodeShardRequest, ShardOp, type PresenceEntry, type ShardReply, type ShardRequest } from './envelope.ts';
import { Requester, RequestError } from './requester.ts';
import { shardOf } from './shard.ts';
import { Subjects } from './subjects.ts';
import { DecodeError } from '@rotor/proto';

export interface ShardClientOptions {
  shards: number;
  subjects?: Subjects;
  /** Per-request timeout (default 5000 ms). */
  timeoutMs?: number;
  /**
   * A shard whose requests have waited this long is probed; when nobody serves it any more (it
   * was killed) its pending requests fail at once instead of at the timeout (default 1000 ms;
   * 0: never probe). See Requester.
   */
  probeAfterMs?: number;
  /**
   * The connection's state (NatsConnectionMonitor). While it says disconnected, requests and
   * direct publishes fail at once with a temporary error instead of waiting in nats.js's
   * reconnect buffer, where they would be sent late (after their caller gave up) or not at all.
   */
  connection?: { readonly connected: boolean };
}

/** Routes requests to shards and turns every failure into a RotorError. */
export class ShardRouter {
  readonly shards: number;
  readonly subjects: Subjects;
  private readonly requester: Requester;
  private readonly connection: { readonly connected: boolean } | undefined;

  constructor(nc: NatsConnection, opts: ShardClientOptions) {
    if (!Number.isInteger(opts.shards) || opts.shards < 1) throw new RangeError(`invalid shard count ${opts.shards}`);
    this.shards = opts.shards;
    this.subjects = opts.subjects ?? new Subjects();
    this.requester = new Requester(nc, opts.timeoutMs ?? 5000, opts.probeAfterMs ?? 1000);
    this.connection = opts.connection;
  }

  /** Throws the temporary "NATS disconnected" error while the connection is down. */
  assertConnected(): void {
    if (this.connection !== undefined && !this.connection.connected) throw new RotorError(Errors.internal, 'cluster unavailable (NATS disconnected)');
  }

  shardOf(channel: string): number {
    return shardOf(channel, this.shards);
  }

  async request(shard: number, req: ShardRequest): Promise<ShardReply> {
    this.assertConnected();
    let data: Uint8Array;
    try {
      data = await this.requester.request(this.subjects.shard(shard), encodeShardRequest(req));
    } catch (err) {
      if (err instanceof RequestError) throw new RotorError(Errors.internal, `history shard unavailable (${err.message})`);
      throw err;
    }
    let rep: ShardReply;
    try {
      rep = decodeShardReply(data);
    } catch (err) {
      if (err instanceof DecodeError) throw new RotorError(Errors.internal, 'malformed reply from history shard');
      throw err;
    }
    if (rep.error !== undefined) {
      throw new RotorError({ code: rep.error.code, message: rep.error.message, temporary: rep.error.temporary }, rep.error.message);
    }
    return rep;
  }

  close(): void {
    this.requester.close();
  }
}

/** HistoryStore of the cluster: every call goes to the channel's shard. */
export class ShardHistoryClient implements HistoryStore {
  constructor(private readonly router: ShardRouter) {}

  async append(req: AppendRequest): Promise<AppendResult> {
    const rep = await this.router.request(this.router.shardOf(req.channel), {
      op: ShardOp.append,
      channel: req.channel,
      data: req.data,
      info: req.info,
      tags: req.tags,
      history: req.history,
      idempotencyKey: req.idempotencyKey,
      idempotencyTtlMs: req.idempotencyTtlMs,
    });
    if (rep.publication === undefined || rep.position === undefined) throw new RotorError(Errors.internal, 'incomplete append reply');
    return { publication: rep.publication, position: rep.position, duplicate: rep.duplicate ?? false };
  }

  async read(req: ReadRequest): Promise<ReadResult> {
    const rep = await this.router.request(this.router.shardOf(req.channel), {
      op: ShardOp.read,
      channel: req.channel,
      since: req.since,
      limit: req.limit,
      reverse: req.reverse,
      metaTtlMs: req.metaTtlMs,
    });
    if (rep.position === undefined) throw new RotorError(Errors.internal, 'incomplete read reply');
    return { publications: rep.publications ?? [], position: rep.position };
  }

  async remove(channel: string): Promise<void> {
    await this.router.request(this.router.shardOf(channel), { op: ShardOp.remove, channel });
  }

  async close(): Promise<void> {}
}

interface BatchedAdd {
  entries: PresenceEntry[];
  waiters: Array<{ resolve: () => void; reject: (e: unknown) => void }>;
}

/**
 * PresenceStore of the cluster. `add` calls made in the same event-loop turn are sent as one
 * request per shard (gateways refresh many entries at once every presence_update_interval).
 */
export class ShardPresenceClient implements PresenceStore {
  private readonly batches = new Map<number, BatchedAdd>();
  private scheduled = false;
  /** Cap on entries per batch request. */
  private readonly maxBatch = 1000;

  constructor(private readonly router: ShardRouter) {}

  add(channel: string, info: ClientInfo, ttlMs: number): Promise<void> {
    const shard = this.router.shardOf(channel);
    let batch = this.batches.get(shard);
    if (batch === undefined) {
      batch = { entries: [], waiters: [] };
      this.batches.set(shard, batch);
    }
    batch.entries.push({ channel, info, ttlMs });
    const p = new Promise<void>((resolve, reject) => batch.waiters.push({ resolve, reject }));
    if (batch.entries.length >= this.maxBatch) {
      this.batches.delete(shard);
      this.send(shard, batch);
    } else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    return p;
  }

  private flush(): void {
    this.scheduled = false;
    const batches = [...this.batches];
    this.batches.clear();
    for (const [shard, batch] of batches) this.send(shard, batch);
  }

  private send(shard: number, batch: BatchedAdd): void {
    this.router.request(shard, { op: ShardOp.presenceAdd, channel: '', presence: batch.entries }).then(
      () => {
        for (const w of batch.waiters) w.resolve();
      },
      (err: unknown) => {
        for (const w of batch.waiters) w.reject(err);
      },
    );
  }

  async remove(channel: string, client: string): Promise<void> {
    await this.router.request(this.router.shardOf(channel), { op: ShardOp.presenceRemove, channel, client });
  }

  async get(channel: string): Promise<Map<string, ClientInfo>> {
    const rep = await this.router.request(this.router.shardOf(channel), { op: ShardOp.presenceGet, channel });
    const out = new Map<string, ClientInfo>();
    for (const info of rep.presence ?? []) out.set(info.client, info);
    return out;
  }

  async stats(channel: string): Promise<PresenceStats> {
    const rep = await this.router.request(this.router.shardOf(channel), { op: ShardOp.presenceStats, channel });
    return { numClients: rep.numClients ?? 0, numUsers: rep.numUsers ?? 0 };
  }

  async close(): Promise<void> {}
}

/**
 * Publisher for the api and gateway roles: a publication that needs sequencing (history or an
 * idempotency key) goes to its shard, which stores it and fans it out; any other goes straight
 * to the channel subject with offset 0.
 */
export class ClusterPublisher implements Publisher {
  private readonly clock: Clock;

  constructor(
    private readonly router: ShardRouter,
    private readonly broker: Broker,
    clock?: Clock,
  ) {
    this.clock = clock ?? systemClock;
  }

  async publish(req: PublishRequest): Promise<PublishResult> {
    if (req.history !== undefined || req.idempotencyKey) {
      const rep = await this.router.request(this.router.shardOf(req.channel), {
        op: ShardOp.publish,
        channel: req.channel,
        data: req.data,
        info: req.info,
        tags: req.tags,
        history: req.history,
        idempotencyKey: req.idempotencyKey,
        idempotencyTtlMs: req.idempotencyTtlMs,
      });
      return rep.position ?? { offset: 0, epoch: '' };
    }
    this.router.assertConnected();
    const pub: Publication = { offset: 0, data: req.data, time: this.clock.now() };
    if (req.info) pub.info = req.info;
    if (req.tags) pub.tags = req.tags;
    this.broker.publish(req.channel, pub, '');
    return { offset: 0, epoch: '' };
  }
}
