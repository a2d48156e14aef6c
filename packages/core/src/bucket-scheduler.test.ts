import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BucketScheduler } from './bucket-scheduler.ts';
import { ManualClock, Collector } from './testing/index.ts';

interface Session {
  id: number;
}

function setup(resolutionMs = 1000) {
  const clock = new ManualClock(1_000_000); // a multiple of the resolution: bucket edges are round
  const fired: number[] = [];
  let onDue: (s: Session) => void = (s) => void fired.push(s.id);
  const scheduler = new BucketScheduler<Session>({ clock, resolutionMs, autoStart: false, onDue: (s) => onDue(s) });
  const advance = (ms: number) => {
    clock.advance(ms);
    return scheduler.tick();
  };
  return { clock, fired, scheduler, advance, setOnDue: (f: (s: Session) => void) => (onDue = f) };
}

describe('BucketScheduler', () => {
  test('never fires early and at most one bucket late', () => {
    const { clock, fired, scheduler, advance } = setup();
    const a = { id: 1 };
    const b = { id: 2 };
    const c = { id: 3 };
    scheduler.schedule(a, clock.now() + 1000); // exactly on a bucket edge
    scheduler.schedule(b, clock.now() + 1001); // just past it: next bucket
    scheduler.schedule(c, clock.now() + 2500);
    assert.equal(scheduler.size, 3);
    advance(999);
    assert.deepEqual(fired, []);
    advance(1);
    assert.deepEqual(fired, [1]);
    advance(999);
    assert.deepEqual(fired, [1]);
    advance(1);
    assert.deepEqual(fired, [1, 2]);
    advance(499);
    assert.deepEqual(fired, [1, 2]);
    advance(501);
    assert.deepEqual(fired, [1, 2, 3]);
    assert.equal(scheduler.size, 0);
  });

  test('the due time of every item is within one resolution after its deadline', () => {
    const { clock, scheduler } = setup(250);
    // Future deadlines spread over 100 s, on and off bucket edges (deterministic: 7919 is prime).
    for (let i = 0; i < 1000; i++) {
      const item = { id: i };
      const at = clock.now() + 1 + ((i * 7919) % 99_999);
      scheduler.schedule(item, at);
      const due = scheduler.dueAt(item) as number;
      assert.ok(due >= at && due - at < 250, `deadline ${at} filed at ${due}`);
    }
    // A deadline of now is due, and fires on the next tick: the next bucket.
    const now = { id: -1 };
    scheduler.schedule(now, clock.now());
    assert.equal(scheduler.dueAt(now), clock.now() + 250);
  });

  test('rescheduling moves an item; cancel removes it', () => {
    const { clock, fired, scheduler, advance } = setup();
    const a = { id: 1 };
    const b = { id: 2 };
    scheduler.schedule(a, clock.now() + 1000);
    scheduler.schedule(a, clock.now() + 5000); // like a ping re-armed after activity
    scheduler.schedule(b, clock.now() + 1000);
    assert.equal(scheduler.cancel(b), true);
    assert.equal(scheduler.cancel(b), false);
    assert.equal(scheduler.has(b), false);
    advance(4000);
    assert.deepEqual(fired, []);
    advance(1000);
    assert.deepEqual(fired, [1]);
  });

  test('a past deadline fires on the next tick, not inside schedule()', () => {
    const { clock, fired, scheduler } = setup();
    scheduler.schedule({ id: 1 }, clock.now() - 10_000);
    scheduler.schedule({ id: 2 }, Number.NaN);
    assert.deepEqual(fired, []);
    assert.equal(scheduler.tick(), 0, 'same bucket: not due yet');
    clock.advance(1000);
    assert.equal(scheduler.tick(), 2);
    assert.deepEqual(fired.sort(), [1, 2]);
  });

  test('a callback may reschedule its item and cancel others of the same bucket', () => {
    const { clock, fired, scheduler, advance, setOnDue } = setup();
    const items = [{ id: 1 }, { id: 2 }, { id: 3 }];
    setOnDue((s) => {
      fired.push(s.id);
      if (s.id === 1) {
        scheduler.cancel(items[1] as Session);
        scheduler.schedule(s, clock.now()); // due now: must wait for the next bucket
      }
    });
    for (const s of items) scheduler.schedule(s, clock.now() + 1000);
    advance(1000);
    assert.deepEqual(fired, [1, 3]);
    assert.equal(scheduler.has(items[0] as Session), true);
    advance(1000);
    assert.deepEqual(fired, [1, 3, 1]);
  });

  test('a long pause fires every overdue bucket in order, once', () => {
    const { clock, fired, scheduler, advance } = setup();
    const start = clock.now();
    for (let i = 0; i < 50; i++) scheduler.schedule({ id: i }, start + (50 - i) * 86_400_000); // days apart
    scheduler.schedule({ id: 999 }, start + 60 * 86_400_000);
    assert.equal(advance(55 * 86_400_000), 50);
    assert.deepEqual(fired, Array.from({ length: 50 }, (_, i) => 49 - i));
    assert.equal(scheduler.size, 1);
    assert.equal(advance(5 * 86_400_000), 1);
  });

  test('items rescheduled into due buckets during a long pause still fire', () => {
    const { clock, fired, scheduler, advance, setOnDue } = setup();
    const s = { id: 7 };
    let count = 0;
    setOnDue((x) => {
      fired.push(x.id);
      if (++count < 3) scheduler.schedule(x, clock.now() - 1); // in the past: next bucket
    });
    scheduler.schedule(s, clock.now() + 1000);
    advance(10_000_000);
    // The first refire lands in the current (due) bucket and fires in this tick; the second is
    // filed after the bucket being processed, so it waits for the next tick.
    assert.deepEqual(fired, [7, 7]);
    assert.equal(scheduler.size, 1);
    advance(1000);
    assert.deepEqual(fired, [7, 7, 7]);
    assert.equal(scheduler.size, 0);
  });

  test('a throwing callback is reported and the others fire', () => {
    const clock = new ManualClock(0);
    const errors: unknown[] = [];
    const fired: number[] = [];
    const scheduler = new BucketScheduler<Session>({
      clock,
      autoStart: false,
      onDue: (s) => {
        if (s.id === 2) throw new Error('bad');
        fired.push(s.id);
      },
      onError: (e) => errors.push(e),
    });
    for (let i = 1; i <= 3; i++) scheduler.schedule({ id: i }, 500);
    clock.advance(1000);
    scheduler.tick();
    assert.deepEqual(fired, [1, 3]);
    assert.equal(errors.length, 1);
  });

  test('close forgets everything', () => {
    const { clock, fired, scheduler, advance } = setup();
    scheduler.schedule({ id: 1 }, clock.now() + 1000);
    scheduler.close();
    assert.equal(scheduler.size, 0);
    advance(5000);
    assert.deepEqual(fired, []);
  });

  test('the interval drives it with the real clock', async () => {
    const due = new Collector<Session>('due sessions');
    const scheduler = new BucketScheduler<Session>({ resolutionMs: 20, onDue: due.push });
    try {
      const at = Date.now() + 30;
      scheduler.schedule({ id: 1 }, at);
      const [s] = await due.waitFor(1, 2000);
      assert.equal(s?.id, 1);
      assert.ok(Date.now() >= at, 'not early');
    } finally {
      scheduler.close();
    }
  });

  test('rejects a non-positive resolution', () => {
    assert.throws(() => new BucketScheduler({ resolutionMs: 0, onDue: () => {}, autoStart: false }), RangeError);
  });
});
