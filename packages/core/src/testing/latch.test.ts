import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Collector, Latch, WaitTimeoutError, deferred, waitFor, withDeadline } from './latch.ts';

describe('deferred', () => {
  test('exposes resolve/reject and tracks settlement', async () => {
    const d = deferred<number>();
    assert.equal(d.settled, false);
    d.resolve(7);
    assert.equal(d.settled, true);
    assert.equal(await d.promise, 7);
    const e = deferred();
    e.reject(new Error('no'));
    await assert.rejects(e.promise, /no/);
  });
});

describe('Latch', () => {
  test('opens after count countDowns', async () => {
    const latch = new Latch(2);
    latch.countDown();
    assert.equal(latch.isOpen, false);
    latch.countDown();
    latch.countDown(); // extra calls are harmless
    assert.equal(latch.isOpen, true);
    await latch.wait(100);
    await new Latch(0).wait(1);
  });

  test('times out with a message naming what was awaited and what is missing', async () => {
    const latch = new Latch(3);
    latch.countDown();
    await assert.rejects(latch.wait(20, 'three subscribers'), (err: unknown) => {
      assert.ok(err instanceof WaitTimeoutError);
      assert.match(err.message, /timed out after 20 ms waiting for three subscribers \(2 count\(s\) remaining\)/);
      return true;
    });
    assert.throws(() => new Latch(-1), RangeError);
  });
});

describe('waitFor', () => {
  test('resolves once the condition holds (sync or async)', async () => {
    let n = 0;
    const timer = setInterval(() => n++, 1);
    try {
      await waitFor(() => n >= 3, { timeoutMs: 2000 });
      await waitFor(async () => n >= 5, { timeoutMs: 2000, intervalMs: 1 });
    } finally {
      clearInterval(timer);
    }
  });

  test('names the condition in the timeout error', async () => {
    const state = { ready: false };
    await assert.rejects(waitFor(() => state.ready, { timeoutMs: 30 }), /waiting for .*state\.ready/);
    await assert.rejects(waitFor(() => false, { timeoutMs: 10, what: 'the server to listen' }), /the server to listen/);
  });

  test('a throwing condition rejects at once with its error', async () => {
    await assert.rejects(waitFor(() => { throw new Error('broken probe'); }, { timeoutMs: 5000 }), /broken probe/);
  });
});

describe('Collector', () => {
  test('waitFor(n) resolves with the first n items, now or later', async () => {
    const c = new Collector<number>('numbers');
    c.push(1);
    assert.deepEqual(await c.waitFor(1), [1]);
    const later = c.waitFor(3);
    setImmediate(() => {
      c.push(2);
      c.push(3);
      c.push(4);
    });
    assert.deepEqual(await later, [1, 2, 3]);
    assert.equal(c.length, 4);
  });

  test('times out saying how many arrived', async () => {
    const c = new Collector<string>('acks');
    c.push('a');
    await assert.rejects(c.waitFor(3, 20), /waiting for 3 acks \(got 1\)/);
  });

  test('waitForMatch finds past and future items', async () => {
    const c = new Collector<number>('numbers');
    c.push(5);
    assert.equal(await c.waitForMatch((x) => x === 5, 'five'), 5);
    setImmediate(() => c.push(9));
    assert.equal(await c.waitForMatch((x) => x > 8, 'above eight', 2000), 9);
    await assert.rejects(c.waitForMatch((x) => x > 100, 'above a hundred', 20), /numbers: above a hundred/);
  });
});

test('withDeadline clears its timer when the promise wins', async () => {
  assert.equal(await withDeadline(Promise.resolve(1), 60_000, 'x'), 1); // a leaked timer would hold the test 60 s
});
