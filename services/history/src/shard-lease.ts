// Single-writer fencing of a history shard: two processes serving shard k would both assign
// offsets to the same channels and both write them to JetStream. A lease makes that a refused
// start instead.
//
// The lease is a key `shard-<k>` in a JetStream KV bucket (`<stream_prefix>_SHARDS`), holding
// the owner's instance id; each instance answers on `<prefix>.shard.<k>.owner.<instance>`.
// - Acquire: `create` the key (atomic). If it exists, ping the recorded owner's subject: an
//   answer means it is alive → ShardTakenError. "No responders" (it died, e.g. kill -9) → take
//   the key over with `update` at the revision just read (compare-and-set, so of several
//   newcomers only one wins; the losers then find the winner answering). A restart after a crash
//   waits for one no-responders reply, not for a lease to time out.
// - Hold: every `checkIntervalMs` the owner reads the key; if another instance holds it now (it
//   took over while this one was paused or cut off), `onLost` fires and the shard must stop
//   writing at once. Reads that fail (NATS away) change nothing.
// - Release on a clean stop: the key is deleted if it is still ours (at its revision).
// What it does not cover: an owner alive but unable to answer within `pingTimeoutMs` is taken
// over, and both write until its next check (≤ checkIntervalMs). A process that cannot reach
// NATS cannot write JetStream either, so a partitioned owner does no harm meanwhile.
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { KV, NatsConnection, Subscription } from 'nats';
import type { Subjects } from '@rotor/nats';

export class ShardTakenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ShardTakenError';
  }
}

export interface ShardLeaseOptions {
  nc: NatsConnection;
  shard: number;
  subjects: Subjects;
  /** JetStream stream prefix (rotor.history.stream_prefix): the bucket is `<prefix>_SHARDS`. */
  streamPrefix: string;
  replicas: number;
  /** How often the owner checks it still holds the key (default 5000 ms). */
  checkIntervalMs?: number;
  /** How long a newcomer waits for the current owner's answer (default 1000 ms). */
  pingTimeoutMs?: number;
  /** Called once when another instance took the shard over. */
  onLost: (reason: string) => void;
  onError?: (err: unknown, context: string) => void;
}

interface Owner {
  instance: string;
  host: string;
  pid: number;
  since: number;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export class ShardLease {
  readonly instance = randomUUID();
  private kv!: KV;
  private sub: Subscription | null = null;
  private timer: NodeJS.Timeout | null = null;
  private revision = 0;
  private lost = false;
  private readonly key: string;
  private readonly me: Owner;

  private constructor(private readonly opts: ShardLeaseOptions) {
    this.key = `shard-${opts.shard}`;
    this.me = { instance: this.instance, host: hostname(), pid: process.pid, since: Date.now() };
  }

  static async acquire(opts: ShardLeaseOptions): Promise<ShardLease> {
    const lease = new ShardLease(opts);
    await lease.take();
    return lease;
  }

  /** The subject an instance answers on. */
  private ownerSubject(instance: string): string {
    return `${this.opts.subjects.shard(this.opts.shard)}.owner.${instance}`;
  }

  private async take(): Promise<void> {
    const { nc, streamPrefix, replicas } = this.opts;
    this.kv = await nc.jetstream().views.kv(`${streamPrefix}_SHARDS`, { history: 1, replicas });
    const value = enc.encode(JSON.stringify(this.me));
    // Answer first: once the key is ours, a newcomer's ping must find us.
    this.sub = nc.subscribe(this.ownerSubject(this.instance), {
      callback: (err, msg) => {
        if (err !== null || this.lost) return;
        msg.respond(value);
      },
    });
    await nc.flush();
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          this.revision = await this.kv.create(this.key, value);
          break;
        } catch (err) {
          if (!isWrongSequence(err) || attempt >= 5) throw err;
        }
        const entry = await this.kv.get(this.key);
        if (entry === null || entry.operation !== 'PUT') continue;
        const owner = parseOwner(entry.value);
        if (owner !== null && (await this.answers(owner))) {
          const who = owner === null ? 'another process' : `${owner.host} pid ${owner.pid} (since ${new Date(owner.since).toISOString()})`;
          throw new ShardTakenError(`history shard ${this.opts.shard} is already served by ${who}; refusing to run it twice`);
        }
        try {
          this.revision = await this.kv.update(this.key, value, entry.revision);
          break;
        } catch (err) {
          // Another newcomer won the compare-and-set: look again (it will answer now).
          if (!isWrongSequence(err) || attempt >= 5) throw err;
        }
      }
    } catch (err) {
      this.sub.unsubscribe();
      this.sub = null;
      throw err;
    }
    const interval = this.opts.checkIntervalMs ?? 5000;
    this.timer = setInterval(() => void this.check(), interval);
    this.timer.unref();
  }

  /** Whether the recorded owner answers (it is alive and serving). */
  private async answers(owner: Owner): Promise<boolean> {
    if (owner.instance === this.instance) return false;
    try {
      await this.opts.nc.request(this.ownerSubject(owner.instance), new Uint8Array(0), { timeout: this.opts.pingTimeoutMs ?? 1000 });
      return true;
    } catch (err) {
      // 503 no responders: it is gone. A timeout: alive but not answering — taken over too (see above).
      if ((err as { code?: string }).code !== '503') this.opts.onError?.(err, 'shard owner ping');
      return false;
    }
  }

  private async check(): Promise<void> {
    if (this.lost) return;
    if (this.opts.nc.isClosed()) {
      // The connection is gone for good (the shard is being closed): nothing left to guard.
      if (this.timer !== null) clearInterval(this.timer);
      this.timer = null;
      return;
    }
    let entry;
    try {
      entry = await this.kv.get(this.key);
    } catch (err) {
      this.opts.onError?.(err, 'shard lease check');
      return;
    }
    const owner = entry === null || entry.operation !== 'PUT' ? null : parseOwner(entry.value);
    if (owner !== null && owner.instance === this.instance) return;
    if (owner === null) {
      // Deleted under us (by hand?): take it back if nobody else did.
      try {
        this.revision = entry === null ? await this.kv.create(this.key, enc.encode(JSON.stringify(this.me))) : await this.kv.update(this.key, enc.encode(JSON.stringify(this.me)), entry.revision);
        return;
      } catch (err) {
        if (!isWrongSequence(err)) {
          this.opts.onError?.(err, 'shard lease renewal');
          return;
        }
      }
    }
    this.lost = true;
    if (this.timer !== null) clearInterval(this.timer);
    const who = owner === null ? 'another process' : `${owner.host} pid ${owner.pid}`;
    this.opts.onLost(`history shard ${this.opts.shard} was taken over by ${who}`);
  }

  /** Stops answering and deletes the key if it is still ours. */
  async release(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.sub?.unsubscribe();
    this.sub = null;
    if (this.lost || this.opts.nc.isClosed()) return;
    try {
      await this.kv.delete(this.key, { previousSeq: this.revision });
    } catch (err) {
      // Someone else holds it now, or NATS is away: the next owner takes over without our help.
      if (!isWrongSequence(err)) this.opts.onError?.(err, 'shard lease release');
    }
  }
}

function parseOwner(data: Uint8Array): Owner | null {
  try {
    const o = JSON.parse(dec.decode(data)) as Partial<Owner>;
    if (typeof o.instance !== 'string') return null;
    return { instance: o.instance, host: String(o.host ?? ''), pid: Number(o.pid ?? 0), since: Number(o.since ?? 0) };
  } catch (err) {
    if (err instanceof SyntaxError) return null;
    throw err;
  }
}

/** JetStream's "wrong last sequence" (the compare-and-set lost) or "key exists". */
function isWrongSequence(err: unknown): boolean {
  const e = err as { api_error?: { err_code?: number }; message?: string };
  return e?.api_error?.err_code === 10071 || /wrong last sequence|key exists/i.test(e?.message ?? '');
}
