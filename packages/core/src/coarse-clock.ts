// CoarseClock: a Clock whose now() is a cached number refreshed by one interval, for hot paths that
// read the time per message or per connection event (ping scheduling, presence refresh, rate
// limits) where Date.now() per call adds up and millisecond precision buys nothing.
//
// One interval per clock, unref'd (it never keeps the process alive). `sharedCoarseClock()` is the
// process-wide instance; create your own only for a different resolution or a test source.
// The value is the source's wall-clock time at the last tick: it can lag by up to `resolutionMs`
// (plus event-loop delay) and it follows the system clock if that jumps.
import { systemClock } from './types.ts';
import type { Clock } from './types.ts';

export interface CoarseClockOptions {
  /** Refresh interval; default 100 ms. */
  resolutionMs?: number;
  /** Where the time comes from; default the system clock. */
  source?: Clock;
  /** Start the refresh interval at construction; default true. Tests may drive tick() instead. */
  autoStart?: boolean;
}

export class CoarseClock implements Clock {
  readonly resolutionMs: number;
  readonly #source: Clock;
  #now: number;
  #timer: NodeJS.Timeout | null = null;

  constructor(options: CoarseClockOptions = {}) {
    this.resolutionMs = options.resolutionMs ?? 100;
    if (!(this.resolutionMs > 0)) throw new RangeError(`resolutionMs must be positive, got ${this.resolutionMs}`);
    this.#source = options.source ?? systemClock;
    this.#now = this.#source.now();
    if (options.autoStart ?? true) this.start();
  }

  now(): number {
    return this.#now;
  }

  /** Re-reads the source now (the interval calls this). */
  tick(): void {
    this.#now = this.#source.now();
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => this.tick(), this.resolutionMs);
    this.#timer.unref();
  }

  /** Stops refreshing; now() keeps returning the last value. */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  get running(): boolean {
    return this.#timer !== null;
  }
}

let shared: CoarseClock | null = null;

/** The process-wide coarse clock (100 ms), started on first use. */
export function sharedCoarseClock(): CoarseClock {
  shared ??= new CoarseClock();
  return shared;
}
