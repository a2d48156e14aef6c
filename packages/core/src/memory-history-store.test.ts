import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryHistoryStore } from './memory-history-store.ts';
import { ManualClock, runHistoryStoreContract } from './testing/index.ts';
import { RotorError } from './codes.ts';

runHistoryStoreContract('MemoryHistoryStore (sweep after every clock move)', () => {
  const clock = new ManualClock();
  const store = new MemoryHistoryStore({ clock, sweepIntervalMs: 0 });
  return {
    store,
    clock: { advance: (ms) => { clock.advance(ms); store.sweep(); } },
    dispose: () => store.close(),
  };
});

runHistoryStoreContract('MemoryHistoryStore (never swept: lazy expiry alone)', () => {
  const clock = new ManualClock();
  const store = new MemoryHistoryStore({ clock, sweepIntervalMs: 0 });
  return { store, clock, dispose: () => store.close() };
});

const history = { size: 10, ttlMs: 1_000, metaTtlMs: 5_000 };
const data = new Uint8Array([1]);

describe('MemoryHistoryStore', () => {
  test('the sweep frees channels whose meta expired and keeps live ones', async () => {
    const clock = new ManualClock();
    const store = new MemoryHistoryStore({ clock, sweepIntervalMs: 0 });
    try {
      for (let i = 0; i < 1000; i++) await store.append({ channel: `old${i}`, data, history });
      await store.read({ channel: 'read-only', limit: 0, reverse: false, metaTtlMs: 5_000 });
      clock.advance(3_000);
      await store.append({ channel: 'fresh', data, history });
      assert.equal(store.channelCount, 1002);
      clock.advance(2_001);
      store.sweep();
      assert.equal(store.channelCount, 1, 'only the channel appended 2 s ago is left');
      const r = await store.read({ channel: 'fresh', limit: -1, reverse: false, metaTtlMs: 5_000 });
      assert.equal(r.position.offset, 1);
      assert.deepEqual(r.publications, [], 'its publication is past the 1 s TTL');
    } finally {
      await store.close();
    }
  });

  test('a meta TTL of 0 never expires', async () => {
    const clock = new ManualClock();
    const store = new MemoryHistoryStore({ clock, sweepIntervalMs: 0 });
    const first = await store.append({ channel: 'c', data, history: { ...history, metaTtlMs: 0 } });
    clock.advance(10 * 365 * 24 * 3600_000);
    store.sweep();
    const r = await store.read({ channel: 'c', limit: -1, reverse: false, metaTtlMs: 0 });
    assert.deepEqual(r.position, first.position);
    await store.close();
  });

  test('idempotency keys per channel are capped, oldest forgotten first', async () => {
    const clock = new ManualClock();
    const store = new MemoryHistoryStore({ clock, sweepIntervalMs: 0, maxIdempotencyKeysPerChannel: 3 });
    for (const k of ['a', 'b', 'c', 'd']) await store.append({ channel: 'c', data, history, idempotencyKey: k });
    const a = await store.append({ channel: 'c', data, history, idempotencyKey: 'a' });
    const d = await store.append({ channel: 'c', data, history, idempotencyKey: 'd' });
    assert.equal(a.duplicate, false, 'the oldest key was evicted');
    assert.equal(d.duplicate, true);
    await store.close();
  });

  test('rejects history options without size or ttl, and every call after close', async () => {
    const store = new MemoryHistoryStore({ sweepIntervalMs: 0 });
    await assert.rejects(store.append({ channel: 'c', data, history: { ...history, size: 0 } }), RotorError);
    await assert.rejects(store.append({ channel: 'c', data, history: { ...history, ttlMs: 0 } }), RotorError);
    await store.close();
    await assert.rejects(store.append({ channel: 'c', data, history }), /closed/);
    await assert.rejects(store.read({ channel: 'c', limit: 0, reverse: false, metaTtlMs: 1 }), /closed/);
    await assert.rejects(store.remove('c'), /closed/);
  });

  test('epochs are 8 letters and differ between streams', async () => {
    const store = new MemoryHistoryStore({ sweepIntervalMs: 0 });
    const epochs = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const r = await store.read({ channel: `c${i}`, limit: 0, reverse: false, metaTtlMs: 1_000 });
      assert.match(r.position.epoch, /^[a-zA-Z]{8}$/);
      epochs.add(r.position.epoch);
    }
    assert.equal(epochs.size, 200);
    await store.close();
  });

  test('a long stream trims in O(1) per append and reads by position', async () => {
    const store = new MemoryHistoryStore({ sweepIntervalMs: 0 });
    const big = { size: 1000, ttlMs: 60_000, metaTtlMs: 60_000 };
    let epoch = '';
    for (let i = 0; i < 5000; i++) epoch = (await store.append({ channel: 'c', data, history: big })).position.epoch;
    const r = await store.read({ channel: 'c', since: { offset: 4990, epoch }, limit: 3, reverse: false, metaTtlMs: 60_000 });
    assert.deepEqual(r.publications.map((p) => p.offset), [4991, 4992, 4993]);
    const all = await store.read({ channel: 'c', limit: -1, reverse: false, metaTtlMs: 60_000 });
    assert.equal(all.publications.length, 1000);
    assert.equal(all.publications[0]?.offset, 4001);
    await store.close();
  });
});
