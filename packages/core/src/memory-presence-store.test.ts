import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryPresenceStore } from './memory-presence-store.ts';
import { ManualClock, runPresenceStoreContract } from './testing/index.ts';

runPresenceStoreContract('MemoryPresenceStore (sweep after every clock move)', () => {
  const clock = new ManualClock();
  const store = new MemoryPresenceStore({ clock, sweepIntervalMs: 0 });
  return {
    store,
    clock: { advance: (ms) => { clock.advance(ms); store.sweep(); } },
    dispose: () => store.close(),
  };
});

runPresenceStoreContract('MemoryPresenceStore (never swept)', () => {
  const clock = new ManualClock();
  const store = new MemoryPresenceStore({ clock, sweepIntervalMs: 0 });
  return { store, clock, dispose: () => store.close() };
});

describe('MemoryPresenceStore', () => {
  test('the sweep frees expired entries and empty channels', async () => {
    const clock = new ManualClock();
    const store = new MemoryPresenceStore({ clock, sweepIntervalMs: 0 });
    for (let i = 0; i < 500; i++) await store.add(`ch${i}`, { client: `c${i}`, user: 'u' }, 1_000);
    await store.add('kept', { client: 'k', user: 'u' }, 10_000);
    assert.equal(store.channelCount, 501);
    clock.advance(1_001);
    store.sweep();
    assert.equal(store.channelCount, 1);
    assert.deepEqual(await store.stats('kept'), { numClients: 1, numUsers: 1 });
    await store.close();
    await assert.rejects(store.add('x', { client: 'c', user: '' }, 1), /closed/);
  });
});
