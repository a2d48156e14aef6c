// Bad input to a shard gets a typed error reply; the shard keeps serving.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RotorError } from '@rotor/core';
import { startNatsServer } from '@rotor/testkit';
import { ClusterPublisher, decodeShardReply, encodeShardRequest, ShardHistoryClient, ShardOp } from '@rotor/nats';
import { startSlice } from './fixture.ts';

const enc = (s: string) => new TextEncoder().encode(s);

test('malformed and invalid shard requests are answered with errors, nothing breaks', async () => {
  await using server = await startNatsServer({ jetstream: true });
  const slice = await startSlice(server.url, { shards: 1 });
  try {
    const ask = async (data: Uint8Array) => decodeShardReply((await slice.nc.request(slice.subjects.shard(0), data, { timeout: 5000 })).data);
    assert.equal((await ask(new Uint8Array([0xff, 0xff, 0xff]))).error?.code, 107);
    assert.equal((await ask(new Uint8Array([8, 42]))).error?.code, 107, 'unknown op');
    assert.equal((await ask(encodeShardRequest({ op: ShardOp.append, channel: 'x', data: enc('a') }))).error?.code, 107, 'append without history');
    const zero = await ask(encodeShardRequest({ op: ShardOp.publish, channel: 'x', data: enc('a'), history: { size: 0, ttlMs: 0, metaTtlMs: 0 } }));
    assert.equal(zero.error?.code, 107, 'history size 0');

    const publisher = new ClusterPublisher(slice.router, slice.broker, slice.clock);
    const history = new ShardHistoryClient(slice.router);
    const HISTORY = { size: 10, ttlMs: 60_000, metaTtlMs: 600_000 };
    await assert.rejects(
      publisher.publish({ channel: '.'.repeat(800), data: enc('a'), history: HISTORY }),
      (err: unknown) => err instanceof RotorError && err.code === 107,
    );
    await assert.rejects(
      history.read({ channel: '.'.repeat(800), limit: -1, reverse: false, metaTtlMs: 1 }),
      (err: unknown) => err instanceof RotorError && err.code === 107,
    );
    // Still serving.
    assert.deepEqual((await publisher.publish({ channel: 'ok', data: enc('a'), history: HISTORY })).offset, 1);
  } finally {
    await slice.dispose();
  }
});
