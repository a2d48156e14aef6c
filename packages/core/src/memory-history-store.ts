// MemoryHistoryStore: the HistoryStore contract (history-store.ts) held in this process's memory.
// Used by the embedded mode and unit tests; the cluster keeps streams in history shards instead.
//
// Per channel it keeps one stream: epoch, top offset, the retained publications in a ring buffer
// (offsets are contiguous, so a position maps to an index in O(1)), the meta expiry and the
// idempotency keys of the window. Expiry is evaluated lazily against the injected clock on every
// access, so results never depend on when the sweep last ran; the sweep only gives memory back:
// a periodic pass (one interval for the whole store, unref'd; `sweep()` is public for tests)
// drops streams whose meta expired, publications past their TTL and expired idempotency keys.
//
// Boundaries: a publication appended at time t is retained while now < t + ttlMs; a stream's meta
// lives while now < lastAppend + metaTtlMs (or creation-by-read + metaTtlMs); an idempotency key
// matches while now < acceptedAt + idempotencyTtlMs. metaTtlMs <= 0 means the meta never expires.
// Stored publications keep references to the caller's `data`/`info`/`tags` (no copies): callers
// hand over buffers they no longer mutate (the gateway copies uWS buffers before any await).
//
// Appends complete synchronously and resolve in call order, which is offset order per channel.
import { Deque } from './deque.ts';
import { newEpoch } from './epoch.ts';
import { Errors, RotorError } from './codes.ts';
import { systemClock } from './types.ts';
import type { Clock, Publication } from './types.ts';
import type { AppendRequest, AppendResult, HistoryStore, ReadRequest, ReadResult } from './history-store.ts';

export const DEFAULT_IDEMPOTENCY_TTL_MS = 5 * 60_000;

export interface MemoryHistoryStoreOptions {
  clock?: Clock;
  /** Interval of the cleanup sweep; 0 disables the timer (call `sweep()` yourself). Default 10 s. */
  sweepIntervalMs?: number;
  /**
   * Cap on remembered idempotency keys per channel within the window (oldest forgotten first), so
   * a flood of unique keys cannot grow memory without bound. Default 10 000.
   */
  maxIdempotencyKeysPerChannel?: number;
}

interface IdempotencyEntry {
  result: AppendResult;
  expiresAt: number;
}

interface Stream {
  epoch: string;
  /** Offset of the newest publication ever appended in this epoch (0: none yet). */
  top: number;
  /** Retained publications, oldest first; `pubs.at(i).offset === top - pubs.length + 1 + i`. */
  pubs: Deque<Publication>;
  /** Retention of the latest append (size and TTL may change with a config reload). */
  size: number;
  ttlMs: number;
  metaExpiresAt: number;
  idempotency: Map<string, IdempotencyEntry> | null;
}

export class MemoryHistoryStore implements HistoryStore {
  readonly #clock: Clock;
  readonly #maxKeys: number;
  readonly #streams = new Map<string, Stream>();
  #timer: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(options: MemoryHistoryStoreOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#maxKeys = options.maxIdempotencyKeysPerChannel ?? 10_000;
    const interval = options.sweepIntervalMs ?? 10_000;
    if (interval > 0) {
      this.#timer = setInterval(() => this.sweep(), interval);
      this.#timer.unref();
    }
  }

  /** Number of channels whose stream meta is held (for tests and metrics). */
  get channelCount(): number {
    return this.#streams.size;
  }

  append(req: AppendRequest): Promise<AppendResult> {
    if (this.#closed) return Promise.reject(new Error('history store is closed'));
    const { size, ttlMs, metaTtlMs } = req.history;
    if (!(size > 0) || !(ttlMs > 0)) {
      return Promise.reject(new RotorError(Errors.badRequest, 'history size and ttl must be positive'));
    }
    const now = this.#clock.now();
    const stream = this.#live(req.channel, now, metaTtlMs);

    const key = req.idempotencyKey;
    if (key) {
      const hit = stream.idempotency?.get(key);
      if (hit && now < hit.expiresAt) {
        return Promise.resolve({ publication: hit.result.publication, position: hit.result.position, duplicate: true });
      }
    }

    const offset = stream.top + 1;
    const publication: Publication = { offset, data: req.data, time: now };
    if (req.info) publication.info = req.info;
    if (req.tags) publication.tags = req.tags;
    stream.top = offset;
    stream.size = size;
    stream.ttlMs = ttlMs;
    stream.pubs.push(publication);
    stream.metaExpiresAt = expiry(now, metaTtlMs);
    this.#trim(stream, now);

    const result: AppendResult = { publication, position: { offset, epoch: stream.epoch }, duplicate: false };
    if (key) this.#remember(stream, key, result, now + (req.idempotencyTtlMs ?? DEFAULT_IDEMPOTENCY_TTL_MS));
    return Promise.resolve(result);
  }

  read(req: ReadRequest): Promise<ReadResult> {
    if (this.#closed) return Promise.reject(new Error('history store is closed'));
    const now = this.#clock.now();
    const stream = this.#live(req.channel, now, req.metaTtlMs);
    this.#trim(stream, now);
    const position = { offset: stream.top, epoch: stream.epoch };
    const since = req.since;
    if (req.limit === 0 || (since && since.epoch !== '' && since.epoch !== stream.epoch)) {
      return Promise.resolve({ publications: [], position });
    }

    const pubs = stream.pubs;
    const first = stream.top - pubs.length + 1; // offset of pubs.at(0)
    const max = req.limit < 0 ? Infinity : req.limit;
    const out: Publication[] = [];
    if (!req.reverse) {
      const from = since ? Math.max(since.offset + 1, first) : first;
      for (let off = from; off <= stream.top && out.length < max; off++) out.push(pubs.at(off - first) as Publication);
    } else {
      const to = since ? Math.min(since.offset - 1, stream.top) : stream.top;
      for (let off = to; off >= first && out.length < max; off--) out.push(pubs.at(off - first) as Publication);
    }
    return Promise.resolve({ publications: out, position });
  }

  remove(channel: string): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('history store is closed'));
    const stream = this.#streams.get(channel);
    if (stream) stream.pubs.clear();
    return Promise.resolve();
  }

  /** Gives memory back: drops expired streams, publications and idempotency keys. */
  sweep(): void {
    const now = this.#clock.now();
    for (const [channel, stream] of this.#streams) {
      if (now >= stream.metaExpiresAt) {
        this.#streams.delete(channel);
        continue;
      }
      this.#trim(stream, now);
      stream.pubs.compact();
      const idem = stream.idempotency;
      if (idem) {
        // Keys are inserted in acceptance order; with one window per namespace that is also
        // expiry order, so stop at the first live key. Lookups check expiry themselves anyway.
        for (const [key, entry] of idem) {
          if (now < entry.expiresAt) break;
          idem.delete(key);
        }
        if (idem.size === 0) stream.idempotency = null;
      }
    }
  }

  close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#streams.clear();
    return Promise.resolve();
  }

  /** The channel's stream, created with a new epoch when missing or when its meta expired. */
  #live(channel: string, now: number, metaTtlMs: number): Stream {
    let stream = this.#streams.get(channel);
    if (stream && now < stream.metaExpiresAt) return stream;
    stream = {
      epoch: newEpoch(stream?.epoch),
      top: 0,
      pubs: new Deque<Publication>(),
      size: 0,
      ttlMs: 0,
      metaExpiresAt: expiry(now, metaTtlMs),
      idempotency: null,
    };
    this.#streams.set(channel, stream);
    return stream;
  }

  #trim(stream: Stream, now: number): void {
    const pubs = stream.pubs;
    while (pubs.length > stream.size) pubs.shift();
    for (let p = pubs.first(); p !== undefined && now >= (p.time as number) + stream.ttlMs; p = pubs.first()) pubs.shift();
  }

  #remember(stream: Stream, key: string, result: AppendResult, expiresAt: number): void {
    const idem = (stream.idempotency ??= new Map());
    idem.delete(key); // re-insert at the end: the map stays in acceptance order
    idem.set(key, { result, expiresAt });
    if (idem.size > this.#maxKeys) {
      const oldest = idem.keys().next();
      if (!oldest.done) idem.delete(oldest.value);
    }
  }
}

function expiry(now: number, ttlMs: number): number {
  return ttlMs > 0 ? now + ttlMs : Infinity;
}
