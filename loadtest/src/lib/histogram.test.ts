import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Histogram, HISTOGRAM_BUCKETS, bucketLow, bucketOf, bucketWidth } from './histogram.ts';

test('small values have exact buckets', () => {
  for (let v = 0; v < 256; v++) {
    assert.equal(bucketOf(v), v);
    assert.equal(bucketLow(v), v);
    assert.equal(bucketWidth(v), 1);
  }
});

test('every value falls inside its bucket and buckets are contiguous and ordered', () => {
  let prev = -1;
  for (let v = 0; v < 2 ** 31; v = v < 1000 ? v + 1 : Math.floor(v * 1.0137) + 1) {
    const b = bucketOf(v);
    assert.ok(b >= prev, `bucket order at ${v}`);
    assert.ok(b < HISTOGRAM_BUCKETS);
    assert.ok(bucketLow(b) <= v && v < bucketLow(b) + bucketWidth(b), `value ${v} outside bucket ${b}`);
    prev = b;
  }
  for (let b = 1; b < HISTOGRAM_BUCKETS; b++) assert.equal(bucketLow(b), bucketLow(b - 1) + bucketWidth(b - 1), `gap before bucket ${b}`);
});

test('quantiles are within 1% of a sorted reference', () => {
  const h = new Histogram();
  const values: number[] = [];
  let x = 12345;
  for (let i = 0; i < 20_000; i++) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    const v = (x % 1_000_000) + (i % 7 === 0 ? 5_000_000 : 0);
    values.push(v);
    h.record(v);
  }
  values.sort((a, b) => a - b);
  for (const q of [0.5, 0.9, 0.99, 0.999]) {
    const ref = values[Math.ceil(q * values.length) - 1]!;
    const got = h.quantile(q);
    assert.ok(Math.abs(got - ref) <= ref * 0.01 + 1, `q${q}: got ${got}, reference ${ref}`);
  }
  assert.equal(h.count, 20_000);
  assert.equal(h.max, values[values.length - 1]);
  assert.equal(h.min, values[0]);
});

test('merge and JSON round trip keep counts and extremes', () => {
  const a = new Histogram();
  const b = new Histogram();
  for (let i = 1; i <= 1000; i++) a.record(i);
  for (let i = 1001; i <= 3000; i++) b.record(i * 10);
  const back = Histogram.fromJSON(JSON.parse(JSON.stringify(b.toJSON())) as ReturnType<Histogram['toJSON']>);
  a.merge(back);
  assert.equal(a.count, 3000);
  assert.equal(a.min, 1);
  assert.equal(a.max, 30_000);
  const s = a.summary();
  assert.ok(Math.abs(s.p50 - 15_000) <= 150, `p50 ${s.p50}`);
});

test('an empty histogram summarises to zeros; negative values count as zero', () => {
  const h = new Histogram();
  assert.deepEqual(h.summary(), { count: 0, min: 0, max: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0 });
  h.record(-5);
  assert.equal(h.quantile(0.5), 0);
});
