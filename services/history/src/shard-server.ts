// The history shard's request handler: one NATS subscription on `<prefix>.shard.<k>` answering
// ShardRequest with ShardReply. Requests of one client connection arrive in order on this one
// subscription, so appends from one api node keep their order into the sequencer.
// Every failure becomes a ShardError reply (a RotorError's code and temporary flag; anything else
// is 100 internal); a malformed request gets 107 bad request. Nothing here throws into nats.js.
import type { Msg, NatsConnection, NatsError, Subscription } from 'nats';
import { Errors, RotorError } from '@rotor/core';
import type { HistoryStore, PresenceStore, Publisher } from '@rotor/core';
import { LatencyHistogram } from './latency-histogram.ts';
import { decodeShardRequest, encodeShardReply, ShardOp, type Subjects, type ShardReply, type ShardRequest } from '@rotor/nats';

export interface ShardServerOptions {
  nc: NatsConnection;
  shard: number;
  subjects: Subjects;
  history: HistoryStore;
  presence: PresenceStore;
  publisher: Publisher;
  onError: (err: unknown, context: string) => void;
}

export class ShardServer {
  private sub: Subscription | null = null;
  requests = 0;
  failures = 0;
  /** Request received → reply sent, for publishes (the reply follows the fan-out). */
  readonly publishLatency = new LatencyHistogram();

  constructor(private readonly opts: ShardServerOptions) {}

  async start(): Promise<void> {
    this.sub = this.opts.nc.subscribe(this.opts.subjects.shard(this.opts.shard), {
      callback: (err, msg) => this.onRequest(err, msg),
    });
    await this.opts.nc.flush();
  }

  stop(): void {
    this.sub?.unsubscribe();
    this.sub = null;
  }

  private onRequest(err: NatsError | null, msg: Msg): void {
    if (err !== null) {
      this.opts.onError(err, 'shard subscription');
      return;
    }
    this.requests++;
    const t0 = performance.now();
    let req: ShardRequest;
    try {
      req = decodeShardRequest(msg.data);
    } catch (e) {
      this.reply(msg, errorReply(new RotorError(Errors.badRequest, `malformed shard request: ${(e as Error).message}`)));
      return;
    }
    let result: Promise<ShardReply>;
    try {
      result = this.handle(req);
    } catch (e) {
      result = Promise.reject(e);
    }
    result.then(
      (rep) => {
        this.reply(msg, rep);
        if (req.op === ShardOp.publish) this.publishLatency.record(performance.now() - t0);
      },
      (e: unknown) => {
        this.failures++;
        if (!(e instanceof RotorError)) this.opts.onError(e, `shard op ${req.op}`);
        this.reply(msg, errorReply(e));
      },
    );
  }

  private handle(req: ShardRequest): Promise<ShardReply> {
    const { history, presence, publisher } = this.opts;
    switch (req.op) {
      case ShardOp.publish:
        return publisher
          .publish({
            channel: req.channel,
            data: req.data ?? new Uint8Array(0),
            info: req.info,
            tags: req.tags,
            history: req.history,
            idempotencyKey: req.idempotencyKey,
            idempotencyTtlMs: req.idempotencyTtlMs,
          })
          .then((position) => ({ position }));
      case ShardOp.append:
        if (req.history === undefined) return Promise.reject(new RotorError(Errors.badRequest, 'append without history options'));
        return history
          .append({
            channel: req.channel,
            data: req.data ?? new Uint8Array(0),
            info: req.info,
            tags: req.tags,
            history: req.history,
            idempotencyKey: req.idempotencyKey,
            idempotencyTtlMs: req.idempotencyTtlMs,
          })
          .then((r) => ({ publication: r.publication, position: r.position, duplicate: r.duplicate }));
      case ShardOp.read:
        return history
          .read({ channel: req.channel, since: req.since, limit: req.limit ?? 0, reverse: req.reverse ?? false, metaTtlMs: req.metaTtlMs ?? 0 })
          .then((r) => ({ publications: r.publications, position: r.position }));
      case ShardOp.remove:
        return history.remove(req.channel).then(() => ({}));
      case ShardOp.presenceAdd: {
        const entries = req.presence ?? [];
        return Promise.all(entries.map((e) => presence.add(e.channel, e.info, e.ttlMs))).then(() => ({}));
      }
      case ShardOp.presenceRemove:
        return presence.remove(req.channel, req.client ?? '').then(() => ({}));
      case ShardOp.presenceGet:
        return presence.get(req.channel).then((m) => ({ presence: [...m.values()] }));
      case ShardOp.presenceStats:
        return presence.stats(req.channel).then((s) => ({ numClients: s.numClients, numUsers: s.numUsers }));
    }
  }

  private reply(msg: Msg, rep: ShardReply): void {
    if (!msg.reply) return;
    try {
      msg.respond(encodeShardReply(rep));
    } catch (e) {
      this.opts.onError(e, 'shard reply');
    }
  }
}

function errorReply(err: unknown): ShardReply {
  const e = RotorError.from(err);
  return { error: { code: e.code, message: e.message, temporary: e.temporary } };
}
