// A log-linear latency histogram in the spirit of HdrHistogram: values (integers, microseconds
// here) below 256 have their own bucket; above that every power-of-two octave is split into 128
// linear sub-buckets, so a reported percentile is within 1/128 (0.8 %) of the true value. Memory is
// fixed (~26 KB) whatever the number of samples, and histograms from several threads merge by
// adding their counts.

const SUB_BITS = 7;
const SUB_COUNT = 1 << SUB_BITS; // 128
const LINEAR_LIMIT = SUB_COUNT << 1; // 256: values below this are exact
const MAX_VALUE = 2 ** 31 - 1;
/** Number of buckets: 256 exact values + 128 per octave from 2^8 to 2^31. */
export const HISTOGRAM_BUCKETS = LINEAR_LIMIT + (31 - SUB_BITS - 1) * SUB_COUNT;

export function bucketOf(value: number): number {
  let v = value > 0 ? Math.floor(value) : 0;
  if (v > MAX_VALUE) v = MAX_VALUE;
  if (v < LINEAR_LIMIT) return v;
  const shift = 32 - Math.clz32(v) - (SUB_BITS + 1);
  return (shift << SUB_BITS) + (v >>> shift);
}

/** The smallest value that falls in bucket `index`. */
export function bucketLow(index: number): number {
  if (index < LINEAR_LIMIT) return index;
  const shift = (index >>> SUB_BITS) - 1;
  return (index - (shift << SUB_BITS)) * 2 ** shift;
}

/** The width of bucket `index` (1 for the exact range). */
export function bucketWidth(index: number): number {
  if (index < LINEAR_LIMIT) return 1;
  return 2 ** ((index >>> SUB_BITS) - 1);
}

export interface HistogramSummary {
  count: number;
  min: number;
  max: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
}

export class Histogram {
  readonly counts: Float64Array;
  count = 0;
  sum = 0;
  min = Number.POSITIVE_INFINITY;
  max = 0;

  constructor(counts?: Float64Array) {
    this.counts = counts ?? new Float64Array(HISTOGRAM_BUCKETS);
    if (counts) this.recomputeTotals();
  }

  record(value: number): void {
    const v = value > 0 ? value : 0;
    this.counts[bucketOf(v)]! += 1;
    this.count++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.sum = 0;
    this.min = Number.POSITIVE_INFINITY;
    this.max = 0;
  }

  merge(other: Histogram): void {
    const dst = this.counts;
    const src = other.counts;
    for (let i = 0; i < dst.length; i++) dst[i]! += src[i]!;
    this.count += other.count;
    this.sum += other.sum;
    if (other.min < this.min) this.min = other.min;
    if (other.max > this.max) this.max = other.max;
  }

  /** The value at quantile q (0..1): the middle of the bucket holding the q-th sample, clamped to
   *  the observed min/max so exact small values are reported exactly. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) {
        const mid = bucketLow(i) + (bucketWidth(i) - 1) / 2;
        return Math.min(this.max, Math.max(this.min, mid));
      }
    }
    return this.max;
  }

  summary(): HistogramSummary {
    return {
      count: this.count,
      min: this.count === 0 ? 0 : this.min,
      max: this.max,
      mean: this.count === 0 ? 0 : this.sum / this.count,
      p50: this.quantile(0.5),
      p90: this.quantile(0.9),
      p99: this.quantile(0.99),
      p999: this.quantile(0.999),
    };
  }

  /** A compact transferable form: only non-empty buckets. */
  toJSON(): SerializedHistogram {
    const buckets: number[] = [];
    for (let i = 0; i < this.counts.length; i++) {
      const c = this.counts[i]!;
      if (c !== 0) buckets.push(i, c);
    }
    return { buckets, sum: this.sum, min: this.count === 0 ? 0 : this.min, max: this.max };
  }

  static fromJSON(s: SerializedHistogram): Histogram {
    const h = new Histogram();
    for (let i = 0; i + 1 < s.buckets.length; i += 2) {
      const idx = s.buckets[i]!;
      const c = s.buckets[i + 1]!;
      if (idx >= 0 && idx < HISTOGRAM_BUCKETS) {
        h.counts[idx]! += c;
        h.count += c;
      }
    }
    h.sum = s.sum;
    h.min = h.count === 0 ? Number.POSITIVE_INFINITY : s.min;
    h.max = s.max;
    return h;
  }

  private recomputeTotals(): void {
    let n = 0;
    let lo = -1;
    let hi = -1;
    let sum = 0;
    for (let i = 0; i < this.counts.length; i++) {
      const c = this.counts[i]!;
      if (c === 0) continue;
      n += c;
      if (lo < 0) lo = i;
      hi = i;
      sum += c * (bucketLow(i) + (bucketWidth(i) - 1) / 2);
    }
    this.count = n;
    this.sum = sum;
    this.min = lo < 0 ? Number.POSITIVE_INFINITY : bucketLow(lo);
    this.max = hi < 0 ? 0 : bucketLow(hi) + bucketWidth(hi) - 1;
  }
}

export interface SerializedHistogram {
  /** Pairs of (bucket index, count). */
  buckets: number[];
  sum: number;
  min: number;
  max: number;
}
