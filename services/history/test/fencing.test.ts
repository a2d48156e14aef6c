// Single-writer fencing: a second process for a served shard refuses to start; a shard whose
// owner died is taken over at once (no lease timeout); an owner whose lease was taken over stops
// answering requests and says why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectNats, closeNats, Subjects } from '@rotor/nats';
import { deferred, startNatsServer, withDeadline } from '@rotor/testkit';
import { ShardTakenError, startHistoryShard } from '../src/index.ts';
import { shardConfig } from './fixture.ts';

let seq = 0;
function names(): { subjects: Subjects; prefix: string } {
  seq++;
  return { subjects: new Subjects(`f${process.pid}x${seq}`), prefix: `F${process.pid}X${seq}` };
}

test('fencing: a second instance of a served shard is refused; a dead owner is taken over at once; a fenced owner stops serving', async (t) => {
  await using server = await startNatsServer({ jetstream: true });

  await t.test('a second instance is refused while the first serves', async () => {
    const { subjects, prefix } = names();
    const first = await startHistoryShard(shardConfig(prefix), { shard: 0, shards: 1, natsUrl: server.url, subjects, sweepIntervalMs: 0 });
    try {
      await assert.rejects(
        startHistoryShard(shardConfig(prefix), { shard: 0, shards: 1, natsUrl: server.url, subjects, sweepIntervalMs: 0 }),
        (err: unknown) => err instanceof ShardTakenError && /history shard 0 is already served by .* pid \d+/.test(err.message),
      );
      // The first one still serves.
      const nc = await connectNats({ url: server.url });
      const reply = await nc.request(subjects.shard(0), new Uint8Array([8, 7, 18, 1, 120]), { timeout: 5000 });
      assert.ok(reply.data.length >= 0);
      await closeNats(nc);
    } finally {
      await first.close();
    }
    // A clean stop releases the lease: the next instance starts without asking anyone.
    const next = await startHistoryShard(shardConfig(prefix), { shard: 0, shards: 1, natsUrl: server.url, subjects, sweepIntervalMs: 0 });
    await next.close();
  });

  await t.test('an owner that died (connection gone, lease left behind) is taken over without waiting', async () => {
    const { subjects, prefix } = names();
    const nc = await connectNats({ url: server.url });
    const dead = await startHistoryShard(shardConfig(prefix), { shard: 0, shards: 1, natsUrl: server.url, nc, subjects, sweepIntervalMs: 0 });
    // What kill -9 leaves: the key in the KV bucket, nobody answering.
    dead.server.stop();
    await nc.close();
    const started = Date.now();
    const heir = await startHistoryShard(shardConfig(prefix), { shard: 0, shards: 1, natsUrl: server.url, subjects, sweepIntervalMs: 0 });
    const tookMs = Date.now() - started;
    await heir.close();
    await dead.close();
    assert.ok(tookMs < 3000, `took over in ${tookMs} ms`);
    t.diagnostic(`takeover of a dead owner's lease: ${tookMs} ms`);
  });

  await t.test('an owner whose lease another instance took stops answering and reports it', async () => {
    const { subjects, prefix } = names();
    const fenced = deferred<string>();
    const owner = await startHistoryShard(shardConfig(prefix), {
      shard: 0,
      shards: 1,
      natsUrl: server.url,
      subjects,
      sweepIntervalMs: 0,
      lease: { checkIntervalMs: 50 },
      onFenced: (reason) => fenced.resolve(reason),
    });
    try {
      // Another instance overwrote the key (it believed the owner dead: paused, cut off…).
      const nc = await connectNats({ url: server.url });
      try {
        const kv = await nc.jetstream().views.kv(`${prefix}_SHARDS`);
        await kv.put('shard-0', new TextEncoder().encode(JSON.stringify({ instance: 'usurper', host: 'elsewhere', pid: 1, since: Date.now() })));
        assert.match(await withDeadline(fenced.promise, 5000, 'the fenced callback'), /history shard 0 was taken over by elsewhere pid 1/);
        // No answer any more: "no responders", or a timeout while the UNSUB is still on its way.
        await assert.rejects(nc.request(subjects.shard(0), new Uint8Array([8, 7]), { timeout: 1000 }), /503|no responders|TIMEOUT/i);
      } finally {
        await closeNats(nc);
      }
    } finally {
      await owner.close();
    }
  });
});
