import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryBroker, MemoryBrokerBus } from './memory-broker.ts';
import { Collector, runBrokerContract, recordingHandler } from './testing/index.ts';
import type { BrokerEvent } from './testing/index.ts';

runBrokerContract('MemoryBroker', () => {
  const bus = new MemoryBrokerBus();
  const nodes: MemoryBroker[] = [];
  return {
    newNode: () => {
      const n = new MemoryBroker({ bus });
      nodes.push(n);
      return n;
    },
    dispose: async () => {
      for (const n of nodes) await n.close();
      assert.equal(bus.channelCount, 0, 'closed nodes leave no subscriptions behind');
    },
  };
});

describe('MemoryBroker', () => {
  test('a throwing handler is reported and the other deliveries continue', async () => {
    const errors: unknown[] = [];
    const broker = new MemoryBroker({ onHandlerError: (e) => errors.push(e) });
    const events = new Collector<BrokerEvent>('events');
    const record = recordingHandler(events);
    broker.setHandler({
      ...record,
      onPublication: (ch, pub, epoch) => {
        if (pub.offset === 1) throw new Error('boom');
        record.onPublication(ch, pub, epoch);
      },
    });
    await broker.subscribe('c');
    broker.publish('c', { offset: 1, data: new Uint8Array() }, 'e');
    broker.publish('c', { offset: 2, data: new Uint8Array() }, 'e');
    await events.waitFor(1);
    assert.equal(errors.length, 1);
    assert.match(String(errors[0]), /boom/);
    await broker.close();
  });

  test('unsubscribe between publish and delivery drops the queued event', async () => {
    const broker = new MemoryBroker();
    const events = new Collector<BrokerEvent>('events');
    broker.setHandler(recordingHandler(events));
    await broker.subscribe('c');
    await broker.subscribe('fence');
    broker.publish('c', { offset: 1, data: new Uint8Array() }, 'e');
    await broker.unsubscribe('c');
    broker.publish('fence', { offset: 1, data: new Uint8Array() }, 'e');
    await events.waitFor(1);
    assert.deepEqual(events.items.map((e) => e.channel), ['fence']);
    await broker.close();
  });
});
