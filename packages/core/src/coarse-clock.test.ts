import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CoarseClock, sharedCoarseClock } from './coarse-clock.ts';
import { ManualClock, waitFor } from './testing/index.ts';

test('now() is cached until the next tick', () => {
  const source = new ManualClock(1000);
  const clock = new CoarseClock({ source, autoStart: false });
  assert.equal(clock.now(), 1000);
  source.advance(250);
  assert.equal(clock.now(), 1000);
  clock.tick();
  assert.equal(clock.now(), 1250);
  assert.equal(clock.running, false);
});

test('the interval refreshes it and stop() freezes it', async () => {
  const source = new ManualClock(0);
  const clock = new CoarseClock({ source, resolutionMs: 5 });
  try {
    assert.equal(clock.running, true);
    source.advance(42);
    await waitFor(() => clock.now() === 42, { timeoutMs: 2000, what: 'the coarse clock to pick up the source time' });
    clock.stop();
    source.advance(1);
    assert.equal(clock.now(), 42);
  } finally {
    clock.stop();
  }
});

test('the shared clock is one instance close to Date.now()', () => {
  const a = sharedCoarseClock();
  assert.equal(sharedCoarseClock(), a);
  assert.ok(Math.abs(a.now() - Date.now()) < 5_000);
  assert.throws(() => new CoarseClock({ resolutionMs: 0 }), RangeError);
});
