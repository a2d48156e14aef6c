import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ChannelSequencer } from './channel-sequencer.ts';
import { MemoryBroker, MemoryBrokerBus } from './memory-broker.ts';
import { MemoryHistoryStore } from './memory-history-store.ts';
import { Collector, ManualClock, deferred, recordingHandler, runPublisherContract } from './testing/index.ts';
import type { BrokerEvent, Deferred } from './testing/index.ts';
import type { AppendRequest, AppendResult, HistoryStore, ReadRequest, ReadResult } from './history-store.ts';

runPublisherContract('ChannelSequencer over memory adapters', () => {
  const clock = new ManualClock();
  const history = new MemoryHistoryStore({ clock, sweepIntervalMs: 0 });
  const bus = new MemoryBrokerBus();
  const broker = new MemoryBroker({ bus });
  const observer = new MemoryBroker({ bus });
  const publisher = new ChannelSequencer({ history, broker, clock, sweepIntervalMs: 0 });
  return {
    publisher,
    observer,
    history,
    clock: { advance: (ms) => { clock.advance(ms); history.sweep(); publisher.sweep(); } },
    dispose: async () => {
      publisher.close();
      await broker.close();
      await observer.close();
      await history.close();
    },
  };
});

/**
 * A store in front of MemoryHistoryStore whose appends answer later, as a remote shard does:
 * each append is held until the test releases it. Releases happen in offset order (the contract),
 * but with arbitrary delays between them, and reads are answered at once.
 */
class SlowStore implements HistoryStore {
  readonly inner = new MemoryHistoryStore({ sweepIntervalMs: 0 });
  readonly held: Array<{ result: AppendResult; gate: Deferred<void> }> = [];

  async append(req: AppendRequest): Promise<AppendResult> {
    const result = await this.inner.append(req);
    const gate = deferred<void>();
    this.held.push({ result, gate });
    await gate.promise;
    return result;
  }
  read(req: ReadRequest): Promise<ReadResult> {
    return this.inner.read(req);
  }
  remove(channel: string): Promise<void> {
    return this.inner.remove(channel);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

const H = { size: 100, ttlMs: 60_000, metaTtlMs: 600_000 };
const data = new Uint8Array([1]);

describe('ChannelSequencer', () => {
  test('with a slow pipelined store: nothing is delivered before its append resolves, then in offset order', async () => {
    const store = new SlowStore();
    const broker = new MemoryBroker();
    const events = new Collector<BrokerEvent>('deliveries');
    broker.setHandler(recordingHandler(events));
    await broker.subscribe('c');
    const seq = new ChannelSequencer({ history: store, broker, sweepIntervalMs: 0 });
    const results = Array.from({ length: 10 }, () => seq.publish({ channel: 'c', data, history: H }));
    // All ten appends are in flight at once.
    await new Promise<void>((resolve) => setImmediate(resolve));
    assert.equal(store.held.length, 10);
    assert.equal(events.length, 0, 'nothing delivered while every append is pending');
    for (const [i, h] of store.held.entries()) {
      h.gate.resolve();
      await events.waitFor(i + 1);
      assert.equal(events.length, i + 1, 'exactly one delivery per resolved append');
    }
    assert.deepEqual((await Promise.all(results)).map((r) => r.offset), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.deepEqual(events.items.map((e) => (e.kind === 'pub' ? e.pub.offset : -1)), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    seq.close();
    await broker.close();
    await store.close();
  });

  test('a failed append rejects and delivers nothing', async () => {
    const broker = new MemoryBroker();
    const events = new Collector<BrokerEvent>('deliveries');
    broker.setHandler(recordingHandler(events));
    await broker.subscribe('c');
    const failing: HistoryStore = {
      append: () => Promise.reject(new Error('shard unavailable')),
      read: () => Promise.reject(new Error('unused')),
      remove: () => Promise.resolve(),
      close: () => Promise.resolve(),
    };
    const seq = new ChannelSequencer({ history: failing, broker, sweepIntervalMs: 0 });
    await assert.rejects(seq.publish({ channel: 'c', data, history: H }), /shard unavailable/);
    broker.publish('c', { offset: 77, data }, '');
    await events.waitForMatch((e) => e.kind === 'pub' && e.pub.offset === 77, 'the fence');
    assert.equal(events.length, 1, 'only the fence arrived');
    seq.close();
    await broker.close();
  });

  test('a stored publication is acknowledged even when the broker is gone; the error is reported', async () => {
    const store = new MemoryHistoryStore({ sweepIntervalMs: 0 });
    const broker = new MemoryBroker();
    await broker.close();
    const errors: unknown[] = [];
    const seq = new ChannelSequencer({ history: store, broker, sweepIntervalMs: 0, onError: (e) => errors.push(e) });
    const r = await seq.publish({ channel: 'c', data, history: H });
    assert.equal(r.offset, 1);
    assert.equal(errors.length, 1);
    // Without history nothing is stored, so a closed broker means "not accepted".
    await assert.rejects(seq.publish({ channel: 'c', data, idempotencyKey: 'k' }), /closed/);
    seq.close();
    await store.close();
  });

  test('a publish without history that failed does not burn its idempotency key', async () => {
    const bus = new MemoryBrokerBus();
    const closed = new MemoryBroker({ bus });
    await closed.close();
    const seq = new ChannelSequencer({ history: new MemoryHistoryStore({ sweepIntervalMs: 0 }), broker: closed, sweepIntervalMs: 0 });
    await assert.rejects(seq.publish({ channel: 'c', data, idempotencyKey: 'k' }));
    assert.equal(seq.idempotencyChannelCount, 0);
    seq.close();
  });

  test('the no-history idempotency cache is bounded per channel and swept', async () => {
    const clock = new ManualClock();
    const broker = new MemoryBroker();
    const events = new Collector<BrokerEvent>('deliveries');
    broker.setHandler(recordingHandler(events));
    await broker.subscribe('c');
    const seq = new ChannelSequencer({ history: new MemoryHistoryStore({ sweepIntervalMs: 0 }), broker, clock, sweepIntervalMs: 0, maxIdempotencyKeysPerChannel: 2 });
    for (const k of ['a', 'b', 'c']) await seq.publish({ channel: 'c', data, idempotencyKey: k, idempotencyTtlMs: 1_000 });
    await seq.publish({ channel: 'c', data, idempotencyKey: 'a', idempotencyTtlMs: 1_000 }); // evicted: delivered again
    await seq.publish({ channel: 'c', data, idempotencyKey: 'c', idempotencyTtlMs: 1_000 }); // remembered: dropped
    await events.waitFor(4);
    for (let i = 0; i < 100; i++) await seq.publish({ channel: `other${i}`, data, idempotencyKey: 'k', idempotencyTtlMs: 1_000 });
    assert.equal(seq.idempotencyChannelCount, 101);
    clock.advance(1_001);
    seq.sweep();
    assert.equal(seq.idempotencyChannelCount, 0);
    broker.publish('c', { offset: 77, data }, '');
    await events.waitForMatch((e) => e.kind === 'pub' && e.pub.offset === 77, 'the fence');
    assert.equal(events.length, 5, 'the remembered key "c" was not delivered twice');
    seq.close();
    await broker.close();
  });
});
