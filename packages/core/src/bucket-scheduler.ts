// BucketScheduler: a timer wheel for per-connection deadlines (ping, pong timeout, stale close,
// connection/subscription expiry, presence refresh) without a timer or a closure per connection.
//
// Time is cut into buckets of `resolutionMs` (default 1 s). `schedule(item, atMs)` files the item
// in the bucket that ends at or after atMs; one interval (unref'd) calls `tick()`, which hands every
// item of every elapsed bucket to the single `onDue` callback. Hence:
// - an item never fires early, and at most one resolution (plus event-loop delay) late;
// - schedule, reschedule and cancel are O(1): an index map (item → bucket) plus one Set per bucket;
//   no per-call allocation other than the Map/Set entries, and the item itself is the key, so the
//   caller keeps no handle;
// - an item is in at most one bucket: scheduling it again moves it;
// - an item is removed before `onDue` runs, so the callback may schedule it again; anything
//   scheduled for a bucket already processed (a deadline in the past) fires on the next tick,
//   never inside schedule();
// - a callback that throws is reported to `onError` and the other items still fire.
// Use one scheduler per kind of deadline (each keeps its own item → bucket map), e.g. a ping
// scheduler and an expiry scheduler, both keyed by the session object.
import { systemClock } from './types.ts';
import type { Clock } from './types.ts';

export interface BucketSchedulerOptions<T> {
  onDue: (item: T) => void;
  /** Bucket width; default 1000 ms. */
  resolutionMs?: number;
  clock?: Clock;
  /** Start the interval at construction; default true. Tests drive tick() by hand. */
  autoStart?: boolean;
  /** Receives exceptions thrown by onDue. Default: logged to stderr. */
  onError?: (err: unknown, item: T) => void;
}

/** Beyond this many elapsed buckets, tick() walks the filled buckets instead of every index. */
const SPARSE_WALK = 4096;

export class BucketScheduler<T> {
  readonly resolutionMs: number;
  readonly #clock: Clock;
  readonly #onDue: (item: T) => void;
  readonly #onError: (err: unknown, item: T) => void;
  readonly #slot = new Map<T, number>();
  readonly #buckets = new Map<number, Set<T>>();
  /** Index of the last bucket handed out; nothing may be filed at or below it. */
  #processed: number;
  #timer: NodeJS.Timeout | null = null;

  constructor(options: BucketSchedulerOptions<T>) {
    this.resolutionMs = options.resolutionMs ?? 1000;
    if (!(this.resolutionMs > 0)) throw new RangeError(`resolutionMs must be positive, got ${this.resolutionMs}`);
    this.#clock = options.clock ?? systemClock;
    this.#onDue = options.onDue;
    this.#onError = options.onError ?? ((err) => console.error('BucketScheduler: onDue threw', err));
    this.#processed = Math.floor(this.#clock.now() / this.resolutionMs);
    if (options.autoStart ?? true) this.start();
  }

  /** Number of scheduled items. */
  get size(): number {
    return this.#slot.size;
  }

  /** Schedules (or moves) `item` to fire at or after `atMs`. */
  schedule(item: T, atMs: number): void {
    let bucket = Math.ceil(atMs / this.resolutionMs);
    if (!(bucket > this.#processed)) bucket = this.#processed + 1; // also catches NaN
    const current = this.#slot.get(item);
    if (current === bucket) return;
    if (current !== undefined) this.#remove(item, current);
    this.#slot.set(item, bucket);
    let set = this.#buckets.get(bucket);
    if (set === undefined) {
      set = new Set();
      this.#buckets.set(bucket, set);
    }
    set.add(item);
  }

  /** Unschedules `item`; returns whether it was scheduled. */
  cancel(item: T): boolean {
    const current = this.#slot.get(item);
    if (current === undefined) return false;
    this.#slot.delete(item);
    this.#remove(item, current);
    return true;
  }

  has(item: T): boolean {
    return this.#slot.has(item);
  }

  /** The end of the bucket `item` is filed in (the earliest time it can fire), or undefined. */
  dueAt(item: T): number | undefined {
    const bucket = this.#slot.get(item);
    return bucket === undefined ? undefined : bucket * this.resolutionMs;
  }

  /** Fires every item whose bucket ended at or before `now`. Returns how many fired. */
  tick(now: number = this.#clock.now()): number {
    const current = Math.floor(now / this.resolutionMs);
    if (current <= this.#processed) return 0;
    let fired = 0;
    if (current - this.#processed > SPARSE_WALK) {
      // A long pause (or a fake clock jump): visit only filled buckets, oldest first. Callbacks
      // may file items into buckets that are already due, so repeat until none is left.
      for (;;) {
        const due: number[] = [];
        for (const b of this.#buckets.keys()) if (b <= current) due.push(b);
        if (due.length === 0) break;
        due.sort((a, b) => a - b);
        for (const b of due) fired += this.#fire(b);
      }
    } else {
      for (let b = this.#processed + 1; b <= current; b++) fired += this.#fire(b);
    }
    this.#processed = current;
    return fired;
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => this.tick(), this.resolutionMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** Stops the interval and forgets every item. */
  close(): void {
    this.stop();
    this.#slot.clear();
    this.#buckets.clear();
  }

  #fire(bucket: number): number {
    // Items scheduled from callbacks must land after this bucket (see schedule()).
    if (bucket > this.#processed) this.#processed = bucket;
    const set = this.#buckets.get(bucket);
    if (set === undefined) return 0;
    let fired = 0;
    // The set stays in the map while we iterate so cancel() from a callback still removes items
    // that have not fired yet; Set iteration skips deleted entries.
    for (const item of set) {
      set.delete(item);
      this.#slot.delete(item);
      fired++;
      try {
        this.#onDue(item);
      } catch (err) {
        this.#onError(err, item);
      }
    }
    this.#buckets.delete(bucket);
    return fired;
  }

  #remove(item: T, bucket: number): void {
    const set = this.#buckets.get(bucket);
    if (set === undefined) return;
    set.delete(item);
    if (set.size === 0) this.#buckets.delete(bucket);
  }
}
