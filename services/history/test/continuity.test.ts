// When a shard cannot prove a channel's continuity it starts a new epoch (stream lost, sequence
// gap, meta expired); a failed write reloads the channel and keeps the epoch when it can; an
// unreachable or silent shard is a temporary error, never a hang.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RotorError } from '@rotor/core';
import type { HistoryOptions } from '@rotor/core';
import { startNatsServer } from '@rotor/testkit';
import { ClusterPublisher, ShardHistoryClient, ShardPresenceClient, closeNats, connectNats, encodeStoredRecord, NatsBroker, RecordKind, ShardRouter, Subjects } from '@rotor/nats';
import { startHistoryShard } from '../src/index.ts';
import { shardConfig, startSlice } from './fixture.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const HISTORY: HistoryOptions = { size: 100, ttlMs: 600_000, metaTtlMs: 3_600_000 };

async function restartShard(slice: Awaited<ReturnType<typeof startSlice>>, url: string): Promise<void> {
  await slice.shards[0]!.close();
  slice.shards[0] = await startHistoryShard(shardConfig(slice.streamPrefix), { shard: 0, shards: 1, natsUrl: url, clock: slice.clock, subjects: slice.subjects, sweepIntervalMs: 0 });
}

test('continuity: lost stream, sequence gap and expired meta each start a new epoch', async (t) => {
  await using server = await startNatsServer({ jetstream: true });
  const slice = await startSlice(server.url, { shards: 1, timeoutMs: 3000 });
  const nc = await connectNats({ url: server.url });
  const jsm = await nc.jetstreamManager();
  const publisher = new ClusterPublisher(slice.router, slice.broker, slice.clock);
  const history = new ShardHistoryClient(slice.router);
  const read = (channel: string) => history.read({ channel, limit: -1, reverse: false, metaTtlMs: HISTORY.metaTtlMs });
  try {
    await t.test('a stream deleted under a running shard: one temporary failure, then a new epoch', async () => {
      const first = await publisher.publish({ channel: 'lost', data: enc('a'), history: HISTORY });
      const names: string[] = [];
      for await (const si of jsm.streams.list()) if (si.config.name.startsWith(slice.streamPrefix)) names.push(si.config.name);
      assert.equal(names.length, 1);
      await jsm.streams.delete(names[0]!);
      await assert.rejects(
        publisher.publish({ channel: 'lost', data: enc('b'), history: HISTORY }),
        (err: unknown) => err instanceof RotorError && err.temporary && err.code === 100,
      );
      const next = await publisher.publish({ channel: 'lost', data: enc('c'), history: HISTORY });
      assert.notEqual(next.epoch, first.epoch);
      assert.equal(next.offset, 1);
      const r = await read('lost');
      assert.deepEqual(r.position, next);
    });

    await t.test('a gap in the stored offsets is detected on reload', async () => {
      const res = [];
      for (let i = 0; i < 5; i++) res.push(await publisher.publish({ channel: 'gap', data: enc(`m${i}`), history: HISTORY }));
      // Remove the record of offset 3 behind the shard's back.
      const names: string[] = [];
      for await (const si of jsm.streams.list()) if (si.config.name.startsWith(slice.streamPrefix)) names.push(si.config.name);
      const subject = slice.subjects.storage(0, names[0]!.split('_H0_')[1]!, 'gap');
      const last = await jsm.streams.getMessage(names[0]!, { last_by_subj: subject });
      await jsm.streams.deleteMessage(names[0]!, last.seq - 2, true);
      await restartShard(slice, server.url);
      const r = await read('gap');
      assert.notEqual(r.position.epoch, res[0]!.epoch, 'new epoch');
      assert.equal(r.position.offset, 0);
      assert.deepEqual(r.publications, []);
    });

    await t.test('an idle channel past its TTL is purged down to its last record; meta and epoch survive', async () => {
      const short = { ...HISTORY, ttlMs: 1000 };
      let last;
      for (let i = 0; i < 5; i++) last = await publisher.publish({ channel: 'idle', data: enc(`m${i}`), history: short });
      const names: string[] = [];
      for await (const si of jsm.streams.list()) if (si.config.name.startsWith(slice.streamPrefix)) names.push(si.config.name);
      const name = names.find((n) => n.includes('_100_3600'))!;
      const subject = slice.subjects.storage(0, name.split('_H0_')[1]!, 'idle');
      const count = async () => (await jsm.streams.info(name, { subjects_filter: subject })).state.subjects?.[subject] ?? 0;
      assert.equal(await count(), 5);
      slice.clock.advance(1001);
      slice.shards[0]!.store.sweep();
      const deadline = Date.now() + 5000;
      while ((await count()) !== 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.equal(await count(), 1);
      await restartShard(slice, server.url);
      const r = await read('idle');
      assert.deepEqual(r.position, last);
      assert.deepEqual(r.publications, []);
    });

    await t.test('an intact stream keeps its epoch across restarts, an expired meta does not', async () => {
      const a = await publisher.publish({ channel: 'meta', data: enc('x'), history: HISTORY });
      await restartShard(slice, server.url);
      assert.deepEqual((await read('meta')).position, a);
      slice.clock.advance(HISTORY.metaTtlMs + 1);
      await restartShard(slice, server.url);
      const r = await read('meta');
      assert.notEqual(r.position.epoch, a.epoch);
      assert.equal(r.position.offset, 0);
    });
  } finally {
    await closeNats(nc);
    await slice.dispose();
  }
});

test('no shard, or a shard that never answers: temporary "history shard unavailable", no hang', async () => {
  await using server = await startNatsServer();
  const subjects = new Subjects('nohang');
  const nc = await connectNats({ url: server.url });
  const router = new ShardRouter(nc, { shards: 2, subjects, timeoutMs: 300 });
  const publisher = new ClusterPublisher(router, new NatsBroker(nc, { subjects }));
  const presence = new ShardPresenceClient(router);
  const isUnavailable = (err: unknown) => err instanceof RotorError && err.code === 100 && err.temporary && /history shard unavailable/.test(err.message);
  try {
    // Nobody serves the shard subjects: answered at once by the server (no responders).
    const t0 = Date.now();
    await assert.rejects(publisher.publish({ channel: 'c', data: enc('x'), history: HISTORY }), isUnavailable);
    assert.ok(Date.now() - t0 < 300, 'no responders is immediate');
    // A shard that takes requests and never answers: the timeout ends each one.
    const silent = [0, 1].map((k) => nc.subscribe(subjects.shard(k), { callback: () => {} }));
    await nc.flush();
    await assert.rejects(publisher.publish({ channel: 'c', data: enc('x'), history: HISTORY }), isUnavailable);
    await assert.rejects(presence.add('c', { user: 'u', client: 'c1' }, 1000), isUnavailable);
    await assert.rejects(presence.stats('c'), isUnavailable);
    for (const s of silent) s.unsubscribe();
    // Without history nor idempotency key a publication bypasses the shards.
    assert.deepEqual(await publisher.publish({ channel: 'c', data: enc('x') }), { offset: 0, epoch: '' });
  } finally {
    router.close();
    await closeNats(nc);
  }
});

test('a failed write reloads the channel: the epoch continues; an unacknowledged record that landed after a gap is dropped', async () => {
  await using server = await startNatsServer({ jetstream: true });
  const slice = await startSlice(server.url, { shards: 1, timeoutMs: 3000 });
  const nc = await connectNats({ url: server.url });
  try {
    const jsm = await nc.jetstreamManager();
    const publisher = new ClusterPublisher(slice.router, slice.broker, slice.clock);
    const history = new ShardHistoryClient(slice.router);
    const acked = [];
    for (let i = 1; i <= 3; i++) acked.push(await publisher.publish({ channel: 'flaky', data: enc(`m${i}`), history: HISTORY }));
    const epoch = acked[0]!.epoch;
    const names: string[] = [];
    for await (const si of jsm.streams.list()) if (si.config.name.startsWith(slice.streamPrefix)) names.push(si.config.name);
    const stream = names.find((n) => !n.endsWith('_SHARDS'))!;
    const subject = slice.subjects.storage(0, stream.split('_H0_')[1]!, 'flaky');
    // What a write buffered during an outage looks like when it lands after the reconnect:
    // offset 5 of this epoch, while offset 4 never made it.
    const late = encodeStoredRecord({ kind: RecordKind.publication, epoch, offset: 5, time: slice.clock.now(), publication: { offset: 5, data: enc('late'), time: slice.clock.now() }, ttlMs: HISTORY.ttlMs });
    await nc.jetstream().publish(subject, late);
    // The next write fails for sure: JetStream refuses records over max_msg_size.
    const info = await jsm.streams.info(stream);
    await jsm.streams.update(stream, { ...info.config, max_msg_size: 64 });
    await assert.rejects(
      publisher.publish({ channel: 'flaky', data: enc('x'.repeat(500)), history: HISTORY }),
      (err: unknown) => err instanceof RotorError && err.temporary && err.code === 100,
    );
    await jsm.streams.update(stream, { ...info.config, max_msg_size: -1 });
    // Reloaded from the stream: the epoch goes on after offset 3, the stray offset 5 is gone.
    const next = await publisher.publish({ channel: 'flaky', data: enc('m4'), history: HISTORY });
    assert.deepEqual(next, { offset: 4, epoch });
    const r = await history.read({ channel: 'flaky', limit: -1, reverse: false, metaTtlMs: HISTORY.metaTtlMs });
    assert.deepEqual(r.publications.map((p) => new TextDecoder().decode(p.data)), ['m1', 'm2', 'm3', 'm4']);
    assert.deepEqual(r.position, next);
    // The stream agrees: a fresh shard loads the same.
    await restartShard(slice, server.url);
    const reloaded = await history.read({ channel: 'flaky', limit: -1, reverse: false, metaTtlMs: HISTORY.metaTtlMs });
    assert.deepEqual(reloaded.position, next);
  } finally {
    await closeNats(nc);
    await slice.dispose();
  }
});
