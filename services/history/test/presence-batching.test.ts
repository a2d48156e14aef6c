// Presence refreshes from a gateway are batched: adds made in one event-loop turn travel as one
// request per shard, and every add's promise settles with its batch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startNatsServer } from '@rotor/testkit';
import { ShardPresenceClient } from '@rotor/nats';
import { startSlice } from './fixture.ts';

test('presence adds in one turn are one request per shard', async () => {
  await using server = await startNatsServer({ jetstream: true });
  const slice = await startSlice(server.url, { shards: 2 });
  try {
    const presence = new ShardPresenceClient(slice.router);
    const before = slice.shards.map((s) => s.server.requests);
    const adds = [];
    for (let i = 0; i < 200; i++) adds.push(presence.add(`room:${i % 20}`, { user: `u${i % 7}`, client: `c${i}` }, 60_000));
    await Promise.all(adds);
    const requests = slice.shards.map((s, k) => s.server.requests - before[k]!);
    assert.ok(requests.every((n) => n === 1), `one batch per shard, got ${requests.join(',')}`);
    let total = 0;
    for (let r = 0; r < 20; r++) {
      const stats = await presence.stats(`room:${r}`);
      total += stats.numClients;
      assert.equal((await presence.get(`room:${r}`)).size, stats.numClients);
    }
    assert.equal(total, 200);
    slice.clock.advance(60_000);
    assert.equal((await presence.stats('room:0')).numClients, 0, 'entries expire without refresh');
  } finally {
    await slice.dispose();
  }
});
