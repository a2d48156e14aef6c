import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Collector, Latch, deferred, waitFor } from '@rotor/testkit';

test('@rotor/testkit exposes the latch helpers', async () => {
  const latch = new Latch(1);
  const d = deferred<string>();
  const c = new Collector<number>();
  setImmediate(() => {
    latch.countDown();
    d.resolve('done');
    c.push(1);
  });
  await latch.wait(2000, 'the latch');
  assert.equal(await d.promise, 'done');
  assert.deepEqual(await c.waitFor(1, 2000), [1]);
  await waitFor(() => c.length === 1, { timeoutMs: 100 });
});
