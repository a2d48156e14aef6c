// Durability of the history shard against a real nats-server with JetStream: shard restarts keep
// epochs, offsets, data and idempotency keys; a nats-server restart keeps acknowledged data; a
// shard process killed with SIGKILL while publishing loses nothing that was acknowledged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { RotorError } from '@rotor/core';
import type { HistoryOptions, StreamPosition } from '@rotor/core';
import { startNatsServer } from '@rotor/testkit';
import { ClusterPublisher, ShardHistoryClient, closeNats, connectNats, NatsBroker, ShardRouter, Subjects } from '@rotor/nats';
import { startHistoryShard } from '../src/index.ts';
import { shardConfig, startSlice } from './fixture.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const HISTORY: HistoryOptions = { size: 10_000, ttlMs: 3_600_000, metaTtlMs: 86_400_000 };

async function readAll(history: ShardHistoryClient, channel: string) {
  return history.read({ channel, limit: -1, reverse: false, metaTtlMs: HISTORY.metaTtlMs });
}

test('a restarted shard keeps epochs, offsets, data and idempotency keys', async () => {
  await using server = await startNatsServer({ jetstream: true });
  const slice = await startSlice(server.url, { shards: 1 });
  try {
    const publisher = new ClusterPublisher(slice.router, slice.broker, slice.clock);
    const history = new ShardHistoryClient(slice.router);
    const channels = ['a', 'b.c', 'é:*'];
    const acked = new Map<string, StreamPosition[]>();
    for (const ch of channels) {
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => publisher.publish({ channel: ch, data: enc(`${ch}-${i}`), history: HISTORY, idempotencyKey: `k${i}` })),
      );
      acked.set(ch, results);
    }
    await history.remove('b.c');
    await publisher.publish({ channel: 'b.c', data: enc('after-remove'), history: HISTORY });

    // Restart the shard (same streams, same clock).
    await slice.shards[0]!.close();
    slice.shards[0] = await startHistoryShard(shardConfig(slice.streamPrefix), { shard: 0, shards: 1, natsUrl: server.url, clock: slice.clock, subjects: slice.subjects, sweepIntervalMs: 0 });

    for (const ch of ['a', 'é:*']) {
      const r = await readAll(history, ch);
      const before = acked.get(ch)!;
      assert.equal(r.position.epoch, before[0]!.epoch, `${ch}: epoch kept`);
      assert.equal(r.position.offset, 50);
      assert.deepEqual(r.publications.map((p) => p.offset), Array.from({ length: 50 }, (_, i) => i + 1));
      for (let i = 0; i < 50; i++) assert.equal(dec(r.publications[before[i]!.offset - 1]!.data), `${ch}-${i}`);
      // An idempotent retry after the restart is recognised.
      const dup = await publisher.publish({ channel: ch, data: enc('retry'), history: HISTORY, idempotencyKey: 'k7' });
      assert.deepEqual(dup, before[7]);
      // And the stream continues.
      const next = await publisher.publish({ channel: ch, data: enc('next'), history: HISTORY });
      assert.deepEqual(next, { offset: 51, epoch: before[0]!.epoch });
    }
    // Loading channels leaves no consumers behind.
    const nc = await connectNats({ url: server.url });
    try {
      const jsm = await nc.jetstreamManager();
      for await (const si of jsm.streams.list()) {
        if (si.config.name.startsWith(slice.streamPrefix)) assert.equal(si.state.consumer_count, 0, `${si.config.name} consumers`);
      }
    } finally {
      await closeNats(nc);
    }
    const removed = await readAll(history, 'b.c');
    assert.equal(removed.position.epoch, acked.get('b.c')![0]!.epoch);
    assert.equal(removed.position.offset, 51);
    assert.deepEqual(removed.publications.map((p) => dec(p.data)), ['after-remove'], 'removed publications stay removed');
  } finally {
    await slice.dispose();
  }
});

test('nats-server restart: acknowledged publications survive and the shard continues the stream', async () => {
  await using server = await startNatsServer({ jetstream: true });
  const slice = await startSlice(server.url, { shards: 1, timeoutMs: 2000 });
  try {
    const publisher = new ClusterPublisher(slice.router, slice.broker, slice.clock);
    const history = new ShardHistoryClient(slice.router);
    const first = await Promise.all(Array.from({ length: 20 }, (_, i) => publisher.publish({ channel: 'r', data: enc(`m${i}`), history: HISTORY })));
    await server.restart();
    // Until every connection is back, requests fail with a temporary error; then they succeed.
    const deadline = Date.now() + 20_000;
    let next: StreamPosition | undefined;
    while (next === undefined) {
      try {
        next = await publisher.publish({ channel: 'r', data: enc('after'), history: HISTORY, idempotencyKey: 'after' });
      } catch (err) {
        assert.ok(err instanceof RotorError && err.temporary, `temporary error expected, got ${String(err)}`);
        if (Date.now() > deadline) throw new Error('shard did not recover after the nats-server restart', { cause: err });
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    const r = await readAll(history, 'r');
    const sameEpoch = r.position.epoch === first[0]!.epoch;
    if (sameEpoch) {
      assert.deepEqual(r.publications.slice(0, 20).map((p) => dec(p.data)), first.map((_, i) => `m${i}`));
    }
    // A new epoch is allowed only if a write failed during the outage; acknowledged data of the old
    // epoch is then still in the stream, and clients are told recovered=false by the epoch change.
    assert.equal(next.epoch, r.position.epoch);
    assert.equal(r.position.offset, next.offset);
    // Reload from JetStream after the restart: a fresh shard sees the same stream.
    await slice.shards[0]!.close();
    slice.shards[0] = await startHistoryShard(shardConfig(slice.streamPrefix), { shard: 0, shards: 1, natsUrl: server.url, clock: slice.clock, subjects: slice.subjects, sweepIntervalMs: 0 });
    const reloaded = await readAll(history, 'r');
    assert.deepEqual(reloaded.position, r.position);
    assert.deepEqual(reloaded.publications.map((p) => dec(p.data)), r.publications.map((p) => dec(p.data)));
  } finally {
    await slice.dispose();
  }
});

test('nats-server restart with appends in flight: failed writes reload the channel from the stream, the epoch stays, acknowledged data is all there', async () => {
  await using server = await startNatsServer({ jetstream: true });
  const slice = await startSlice(server.url, { shards: 1, timeoutMs: 2000 });
  try {
    const publisher = new ClusterPublisher(slice.router, slice.broker, slice.clock);
    const history = new ShardHistoryClient(slice.router);
    const first = await publisher.publish({ channel: 'busy', data: enc('m0'), history: HISTORY });
    // Keep many appends in flight while the server goes away and comes back.
    const acked: Array<{ n: number; pos: StreamPosition }> = [];
    let failures = 0;
    let n = 0;
    let running = true;
    const load = (async () => {
      while (running) {
        const batch = Array.from({ length: 50 }, () => ++n);
        const results = await Promise.allSettled(batch.map((i) => publisher.publish({ channel: 'busy', data: enc(`m${i}`), history: HISTORY })));
        results.forEach((r, j) => {
          if (r.status === 'fulfilled') acked.push({ n: batch[j]!, pos: r.value });
          else failures++;
        });
        if (results.every((r) => r.status === 'rejected')) await new Promise((r) => setTimeout(r, 20));
      }
    })();
    while (acked.length < 200) await new Promise((r) => setTimeout(r, 10));
    await server.restart();
    const ackedAtRestart = acked.length;
    const deadline = Date.now() + 20_000;
    while (acked.length < ackedAtRestart + 200) {
      if (Date.now() > deadline) throw new Error(`no acknowledgements after the restart (${failures} failures)`);
      await new Promise((r) => setTimeout(r, 10));
    }
    running = false;
    await load;
    assert.ok(failures > 0, 'some appends failed during the outage');
    assert.deepEqual([...new Set(acked.map((a) => a.pos.epoch))], [first.epoch], 'one epoch throughout');
    const r = await readAll(history, 'busy');
    assert.equal(r.position.epoch, first.epoch);
    const byOffset = new Map(r.publications.map((p) => [p.offset, dec(p.data)]));
    assert.deepEqual(r.publications.map((p) => p.offset), Array.from({ length: r.position.offset }, (_, i) => i + 1), 'contiguous offsets');
    for (const a of acked) assert.equal(byOffset.get(a.pos.offset), `m${a.n}`, `offset ${a.pos.offset}`);
  } finally {
    await slice.dispose();
  }
});

const mainTs = fileURLToPath(new URL('../src/main.ts', import.meta.url));

function spawnShard(url: string, streamPrefix: string, subjectPrefix: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', mainTs, '--shard', '0', '--shards', '1', '--nats', url, '--stream-prefix', streamPrefix, '--subject-prefix', subjectPrefix], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('shard process did not become ready'));
    }, 20_000);
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => {
      out += d;
      if (out.includes('ready shard=0')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`shard process exited early (${code})`));
    });
  });
}

function killed(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

test('kill -9 of a shard process while publishing loses nothing acknowledged and keeps the epoch', async () => {
  await using server = await startNatsServer({ jetstream: true });
  const subjects = new Subjects('k9');
  let child = await spawnShard(server.url, 'K9', 'k9');
  const nc = await connectNats({ url: server.url, name: 'client' });
  const router = new ShardRouter(nc, { shards: 1, subjects, timeoutMs: 1000 });
  const broker = new NatsBroker(nc, { subjects });
  const publisher = new ClusterPublisher(router, broker);
  const history = new ShardHistoryClient(router);
  try {
    const TOTAL = 2000;
    const acked = new Map<number, StreamPosition>();
    let failures = 0;
    let next = 0;
    let restarted = false;
    const worker = async () => {
      while (next < TOTAL) {
        const i = next++;
        // Retry each publication with its idempotency key until it is acknowledged (bounded).
        for (let attempt = 0; ; attempt++) {
          try {
            acked.set(i, await publisher.publish({ channel: 'k', data: enc(`m${i}`), history: HISTORY, idempotencyKey: `i${i}` }));
            break;
          } catch (err) {
            assert.ok(err instanceof RotorError && err.temporary, `clear temporary error expected, got ${String(err)}`);
            assert.match(err.message, /history shard unavailable|JetStream|closed/);
            failures++;
            if (attempt > 400) throw new Error('publication never accepted after the restart', { cause: err });
            await new Promise((r) => setTimeout(r, 50));
          }
        }
      }
    };
    const killer = (async () => {
      while (acked.size < 500) await new Promise((r) => setTimeout(r, 5));
      await killed(child);
      // Let publishers hit the dead shard for a moment before it comes back.
      while (failures < 10) await new Promise((r) => setTimeout(r, 5));
      child = await spawnShard(server.url, 'K9', 'k9');
      restarted = true;
    })();
    await Promise.all([killer, ...Array.from({ length: 20 }, worker)]);
    assert.ok(restarted && failures >= 10);
    assert.equal(acked.size, TOTAL);

    const r = await history.read({ channel: 'k', limit: -1, reverse: false, metaTtlMs: HISTORY.metaTtlMs });
    const epochs = new Set([...acked.values()].map((p) => p.epoch));
    assert.equal(epochs.size, 1, 'one epoch across the crash');
    assert.equal(r.position.epoch, [...epochs][0]);
    // Contiguous offsets; every acknowledged publication is there with its data.
    assert.deepEqual(r.publications.map((p) => p.offset), Array.from({ length: r.position.offset }, (_, i) => i + 1));
    for (const [i, pos] of acked) assert.equal(dec(r.publications[pos.offset - 1]!.data), `m${i}`, `publication ${i}`);
    // Exactly-once per idempotency key: no publication stored twice.
    const datas = r.publications.map((p) => dec(p.data));
    assert.equal(new Set(datas).size, datas.length);
  } finally {
    router.close();
    await broker.close();
    await closeNats(nc);
    await killed(child);
  }
});
