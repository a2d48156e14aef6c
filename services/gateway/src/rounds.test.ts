import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rounds } from './rounds.ts';

test('each member is visited once per period, first between half a period and a period after it joined', () => {
  const period = 1000;
  const r = new Rounds<string>(period, 0, 10);
  const joinedAt = 0;
  const firstVisit = new Map<string, number>();
  for (let i = 0; i < 200; i++) r.add(`m${i}`, () => (i % 10) / 10);
  const visits = new Map<string, number>();
  for (let now = 0; now <= 3 * period; now += 10) {
    r.run(now, (members) => {
      for (const m of members) {
        visits.set(m, (visits.get(m) ?? 0) + 1);
        if (!firstVisit.has(m)) firstVisit.set(m, now);
      }
    });
  }
  for (const [m, t] of firstVisit) {
    assert.ok(t - joinedAt >= period / 2 - r.tickMs, `${m} first visited at ${t}`);
    assert.ok(t - joinedAt <= period + r.tickMs, `${m} first visited at ${t}`);
  }
  for (const [m, n] of visits) assert.ok(n >= 2 && n <= 3, `${m} visited ${n} times in 3 periods`);
  assert.equal(firstVisit.size, 200);
});

test('removed members are not visited and size follows membership', () => {
  const r = new Rounds<string>(100, 0, 4);
  const b = r.add('a');
  r.add('b');
  r.remove('a', b);
  assert.equal(r.size, 1);
  const seen: string[] = [];
  for (let now = 0; now <= 200; now += 5) r.run(now, (m) => seen.push(...m));
  assert.ok(!seen.includes('a'));
  assert.ok(seen.includes('b'));
});

test('after a stalled loop each bucket is visited once, not once per missed tick', () => {
  const r = new Rounds<string>(100, 0, 4);
  r.add('a');
  let visits = 0;
  r.run(10_000, (m) => (visits += m.size));
  assert.equal(visits, 1);
});

test('a period must be positive', () => {
  assert.throws(() => new Rounds(0, 0), RangeError);
});
