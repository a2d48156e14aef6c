// A Clock whose time moves only when a test says so. Inject it into adapters (history, presence,
// sequencer idempotency cache, schedulers) to test TTLs without waiting.
import type { Clock } from '../types.ts';

/** 2026-01-01T00:00:00Z: a fixed, realistic start so `time` fields look like real timestamps. */
export const MANUAL_CLOCK_START = 1_767_225_600_000;

export class ManualClock implements Clock {
  #now: number;

  constructor(start = MANUAL_CLOCK_START) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`cannot move a clock backwards (${ms} ms)`);
    this.#now += ms;
  }

  set(ms: number): void {
    this.#now = ms;
  }
}
