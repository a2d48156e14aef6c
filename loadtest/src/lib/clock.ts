// One monotonic time base for every thread and process of a run. process.hrtime reads
// CLOCK_MONOTONIC, which is the same clock in every thread and process of the machine, so a
// timestamp taken by a publisher in the main thread can be subtracted from one taken by a
// subscriber in a worker. Values are microseconds since `base` (passed to workers as a string),
// small enough to stay exact in a double.

let base: bigint = process.hrtime.bigint();

/** Makes this thread measure from the run's shared origin. */
export function setClockBase(origin: string): void {
  base = BigInt(origin);
}

export function clockBase(): string {
  return base.toString();
}

/** Microseconds since the run's origin (fractional part kept). */
export function nowUs(): number {
  return Number(process.hrtime.bigint() - base) / 1000;
}
