// Rounds: periodic work over many members without a timer per member.
//
// Members live in B buckets; one bucket is visited every period/B, so each member is visited once
// per period and the work is spread evenly. A new member goes into a bucket whose first visit falls
// in [period/2, period) from now — the jittered first ping of PROTOCOL.md §4.2 — so connections
// that arrive together are not all pinged together. The gateway drives every Rounds from one timer.
//
// Bucket membership is a Set per bucket, created when the bucket gets its first member (a Rounds
// with many short buckets costs nothing while they are empty); a member stores its bucket index in
// a field the owner chooses (returned by `add`, passed back to `remove`).

/** What a visit of a bucket that never had a member sees. */
const NONE: ReadonlySet<never> = new Set<never>();

export class Rounds<T> {
  private readonly sets: Array<Set<T> | null>;
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
    this.sets = new Array<Set<T> | null>(b).fill(null);
    this.tickMs = periodMs / b;
    this.nextAt = now + this.tickMs;
  }

  get size(): number {
    return this.size_;
  }

  /** Number of buckets. */
  get length(): number {
    return this.sets.length;
  }

  /** The members of bucket `index` (do not add to it; use `add`). */
  bucket(index: number): ReadonlySet<T> {
    return this.sets[index] ?? NONE;
  }

  /** Adds `m` with a jittered first visit; returns its bucket index. */
  add(m: T, random: () => number = Math.random): number {
    const b = this.sets.length;
    const half = Math.ceil(b / 2);
    // Bucket cursor+j is visited j ticks after the next tick; j in [half-1, b-1] gives a first
    // visit between period/2 and period from now.
    const j = Math.min(b - 1, half - 1 + Math.floor(random() * (b - half + 1)));
    const index = (this.cursor + j) % b;
    (this.sets[index] ??= new Set<T>()).add(m);
    this.size_++;
    return index;
  }

  remove(m: T, index: number): void {
    if (this.sets[index]?.delete(m) === true) this.size_--;
  }

  /** Visits every bucket that is due at `now` (several after a stalled event loop). */
  run(now: number, visit: (members: ReadonlySet<T>, index: number) => void): void {
    const b = this.sets.length;
    // Bound catch-up to one full round: after a long stall each member is visited once, not many times.
    let budget = b;
    while (now >= this.nextAt && budget-- > 0) {
      const index = this.cursor;
      this.cursor = (this.cursor + 1) % b;
      this.nextAt += this.tickMs;
      visit(this.sets[index] ?? NONE, index);
    }
    if (now >= this.nextAt) this.nextAt = now + this.tickMs;
  }
}
