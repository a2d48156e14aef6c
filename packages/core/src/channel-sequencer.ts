// ChannelSequencer: the Publisher (publisher.ts) that sequences channels itself — a HistoryStore to
// assign offsets plus a Broker to fan out. The embedded mode uses it over memory adapters; each
// history shard uses it over its JetStream-backed store and the NATS broker.
//
// Ordering: with history, every publication is appended first and forwarded to the broker inside
// the append's continuation. The store contract says appends of one channel resolve in offset
// order, so continuations — and therefore broker publishes — run in offset order even when many
// appends are in flight at once (a remote store pipelines them). Nothing here waits for one append
// before starting the next; nothing assumes the store answers synchronously.
//
// Idempotency: with history the store dedupes (it is the durable record). Without history this
// class keeps a bounded per-channel key cache with a TTL: a repeated key within the window returns
// {0, ''} and delivers nothing. The cache is cleaned by one unref'd sweep interval (or `sweep()`).
//
// A publication that was stored but could not be handed to the broker (broker closed) is still
// acknowledged: it is in history and subscribers recover it; the error goes to `onError`.
import { systemClock } from './types.ts';
import type { Clock, HistoryOptions, Publication } from './types.ts';
import type { Broker } from './broker.ts';
import type { HistoryStore } from './history-store.ts';
import type { Publisher, PublishRequest, PublishResult } from './publisher.ts';
import { DEFAULT_IDEMPOTENCY_TTL_MS } from './memory-history-store.ts';

export interface ChannelSequencerOptions {
  history: HistoryStore;
  broker: Broker;
  clock?: Clock;
  /** Sweep interval of the no-history idempotency cache; 0 disables the timer. Default 10 s. */
  sweepIntervalMs?: number;
  /** Per-channel cap of remembered keys for channels without history. Default 10 000. */
  maxIdempotencyKeysPerChannel?: number;
  /** Receives broker failures after a successful append. Default: logged to stderr. */
  onError?: (err: unknown, channel: string) => void;
}

const NO_HISTORY: PublishResult = Object.freeze({ offset: 0, epoch: '' });

export class ChannelSequencer implements Publisher {
  readonly #history: HistoryStore;
  readonly #broker: Broker;
  readonly #clock: Clock;
  readonly #maxKeys: number;
  readonly #onError: (err: unknown, channel: string) => void;
  /** channel → (idempotency key → expiry), in acceptance order. Only channels without history. */
  readonly #keys = new Map<string, Map<string, number>>();
  #timer: NodeJS.Timeout | null = null;

  constructor(options: ChannelSequencerOptions) {
    this.#history = options.history;
    this.#broker = options.broker;
    this.#clock = options.clock ?? systemClock;
    this.#maxKeys = options.maxIdempotencyKeysPerChannel ?? 10_000;
    this.#onError = options.onError ?? ((err, channel) => console.error(`ChannelSequencer: delivery to the broker failed for a stored publication of ${JSON.stringify(channel)}`, err));
    const interval = options.sweepIntervalMs ?? 10_000;
    if (interval > 0) {
      this.#timer = setInterval(() => this.sweep(), interval);
      this.#timer.unref();
    }
  }

  publish(req: PublishRequest): Promise<PublishResult> {
    if (req.history) return this.#publishWithHistory(req, req.history);
    try {
      return Promise.resolve(this.#publishWithoutHistory(req));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  #publishWithHistory(req: PublishRequest, history: HistoryOptions): Promise<PublishResult> {
    const channel = req.channel;
    return this.#history
      .append({
        channel,
        data: req.data,
        info: req.info,
        tags: req.tags,
        history,
        idempotencyKey: req.idempotencyKey,
        idempotencyTtlMs: req.idempotencyTtlMs,
      })
      .then((res) => {
        // This continuation runs in offset order per channel (see the header): forward here.
        if (!res.duplicate) {
          try {
            this.#broker.publish(channel, res.publication, res.position.epoch);
          } catch (err) {
            this.#onError(err, channel);
          }
        }
        return res.position;
      });
  }

  #publishWithoutHistory(req: PublishRequest): PublishResult {
    const now = this.#clock.now();
    const key = req.idempotencyKey;
    if (key) {
      const expiresAt = this.#keys.get(req.channel)?.get(key);
      if (expiresAt !== undefined && now < expiresAt) return NO_HISTORY;
    }
    const pub: Publication = { offset: 0, data: req.data, time: now };
    if (req.info) pub.info = req.info;
    if (req.tags) pub.tags = req.tags;
    // Throws when the broker is closed: the publication was not accepted, so no key is remembered.
    this.#broker.publish(req.channel, pub, '');
    if (key) this.#remember(req.channel, key, now + (req.idempotencyTtlMs ?? DEFAULT_IDEMPOTENCY_TTL_MS));
    return NO_HISTORY;
  }

  #remember(channel: string, key: string, expiresAt: number): void {
    let keys = this.#keys.get(channel);
    if (!keys) {
      keys = new Map();
      this.#keys.set(channel, keys);
    }
    keys.delete(key); // re-insert at the end to keep acceptance order
    keys.set(key, expiresAt);
    if (keys.size > this.#maxKeys) {
      const oldest = keys.keys().next();
      if (!oldest.done) keys.delete(oldest.value);
    }
  }

  /** Forgets expired idempotency keys of channels without history. */
  sweep(): void {
    const now = this.#clock.now();
    for (const [channel, keys] of this.#keys) {
      for (const [key, expiresAt] of keys) {
        if (now < expiresAt) break; // acceptance order ≈ expiry order; lookups re-check anyway
        keys.delete(key);
      }
      if (keys.size === 0) this.#keys.delete(channel);
    }
  }

  /** Channels with remembered idempotency keys (without history). */
  get idempotencyChannelCount(): number {
    return this.#keys.size;
  }

  /** Stops the sweep timer. The store and broker belong to the caller and stay open. */
  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#keys.clear();
  }
}
