// Rounds: periodic work over many members without a timer per member.
//
// Members live in B buckets; one bucket is visited every period/B, so each member is visited once
// per period and the work is spread evenly. A new member goes into a bucket whose first visit falls
// in [period/2, period) from now — the jittered first ping of PROTOCOL.md §4.2 — so connections
// that arrive together are not all pinged together. The gateway drives every Rounds from one timer.
//
// Bucket membership is a Set per bucket; a member stores its bucket index in a field the owner
// chooses (returned by `add`, passed back to `remove`).

export class Rounds<T> {
  readonly buckets: Array<Set<T>>;
  readonly tickMs: number;
  /** Index of the bucket visited next. */
  private cursor = 0;
  /** When the next bucket is due. */
  private nextAt: number;
  private size_ = 0;

  constructor(
    readonly periodMs: number,
    now: number,
    maxBuckets = 32,
    minTickMs = 10,
  ) {
    if (!(periodMs > 0)) throw new RangeError(`period must be positive, got ${periodMs}`);
    const b = Math.max(1, Math.min(maxBuckets, Math.floor(periodMs / minTickMs)));
    this.buckets = Array.from({ length: b }, () => new Set<T>());
    this.tickMs = periodMs / b;
    this.nextAt = now + this.tickMs;
  }

  get size(): number {
    return this.size_;
  }

  /** Adds `m` with a jittered first visit; returns its bucket index. */
  add(m: T, random: () => number = Math.random): number {
    const b = this.buckets.length;
    const half = Math.ceil(b / 2);
    // Bucket cursor+j is visited j ticks after the next tick; j in [half-1, b-1] gives a first
    // visit between period/2 and period from now.
    const j = Math.min(b - 1, half - 1 + Math.floor(random() * (b - half + 1)));
    const index = (this.cursor + j) % b;
    this.buckets[index]!.add(m);
    this.size_++;
    return index;
  }

  remove(m: T, index: number): void {
    if (this.buckets[index]?.delete(m)) this.size_--;
  }

  /** Visits every bucket that is due at `now` (several after a stalled event loop). */
  run(now: number, visit: (members: Set<T>, index: number) => void): void {
    const b = this.buckets.length;
    // Bound catch-up to one full round: after a long stall each member is visited once, not many times.
    let budget = b;
    while (now >= this.nextAt && budget-- > 0) {
      const index = this.cursor;
      this.cursor = (this.cursor + 1) % b;
      this.nextAt += this.tickMs;
      visit(this.buckets[index]!, index);
    }
    if (now >= this.nextAt) this.nextAt = now + this.tickMs;
  }
}
