// JetStreamHistoryStore: the history shard's HistoryStore. Memory serves every read; JetStream holds
// the durable copy that a restarted shard reloads.
//
// Layout. One JetStream stream per retention class of this shard: class "<size>_<ageSeconds>"
// (history_size and max(history_ttl, history_meta_ttl) of the namespace), stream
// "<streamPrefix>_H<shard>_<class>", subjects "<prefix>.hs.<shard>.<class>.<channel token>".
// The server enforces retention per channel: `max_msgs_per_subject` = size + 1 (room for a
// marker record) and `max_age` = the class age, discard old. Keeping records for the meta TTL (not
// only the history TTL) is what lets a restarted shard know a channel's epoch and top offset after
// its publications expired; reads filter by the history TTL, and a sweep purges an idle channel's
// subject down to its last record once its publications are past the TTL.
// Each record (proto StoredRecord) carries epoch, offset, time, the publication and its
// idempotency key, so the stream alone rebuilds a channel: no separate meta store to keep in step.
//
// Durability settings: file storage, `num_replicas` from config (rotor.history.replicas; 3 in a
// JetStream cluster). An ack means the record is in the stream leader's file store (written to
// the OS, fsynced by nats-server on its own schedule — every 2 minutes by default on 2.9) and, with
// replicas > 1, on a quorum of replicas. So an acknowledged publication survives a shard crash and
// a nats-server process crash; surviving power loss of a single-node R1 server is not promised —
// production relies on R3 replication.
//
// Appends. The shard is the single writer of its channels (a StatefulSet ordinal). An append takes
// the next offset synchronously, publishes the record (pipelined, see js-appender.ts) and resolves
// when JetStream acked it — strictly in offset order per channel, so ChannelSequencer forwards to
// the broker in offset order. Reads see only acknowledged publications.
// When a write fails (timeout, JetStream unavailable, NATS away) the stored stream may now hold a
// gap or a record nobody was told about: every in-flight append of that channel is rejected
// (temporary) and the channel is loaded again from the stream once NATS answers (see
// reloadAfterFailure): contiguous → same epoch (failed appends that were stored after all stay,
// as "may have been stored" promises); a gap → new epoch, and the old epoch's clients are told
// `recovered: false`. Nothing acknowledged is lost either way.
//
// Loading. A channel not in memory is loaded on first use: the last record of its subject
// (STREAM.MSG.GET last_by_subj, per class) and then all its records through an ordered consumer.
// The epoch is kept when the records of the last epoch are contiguous and the meta has not
// expired; otherwise (gap, undecodable record, expired meta, nothing stored) a new epoch starts.
// A channel found in a different class than an append asks for (history_size or TTL changed)
// starts a new epoch in the new class; its old subject is purged.
// Not persisted: an epoch created by a read of a channel that never had a publication (a restart
// gives such a channel a new epoch, so a client holding {0, epoch} is told recovered=false).
import { type NatsConnection, type JetStreamManager, type JetStreamClient, type NatsError, DiscardPolicy, RetentionPolicy, StorageType, nanos } from 'nats';
import { Deque, Errors, RotorError, newEpoch, systemClock, DEFAULT_IDEMPOTENCY_TTL_MS } from '@rotor/core';
import type { AppendRequest, AppendResult, Clock, HistoryStore, Publication, ReadRequest, ReadResult, StreamPosition } from '@rotor/core';
import { decodeStoredRecord, encodeStoredRecord, RecordKind, Subjects, type StoredRecord } from '@rotor/nats';
import { JsAppender } from './js-appender.ts';

export interface JetStreamHistoryStoreOptions {
  nc: NatsConnection;
  shard: number;
  subjects?: Subjects;
  /** Stream name prefix (rotor.history.stream_prefix). */
  streamPrefix: string;
  /** Stream replicas (rotor.history.replicas). */
  replicas: number;
  clock?: Clock;
  /** JetStream ack timeout per append (default 5000 ms). */
  appendTimeoutMs?: number;
  /** Timeout of one channel load (default 10 000 ms). */
  loadTimeoutMs?: number;
  /** Cleanup sweep interval; 0 disables the timer (default 10 000 ms). */
  sweepIntervalMs?: number;
  /** Per-channel cap of remembered idempotency keys (default 10 000). */
  maxIdempotencyKeysPerChannel?: number;
  /** After a failed write, how long to let late writes land before reloading (default 250 ms). */
  reloadSettleMs?: number;
  onError?: (err: unknown, context: string) => void;
}

interface RetentionClass {
  key: string;
  stream: string;
  size: number;
}

interface PendingAppend {
  offset: number;
  epoch: string;
  publication: Publication;
  state: 'pending' | 'stored' | 'failed';
  key: string | undefined;
  resolve: (r: AppendResult) => void;
  reject: (e: unknown) => void;
  promise: Promise<AppendResult>;
}

interface IdempotencyEntry {
  expiresAt: number;
  result: Promise<AppendResult>;
}

interface ChannelState {
  channel: string;
  phase: 'loading' | 'ready';
  /** Requests that arrived while loading, run in arrival order once ready. */
  queue: Array<() => void>;
  cls: RetentionClass | null;
  subject: string;
  epoch: string;
  /** Highest offset handed out in this epoch (stored or in flight). */
  top: number;
  /** Highest offset acknowledged by JetStream (what reads report). */
  stored: number;
  /** Retained, acknowledged publications, contiguous and ending at `stored`. */
  pubs: Deque<Publication>;
  size: number;
  ttlMs: number;
  metaExpiresAt: number;
  /** history_meta_ttl of the latest append or read that created the meta (0: never expires). */
  metaTtlMs: number;
  lastAppendAt: number;
  /** Stream sequence of the newest acknowledged record (0: unknown). */
  lastSeq: number;
  /** Offsets up to this were removed by history_remove (in-flight ones included). */
  removedUpTo: number;
  idleTrimmed: boolean;
  pending: PendingAppend[];
  idempotency: Map<string, IdempotencyEntry>;
}

interface ScannedRecord {
  seq: number;
  /** null: undecodable. */
  rec: StoredRecord | null;
}

interface LoadHint {
  cls: RetentionClass | null;
  metaTtlMs: number;
  /** The channel had acknowledged records (a reload after a failed write). */
  expectRecords?: boolean;
  /** The last acknowledged position before a failed write (a reload after it). */
  acked?: StreamPosition;
}

export class JetStreamHistoryStore implements HistoryStore {
  private readonly nc: NatsConnection;
  private readonly subjects: Subjects;
  private readonly clock: Clock;
  private readonly shard: number;
  private readonly streamPrefix: string;
  private readonly replicas: number;
  private readonly loadTimeoutMs: number;
  private readonly maxKeys: number;
  private readonly settleMs: number;
  private readonly onError: (err: unknown, context: string) => void;
  private readonly appender: JsAppender;
  private readonly channels = new Map<string, ChannelState>();
  private readonly classes = new Map<string, RetentionClass>();
  private readonly classCreation = new Map<string, Promise<RetentionClass>>();
  private jsm!: JetStreamManager;
  private js!: JetStreamClient;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  /** Channels that started a new epoch because continuity could not be proven (a metric). */
  epochResets = 0;

  private constructor(opts: JetStreamHistoryStoreOptions) {
    this.nc = opts.nc;
    this.subjects = opts.subjects ?? new Subjects();
    this.clock = opts.clock ?? systemClock;
    this.shard = opts.shard;
    this.streamPrefix = opts.streamPrefix;
    this.replicas = opts.replicas;
    this.loadTimeoutMs = opts.loadTimeoutMs ?? 10_000;
    this.maxKeys = opts.maxIdempotencyKeysPerChannel ?? 10_000;
    this.settleMs = opts.reloadSettleMs ?? 250;
    this.onError = opts.onError ?? ((err, context) => console.error(`history store: ${context}`, err));
    this.appender = new JsAppender(opts.nc, { timeoutMs: opts.appendTimeoutMs ?? 5000 });
    const interval = opts.sweepIntervalMs ?? 10_000;
    if (interval > 0) {
      this.timer = setInterval(() => this.sweep(), interval);
      this.timer.unref();
    }
  }

  /** Connects to JetStream and discovers this shard's existing streams. */
  static async open(opts: JetStreamHistoryStoreOptions): Promise<JetStreamHistoryStore> {
    if (!/^[A-Za-z0-9_-]+$/.test(opts.streamPrefix)) throw new Error(`invalid stream prefix ${JSON.stringify(opts.streamPrefix)}`);
    const store = new JetStreamHistoryStore(opts);
    try {
      store.jsm = await opts.nc.jetstreamManager();
      store.js = opts.nc.jetstream();
      await store.discoverClasses();
      await store.appender.ready();
    } catch (err) {
      await store.close();
      throw err;
    }
    return store;
  }

  /** Learns this shard's retention classes from the streams JetStream has (known ones are kept). */
  private async discoverClasses(): Promise<void> {
    const namePrefix = this.streamNamePrefix();
    for await (const si of this.jsm.streams.list()) {
      const name = si.config.name;
      if (!name.startsWith(namePrefix)) continue;
      const key = name.slice(namePrefix.length);
      const m = /^(\d+)_(\d+)$/.exec(key);
      if (m === null || this.classes.has(key)) continue;
      this.classes.set(key, { key, stream: name, size: Number(m[1]) });
    }
  }


  private streamNamePrefix(): string {
    return `${this.streamPrefix}_H${this.shard}_`;
  }

  /** Channels held in memory (for tests and metrics). */
  get channelCount(): number {
    return this.channels.size;
  }

  get inFlight(): number {
    return this.appender.inFlight;
  }

  // -------------------------------------------------------------------------------------------
  // HistoryStore

  append(req: AppendRequest): Promise<AppendResult> {
    if (this.closed) return Promise.reject(unavailable('history store closed'));
    const { size, ttlMs, metaTtlMs } = req.history;
    if (!(size > 0) || !(ttlMs > 0) || !Number.isSafeInteger(size) || !Number.isSafeInteger(ttlMs) || !(metaTtlMs >= 0)) {
      return Promise.reject(new RotorError(Errors.badRequest, 'history size and ttl must be positive'));
    }
    const invalid = this.checkChannel(req.channel);
    if (invalid !== null) return Promise.reject(invalid);
    const key = classKey(size, ttlMs, metaTtlMs);
    const cls = this.classes.get(key);
    if (cls !== undefined) return this.withChannel(req.channel, { cls, metaTtlMs }, (st) => this.appendReady(st, req, cls));
    return this.ensureClass(key, size).then((c) =>
      this.withChannel(req.channel, { cls: c, metaTtlMs }, (st) => this.appendReady(st, req, c)),
    );
  }

  read(req: ReadRequest): Promise<ReadResult> {
    if (this.closed) return Promise.reject(unavailable('history store closed'));
    const invalid = this.checkChannel(req.channel);
    if (invalid !== null) return Promise.reject(invalid);
    return this.withChannel(req.channel, { cls: null, metaTtlMs: req.metaTtlMs }, (st) => this.readReady(st, req));
  }

  remove(channel: string): Promise<void> {
    if (this.closed) return Promise.reject(unavailable('history store closed'));
    const invalid = this.checkChannel(channel);
    if (invalid !== null) return Promise.reject(invalid);
    return this.withChannel(channel, { cls: null, metaTtlMs: 0 }, (st) => this.removeReady(st));
  }

  /** A channel whose storage subject would be too long is refused up front (typed error). */
  private checkChannel(channel: string): unknown {
    try {
      this.subjects.storage(this.shard, '0_0', channel);
      return null;
    } catch (err) {
      return err;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.appender.close();
    for (const st of this.channels.values()) {
      for (const run of st.queue.splice(0)) run();
    }
    this.channels.clear();
  }

  // -------------------------------------------------------------------------------------------
  // Channel state and loading

  /** Runs `fn` on the channel's loaded state, in arrival order with other requests of the channel. */
  private withChannel<T>(channel: string, hint: LoadHint, fn: (st: ChannelState) => T | Promise<T>): Promise<T> {
    let st = this.channels.get(channel);
    if (st === undefined) {
      st = this.newState(channel);
      this.channels.set(channel, st);
      this.load(st, hint);
    }
    if (st.phase === 'ready') {
      try {
        return Promise.resolve(fn(st));
      } catch (err) {
        return Promise.reject(err);
      }
    }
    const state = st;
    return new Promise<T>((resolve, reject) => {
      state.queue.push(() => {
        if (this.closed) {
          reject(unavailable('history store closed'));
          return;
        }
        if (state.phase !== 'ready') {
          reject(unavailable('history shard could not load the channel'));
          return;
        }
        try {
          resolve(fn(state));
        } catch (err) {
          reject(err);
        }
      });
    });
  }

  private newState(channel: string): ChannelState {
    return {
      channel,
      phase: 'loading',
      queue: [],
      cls: null,
      subject: '',
      epoch: '',
      top: 0,
      stored: 0,
      pubs: new Deque<Publication>(),
      size: 0,
      ttlMs: 0,
      metaExpiresAt: Infinity,
      metaTtlMs: 0,
      lastAppendAt: 0,
      lastSeq: 0,
      removedUpTo: 0,
      idleTrimmed: false,
      pending: [],
      idempotency: new Map(),
    };
  }

  /** Loads the channel; `before` runs first and may refine the hint. */
  private load(st: ChannelState, hint: LoadHint, before?: () => Promise<LoadHint>): void {
    const loading = before === undefined ? this.loadFromStreams(st, hint) : before().then((h) => this.loadFromStreams(st, h));
    withTimeout(loading, this.loadTimeoutMs, 'channel load timed out').then(
      () => {
        st.phase = 'ready';
        for (const run of st.queue.splice(0)) run();
      },
      (err: unknown) => {
        this.onError(err, `loading ${JSON.stringify(st.channel)}`);
        // Forget the state so the next request tries again; fail the waiting ones.
        if (this.channels.get(st.channel) === st) this.channels.delete(st.channel);
        for (const run of st.queue.splice(0)) run();
      },
    );
  }

  private async loadFromStreams(st: ChannelState, hint: LoadHint): Promise<void> {
    const now = this.clock.now();
    const found: Array<{ cls: RetentionClass; seq: number; rec: StoredRecord | null }> = [];
    // The hinted class first: for appends to known channels that is the only lookup that hits.
    const hinted = hint.cls?.key;
    const order = [...this.classes.values()].sort((a, b) => (a.key === hinted ? -1 : b.key === hinted ? 1 : 0));
    for (const cls of order) {
      const last = await this.lastRecord(cls, st.channel);
      if (last !== null) found.push({ cls, ...last });
    }
    // Normally at most one class holds the channel; after an interrupted class move, keep the newest.
    found.sort((a, b) => (b.rec?.time ?? 0) - (a.rec?.time ?? 0));
    const best = found[0];
    for (const stale of found.slice(1)) await this.purgeSubject(stale.cls, st.channel, 0);

    const targetCls = hint.cls ?? best?.cls ?? null;
    this.setClass(st, targetCls);
    if (best === undefined) {
      this.freshEpoch(st, now, hint.metaTtlMs, hint.expectRecords ? 'no stored record of a channel that had some' : null);
      return;
    }
    if (best.rec === null) {
      this.freshEpoch(st, now, hint.metaTtlMs, 'undecodable last record');
      return;
    }
    if (hint.cls !== null && best.cls.key !== hint.cls.key) {
      // Retention changed: the records stay valid in their class only.
      await this.purgeSubject(best.cls, st.channel, 0);
      this.freshEpoch(st, now, hint.metaTtlMs, 'retention class changed');
      return;
    }
    if (hint.metaTtlMs > 0 && now >= best.rec.time + hint.metaTtlMs) {
      this.freshEpoch(st, now, hint.metaTtlMs, 'meta expired');
      return;
    }
    let records = await this.scan(best.cls, st.channel, best.seq);
    if (hint.acked !== undefined) records = await this.dropUnacknowledgedTail(best.cls, st.channel, records, hint.acked);
    this.rebuild(st, records.map((r) => r.rec), now, hint.metaTtlMs);
    st.lastSeq = records.at(-1)?.seq ?? best.seq;
  }

  private setClass(st: ChannelState, cls: RetentionClass | null): void {
    if (st.cls?.key !== cls?.key) st.lastSeq = 0;
    st.cls = cls;
    st.subject = cls === null ? '' : this.subjects.storage(this.shard, cls.key, st.channel);
    if (cls !== null) st.size = cls.size;
  }

  /** A new epoch; `reset` says why continuity was lost (null: a channel without a stream yet). */
  private freshEpoch(st: ChannelState, now: number, metaTtlMs: number, reset: string | null): void {
    if (reset !== null) {
      this.epochResets++;
      this.onError(new Error(reset), `new epoch for ${JSON.stringify(st.channel)}`);
    }
    st.epoch = newEpoch(st.epoch === '' ? undefined : st.epoch);
    st.top = 0;
    st.stored = 0;
    st.removedUpTo = 0;
    st.pubs.clear();
    st.metaTtlMs = metaTtlMs;
    st.metaExpiresAt = expiry(now, metaTtlMs);
  }

  /** The channel's last record in a class, or null when it has none. */
  private async lastRecord(cls: RetentionClass, channel: string): Promise<{ seq: number; rec: StoredRecord | null } | null> {
    try {
      const sm = await this.jsm.streams.getMessage(cls.stream, { last_by_subj: this.subjects.storage(this.shard, cls.key, channel) });
      let rec: StoredRecord | null = null;
      try {
        rec = decodeStoredRecord(sm.data);
      } catch (err) {
        this.onError(err, `undecodable record in ${cls.stream}#${sm.seq}`);
      }
      return { seq: sm.seq, rec };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  /** Every record of the channel in a class up to stream sequence `lastSeq`, in order. */
  private async scan(cls: RetentionClass, channel: string, lastSeq: number): Promise<ScannedRecord[]> {
    const subject = this.subjects.storage(this.shard, cls.key, channel);
    // nats-server 2.9 needs the filter as a single string (the array form hangs).
    const consumer = await this.js.consumers.get(cls.stream, { filterSubjects: subject });
    const messages = await consumer.consume({ max_messages: Math.min(cls.size + 1, 1000) });
    const out: ScannedRecord[] = [];
    try {
      for await (const m of messages) {
        let rec: StoredRecord | null = null;
        try {
          rec = decodeStoredRecord(m.data);
        } catch (err) {
          this.onError(err, `undecodable record in ${cls.stream}#${m.seq}`);
        }
        out.push({ seq: m.seq, rec });
        if (m.seq >= lastSeq) break;
      }
    } finally {
      await messages.close().catch((err: unknown) => this.onError(err, 'closing a load consumer'));
      // Do not leave one ephemeral consumer per loaded channel waiting for its inactivity timeout.
      await consumer.delete().catch((err: unknown) => this.onError(err, 'deleting a load consumer'));
    }
    return out;
  }

  /**
   * After a failed write: records of the failed epoch that follow a gap above the acknowledged
   * top belong to appends that were all rejected (nothing after a gap is ever acknowledged, acks
   * resolve in offset order). They are deleted from the stream, so the epoch can go on from the
   * last contiguous offset. How such a gap arises: writes made while nats.js already buffered
   * for the reconnect reach JetStream after the reconnect, ones written into the dying socket
   * just before it do not. A gap at or below the acknowledged top is left alone (new epoch).
   */
  private async dropUnacknowledgedTail(cls: RetentionClass, channel: string, records: ScannedRecord[], acked: StreamPosition): Promise<ScannedRecord[]> {
    let top = -1;
    let cut = -1;
    for (let i = 0; i < records.length; i++) {
      const rec = records[i]!.rec;
      if (rec === null) return records;
      if (rec.epoch !== acked.epoch) {
        if (top >= 0) return records; // another epoch after ours: not ours to repair
        continue;
      }
      if (rec.kind !== RecordKind.publication) {
        top = Math.max(top, rec.offset);
        continue;
      }
      if (top >= 0 && rec.offset !== top + 1) {
        if (top < acked.offset) return records;
        cut = i;
        break;
      }
      top = rec.offset;
    }
    if (cut < 0) return records;
    const dropped = records.slice(cut);
    for (const r of dropped) await this.jsm.streams.deleteMessage(cls.stream, r.seq, false);
    this.onError(new Error(`dropped ${dropped.length} unacknowledged record(s) after a gap at offset ${top + 1}`), `reloading ${JSON.stringify(channel)}`);
    return records.slice(0, cut);
  }

  /** Rebuilds memory from stored records; a new epoch when the last epoch is not contiguous. */
  private rebuild(st: ChannelState, records: Array<StoredRecord | null>, now: number, metaTtlMs: number): void {
    let epoch = '';
    let top = 0;
    let ok = true;
    let pubs: Publication[] = [];
    let ttlMs = 0;
    let lastTime = 0;
    let idem: Array<[string, number, AppendResult]> = [];
    let why = '';
    for (const rec of records) {
      if (rec === null) {
        ok = false;
        why = 'an undecodable record';
        continue;
      }
      lastTime = Math.max(lastTime, rec.time);
      if (rec.epoch !== epoch) {
        epoch = rec.epoch;
        ok = true;
        pubs = [];
        idem = [];
        top = rec.kind === RecordKind.publication ? rec.offset - 1 : rec.offset;
      }
      if (rec.kind === RecordKind.publication) {
        if (rec.offset !== top + 1 && ok) {
          ok = false;
          why = `offset ${rec.offset} follows ${top}`;
        }
        top = rec.offset;
        const pub = rec.publication as Publication;
        pubs.push(pub);
        if (rec.ttlMs) ttlMs = rec.ttlMs;
        if (rec.idempotencyKey) {
          idem.push([rec.idempotencyKey, rec.idempotencyExpiresAt ?? 0, { publication: pub, position: { offset: rec.offset, epoch }, duplicate: false }]);
        }
      } else if (rec.kind === RecordKind.removed) {
        pubs = [];
        top = Math.max(top, rec.offset);
      }
    }
    if (!ok || epoch === '') {
      this.freshEpoch(st, now, metaTtlMs, epoch === '' ? 'no usable record' : `stored records of epoch ${epoch} are not contiguous: ${why}`);
      return;
    }
    st.epoch = epoch;
    st.top = top;
    st.stored = top;
    st.removedUpTo = 0;
    st.ttlMs = ttlMs;
    st.lastAppendAt = lastTime;
    st.metaTtlMs = metaTtlMs;
    st.metaExpiresAt = expiry(lastTime, metaTtlMs);
    st.pubs.clear();
    for (const p of pubs) st.pubs.push(p);
    for (const [key, expiresAt, result] of idem) {
      if (now < expiresAt) st.idempotency.set(key, { expiresAt, result: Promise.resolve(result) });
    }
    this.trim(st, now);
  }

  private ensureClass(key: string, size: number): Promise<RetentionClass> {
    const existing = this.classCreation.get(key);
    if (existing !== undefined) return existing;
    const ageSeconds = Number(key.split('_')[1]);
    const cls: RetentionClass = { key, stream: this.streamNamePrefix() + key, size };
    const config = {
      name: cls.stream,
      subjects: [this.subjects.storageWildcard(this.shard, key)],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.Old,
      max_msgs_per_subject: size + 1,
      max_age: ageSeconds > 0 ? nanos(ageSeconds * 1000) : 0,
      duplicate_window: nanos(ageSeconds > 0 ? Math.min(120, ageSeconds) * 1000 : 120_000),
      num_replicas: this.replicas,
      allow_direct: true,
    };
    const p = this.jsm.streams.add(config).then(
      () => {
        this.classes.set(key, cls);
        return cls;
      },
      (err: unknown) => {
        this.classCreation.delete(key);
        throw unavailable(`could not create history stream: ${(err as Error).message}`);
      },
    );
    this.classCreation.set(key, p);
    return p;
  }

  /** Purges the channel's records in a class: all of them, or those below stream sequence `belowSeq`. */
  private async purgeSubject(cls: RetentionClass, channel: string, belowSeq: number): Promise<void> {
    const filter = this.subjects.storage(this.shard, cls.key, channel);
    // A sequence bound (not `keep`) so that a purge racing with new appends never drops them.
    await this.jsm.streams.purge(cls.stream, belowSeq > 0 ? { filter, seq: belowSeq } : { filter });
  }

  // -------------------------------------------------------------------------------------------
  // Operations on a loaded channel (synchronous up to the JetStream publish)

  private appendReady(st: ChannelState, req: AppendRequest, cls: RetentionClass): Promise<AppendResult> {
    const now = this.clock.now();
    const { ttlMs, metaTtlMs } = req.history;
    // Classes are compared by key: after a 503 a class is forgotten and learnt again as a new
    // object; that is the same stream, not a retention change.
    if (st.cls !== cls && st.cls?.key === cls.key) st.cls = cls;
    if (st.cls !== cls) {
      if (st.pending.length > 0) return Promise.reject(unavailable('channel retention is changing, retry'));
      const old = st.cls;
      this.setClass(st, cls);
      if (old !== null && st.top > 0) {
        this.purgeSubject(old, st.channel, 0).catch((err: unknown) => this.onError(err, 'purging a moved channel'));
        this.freshEpoch(st, now, metaTtlMs, 'retention class changed');
      }
    }
    if (now >= st.metaExpiresAt && st.pending.length === 0) this.freshEpoch(st, now, metaTtlMs, null);

    const key = req.idempotencyKey;
    if (key) {
      const hit = st.idempotency.get(key);
      if (hit !== undefined && now < hit.expiresAt) return hit.result.then((r) => ({ publication: r.publication, position: r.position, duplicate: true }));
    }

    const offset = ++st.top;
    const publication: Publication = { offset, data: req.data, time: now };
    if (req.info) publication.info = req.info;
    if (req.tags) publication.tags = req.tags;
    st.size = cls.size;
    st.ttlMs = ttlMs;
    st.metaTtlMs = metaTtlMs;
    st.metaExpiresAt = expiry(now, metaTtlMs);
    st.lastAppendAt = now;
    st.idleTrimmed = false;
    const idempotencyExpiresAt = key ? now + (req.idempotencyTtlMs ?? DEFAULT_IDEMPOTENCY_TTL_MS) : 0;
    const record = encodeStoredRecord({
      kind: RecordKind.publication,
      epoch: st.epoch,
      offset,
      time: now,
      publication,
      idempotencyKey: key,
      idempotencyExpiresAt,
      ttlMs,
    });

    let resolve!: (r: AppendResult) => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<AppendResult>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const entry: PendingAppend = { offset, epoch: st.epoch, publication, state: 'pending', key: key || undefined, resolve, reject, promise };
    st.pending.push(entry);
    if (key) this.remember(st, key, idempotencyExpiresAt, promise);
    this.appender.publish(st.subject, record).then(
      (ack) => {
        if (ack.seq > st.lastSeq) st.lastSeq = ack.seq;
        this.onStored(st, entry);
      },
      (err: unknown) => this.onWriteFailed(st, entry, err),
    );
    return promise;
  }

  private onStored(st: ChannelState, entry: PendingAppend): void {
    if (entry.state !== 'pending') return;
    entry.state = 'stored';
    const now = this.clock.now();
    // Resolve strictly in offset order: an ack that overtook an earlier one waits for it.
    while (st.pending.length > 0 && st.pending[0]!.state === 'stored') {
      const e = st.pending.shift()!;
      st.stored = e.offset;
      if (e.offset > st.removedUpTo) st.pubs.push(e.publication);
      this.trim(st, now);
      e.resolve({ publication: e.publication, position: { offset: e.offset, epoch: e.epoch }, duplicate: false });
    }
  }

  private onWriteFailed(st: ChannelState, entry: PendingAppend, err: unknown): void {
    if (entry.state !== 'pending') return;
    // Continuity is unknown now: fail everything in flight and start a new epoch.
    const failed = st.pending.splice(0);
    const error = err instanceof RotorError ? err : unavailable((err as Error).message);
    if (st.cls !== null && /status 503/.test(error.message)) {
      // No stream took the subject: it was deleted (or JetStream lost it). Forget the class so
      // the next append re-creates the stream (adding an existing identical stream is a no-op).
      this.classes.delete(st.cls.key);
      this.classCreation.delete(st.cls.key);
    }
    if (this.channels.get(st.channel) === st && !this.closed) {
      this.onError(err, `write failed for ${JSON.stringify(st.channel)}; reloading it from JetStream`);
      this.reloadAfterFailure(st);
    }
    for (const e of failed) {
      e.state = 'failed';
      if (e.key !== undefined && st.idempotency.get(e.key)?.result === e.promise) st.idempotency.delete(e.key);
      e.reject(error);
    }
  }

  /**
   * After a failed write the stream is the only truth: some of the failed appends may be stored,
   * some not. The channel is loaded again — once NATS answers, and after a short settle so that
   * writes nats.js buffered during an outage (sent on reconnect) have landed — and the load keeps
   * the epoch when the stored offsets are contiguous, as after a restart. Requests of the channel
   * wait meanwhile. A buffered write that lands even later shows up as a gap at the next load
   * (new epoch then): detected, never silent.
   */
  private reloadAfterFailure(st: ChannelState): void {
    const next = this.newState(st.channel);
    // A new epoch, if one is needed, must differ from the failed one.
    next.epoch = st.epoch;
    this.channels.set(st.channel, next);
    const key = st.cls?.key;
    const metaTtlMs = st.metaTtlMs;
    const expectRecords = st.stored > 0;
    const acked = { offset: st.stored, epoch: st.epoch };
    this.load(next, { cls: st.cls, metaTtlMs }, async () => {
      await this.settled();
      // A 503 during an outage made us forget the class; the stream may well still be there.
      await this.discoverClasses();
      return { cls: key === undefined ? null : (this.classes.get(key) ?? null), metaTtlMs, expectRecords, acked };
    });
  }

  /** Resolves once the connection answers a PING, then waits `settleMs` more. */
  private async settled(): Promise<void> {
    for (;;) {
      if (this.closed) throw unavailable('history store closed');
      try {
        await this.nc.flush();
        break;
      } catch (err) {
        // Disconnected: nats.js is reconnecting; ask again shortly (the load has a deadline).
        if (!(err instanceof Error)) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    await new Promise((r) => setTimeout(r, this.settleMs));
  }

  private remember(st: ChannelState, key: string, expiresAt: number, result: Promise<AppendResult>): void {
    st.idempotency.delete(key);
    st.idempotency.set(key, { expiresAt, result });
    if (st.idempotency.size > this.maxKeys) {
      const oldest = st.idempotency.keys().next();
      if (!oldest.done) st.idempotency.delete(oldest.value);
    }
  }

  private readReady(st: ChannelState, req: ReadRequest): ReadResult {
    const now = this.clock.now();
    if (now >= st.metaExpiresAt && st.pending.length === 0) this.freshEpoch(st, now, req.metaTtlMs, null);
    if (st.metaTtlMs === 0 && req.metaTtlMs > 0 && st.top === 0) {
      // Created by a remove() of an unknown channel: a read gives the meta its lifetime.
      st.metaTtlMs = req.metaTtlMs;
      st.metaExpiresAt = expiry(now, req.metaTtlMs);
    }
    this.trim(st, now);
    const position = { offset: st.stored, epoch: st.epoch };
    const since = req.since;
    if (req.limit === 0 || (since && since.epoch !== '' && since.epoch !== st.epoch)) return { publications: [], position };
    const pubs = st.pubs;
    const first = st.stored - pubs.length + 1;
    const max = req.limit < 0 ? Infinity : req.limit;
    const out: Publication[] = [];
    if (!req.reverse) {
      const from = since ? Math.max(since.offset + 1, first) : first;
      for (let off = from; off <= st.stored && out.length < max; off++) out.push(pubs.at(off - first) as Publication);
    } else {
      const to = since ? Math.min(since.offset - 1, st.stored) : st.stored;
      for (let off = to; off >= first && out.length < max; off--) out.push(pubs.at(off - first) as Publication);
    }
    return { publications: out, position };
  }

  private async removeReady(st: ChannelState): Promise<void> {
    st.pubs.clear();
    st.removedUpTo = st.top;
    if (st.cls === null || st.top === 0) return;
    const cls = st.cls;
    const record = encodeStoredRecord({ kind: RecordKind.removed, epoch: st.epoch, offset: st.top, time: this.clock.now() });
    let markerSeq: number;
    try {
      markerSeq = (await this.appender.publish(st.subject, record)).seq;
    } catch (err) {
      // The stream may still hold the publications: they must not come back under this epoch.
      this.freshEpoch(st, this.clock.now(), st.metaTtlMs, `remove marker failed: ${(err as Error).message}`);
      throw err instanceof RotorError ? err : unavailable((err as Error).message);
    }
    // Storage cleanup only: the marker alone already hides the removed publications.
    await this.purgeSubject(cls, st.channel, markerSeq).catch((err: unknown) => this.onError(err, 'purge after remove'));
  }

  // -------------------------------------------------------------------------------------------
  // Retention

  private trim(st: ChannelState, now: number): void {
    const pubs = st.pubs;
    while (pubs.length > st.size && st.size > 0) pubs.shift();
    for (let p = pubs.first(); p !== undefined && now >= (p.time as number) + st.ttlMs; p = pubs.first()) pubs.shift();
  }

  /** Gives memory back and trims idle channels' storage; exposed for tests. */
  sweep(): void {
    const now = this.clock.now();
    for (const [channel, st] of this.channels) {
      if (st.phase !== 'ready' || st.pending.length > 0) continue;
      if (now >= st.metaExpiresAt) {
        this.channels.delete(channel);
        continue;
      }
      this.trim(st, now);
      st.pubs.compact();
      for (const [key, e] of st.idempotency) {
        if (now < e.expiresAt) break;
        st.idempotency.delete(key);
      }
      if (!st.idleTrimmed && st.cls !== null && st.lastSeq > 0 && st.ttlMs > 0 && now >= st.lastAppendAt + st.ttlMs) {
        // Every publication is past its TTL: keep only the last record (it carries the meta).
        st.idleTrimmed = true;
        this.purgeSubject(st.cls, channel, st.lastSeq).catch((err: unknown) => this.onError(err, 'idle purge'));
      }
    }
  }
}

function classKey(size: number, ttlMs: number, metaTtlMs: number): string {
  const ageMs = metaTtlMs > 0 ? Math.max(ttlMs, metaTtlMs) : 0;
  return `${size}_${Math.ceil(ageMs / 1000)}`;
}

function expiry(now: number, ttlMs: number): number {
  return ttlMs > 0 ? now + ttlMs : Infinity;
}

function isNotFound(err: unknown): boolean {
  const e = err as NatsError & { api_error?: { err_code?: number; code?: number } };
  return e?.api_error?.err_code === 10037 || e?.api_error?.code === 404 || e?.code === '404';
}

function unavailable(message: string): RotorError {
  return new RotorError(Errors.internal, message);
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(unavailable(message)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}
