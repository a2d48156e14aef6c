// The Broker contract suite (broker.ts), run against every implementation. A fixture provides
// broker "nodes" on one network; tests subscribe on one node and publish on another (and on the
// same node), then wait for deliveries with deadlines. To show that something was NOT delivered,
// a test publishes a marker after it on the same channel (per-channel order makes the marker a
// fence) or on another channel from the same publisher node.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Broker, BrokerHandler } from '../broker.ts';
import type { ClientInfo, Publication } from '../types.ts';
import { Collector } from './latch.ts';
import { bytes, text, uniqueChannel, withFixture } from './fixtures.ts';
import type { BrokerFixture, Factory } from './fixtures.ts';

export type BrokerEvent =
  | { kind: 'pub'; channel: string; pub: Publication; epoch: string }
  | { kind: 'join' | 'leave'; channel: string; info: ClientInfo };

/** A handler that records every event into a collector. */
export function recordingHandler(events: Collector<BrokerEvent>, onEvent?: (e: BrokerEvent) => void): BrokerHandler {
  const push = (e: BrokerEvent) => {
    events.push(e);
    onEvent?.(e);
  };
  return {
    onPublication: (channel, pub, epoch) => push({ kind: 'pub', channel, pub, epoch }),
    onJoin: (channel, info) => push({ kind: 'join', channel, info }),
    onLeave: (channel, info) => push({ kind: 'leave', channel, info }),
  };
}

function pub(offset: number, payload: string): Publication {
  return { offset, data: bytes(payload) };
}

const payloads = (events: BrokerEvent[]): string[] => events.map((e) => (e.kind === 'pub' ? text(e.pub.data) : `${e.kind}:${e.info.client}`));

export function runBrokerContract(name: string, factory: Factory<BrokerFixture>): void {
  const it = (title: string, body: (f: BrokerFixture) => Promise<void>): void => {
    test(title, () => withFixture(factory, body));
  };

  async function node(f: BrokerFixture, events?: Collector<BrokerEvent>, onEvent?: (e: BrokerEvent) => void): Promise<Broker> {
    const b = await f.newNode();
    b.setHandler(recordingHandler(events ?? new Collector<BrokerEvent>('events'), onEvent));
    return b;
  }

  describe(`Broker contract: ${name}`, () => {
    it('delivers a channel\'s publications in each publisher\'s order, from another node and from itself', async (f) => {
      // The contract orders events per publisher, not across publishers: two nodes publishing at
      // once may interleave (separate NATS connections are read independently by the server).
      const events = new Collector<BrokerEvent>('publications');
      const sub = await node(f, events);
      const pubNode = await node(f);
      const ch = uniqueChannel();
      await sub.subscribe(ch);
      for (let i = 1; i <= 200; i++) pubNode.publish(ch, pub(i, `m${i}`), 'epoch123');
      for (let i = 201; i <= 210; i++) sub.publish(ch, pub(i, `m${i}`), 'epoch123');
      const got = await events.waitFor(210);
      const offsets = got.map((e) => (e.kind === 'pub' ? e.pub.offset : -1));
      assert.deepEqual(
        offsets.filter((o) => o <= 200),
        Array.from({ length: 200 }, (_, i) => i + 1),
        'the other node\'s publications in its order',
      );
      assert.deepEqual(
        offsets.filter((o) => o > 200),
        Array.from({ length: 10 }, (_, i) => i + 201),
        'the node\'s own publications in its order',
      );
      assert.ok(got.every((e) => e.kind === 'pub' && e.channel === ch && e.epoch === 'epoch123'));
    });

    it('delivers to every subscribed node', async (f) => {
      const a = new Collector<BrokerEvent>('events on a');
      const b = new Collector<BrokerEvent>('events on b');
      const na = await node(f, a);
      const nb = await node(f, b);
      const publisher = await node(f);
      const ch = uniqueChannel();
      await na.subscribe(ch);
      await nb.subscribe(ch);
      publisher.publish(ch, pub(1, 'hello'), 'e');
      publisher.publishJoin(ch, { user: 'u', client: 'c' });
      assert.deepEqual(payloads(await a.waitFor(2)), ['hello', 'join:c']);
      assert.deepEqual(payloads(await b.waitFor(2)), ['hello', 'join:c']);
    });

    it('an event published after subscribe() resolved is delivered', async (f) => {
      const events = new Collector<BrokerEvent>('events');
      const sub = await node(f, events);
      const publisher = await node(f);
      const ch = uniqueChannel();
      await sub.subscribe(ch);
      publisher.publish(ch, pub(1, 'first'), 'e');
      const [e] = await events.waitFor(1);
      assert.equal(e?.kind === 'pub' && text(e.pub.data), 'first');
    });

    it('delivers only the channels a node subscribed to, with injective channel names', async (f) => {
      const events = new Collector<BrokerEvent>('events');
      const sub = await node(f, events);
      const publisher = await node(f);
      const base = uniqueChannel();
      const subscribed = [`${base}.a`, `${base}.*`, `${base} x`, `${base}:ü`];
      const others = [`${base}.b`, `${base}.>`, `${base}_a`, `${base}`, `${base}.a.b`, `${base}  x`, `${base}:u`];
      for (const ch of subscribed) await sub.subscribe(ch);
      for (const ch of others) publisher.publish(ch, pub(1, `other ${ch}`), '');
      for (const ch of subscribed) publisher.publish(ch, pub(1, `mine ${ch}`), '');
      await events.waitFor(subscribed.length);
      // One more round trip on a subscribed channel: everything published before it has arrived.
      publisher.publish(subscribed[0] as string, pub(2, 'fence'), '');
      await events.waitForMatch((e) => e.kind === 'pub' && text(e.pub.data) === 'fence', 'fence');
      const got = events.items.filter((e) => e.kind === 'pub' && text(e.pub.data) !== 'fence');
      assert.deepEqual(
        got.map((e) => e.channel).sort(),
        [...subscribed].sort(),
      );
      assert.ok(got.every((e) => e.kind === 'pub' && text(e.pub.data) === `mine ${e.channel}`));
    });

    it('after unsubscribe() resolved nothing more of that channel is delivered', async (f) => {
      const events = new Collector<BrokerEvent>('events');
      const sub = await node(f, events);
      const publisher = await node(f);
      const ch = uniqueChannel();
      const fence = uniqueChannel();
      await sub.subscribe(ch);
      await sub.subscribe(fence);
      publisher.publish(ch, pub(1, 'before'), 'e');
      await events.waitFor(1);
      await sub.unsubscribe(ch);
      publisher.publish(ch, pub(2, 'after'), 'e');
      publisher.publishJoin(ch, { user: 'u', client: 'after-join' });
      publisher.publish(fence, pub(1, 'fence'), 'e');
      await events.waitForMatch((e) => e.channel === fence, 'the fence publication');
      assert.deepEqual(payloads(events.items), ['before', 'fence']);
      // Subscribing again works.
      await sub.subscribe(ch);
      publisher.publish(ch, pub(3, 'again'), 'e');
      await events.waitForMatch((e) => e.kind === 'pub' && text(e.pub.data) === 'again', 'the publication after resubscribe');
    });

    it('subscribing twice keeps one subscription: each event arrives once', async (f) => {
      const events = new Collector<BrokerEvent>('events');
      const sub = await node(f, events);
      const publisher = await node(f);
      const ch = uniqueChannel();
      await sub.subscribe(ch);
      await sub.subscribe(ch);
      publisher.publish(ch, pub(1, 'one'), 'e');
      publisher.publish(ch, pub(2, 'fence'), 'e');
      await events.waitForMatch((e) => e.kind === 'pub' && text(e.pub.data) === 'fence', 'fence');
      assert.deepEqual(payloads(events.items), ['one', 'fence']);
      await sub.unsubscribe(ch);
      const fence = uniqueChannel();
      await sub.subscribe(fence);
      publisher.publish(ch, pub(3, 'gone'), 'e');
      publisher.publish(fence, pub(1, 'fence2'), 'e');
      await events.waitForMatch((e) => e.channel === fence, 'fence2');
      assert.deepEqual(payloads(events.items), ['one', 'fence', 'fence2'], 'one unsubscribe ends it');
    });

    it('carries join and leave with their client info, in order with publications', async (f) => {
      const events = new Collector<BrokerEvent>('events');
      const sub = await node(f, events);
      const publisher = await node(f);
      const ch = uniqueChannel();
      await sub.subscribe(ch);
      const who: ClientInfo = { user: 'u1', client: 'c1', connInfo: bytes('{"x":1}'), chanInfo: bytes('{"y":2}') };
      publisher.publishJoin(ch, who);
      publisher.publish(ch, pub(1, 'between'), 'e');
      publisher.publishLeave(ch, { user: '', client: 'c2' });
      const got = await events.waitFor(3);
      assert.deepEqual(payloads(got), ['join:c1', 'between', 'leave:c2']);
      const join = got[0];
      assert.ok(join && join.kind === 'join');
      assert.equal(join.info.user, 'u1');
      assert.equal(text(join.info.connInfo ?? new Uint8Array()), '{"x":1}');
      assert.equal(text(join.info.chanInfo ?? new Uint8Array()), '{"y":2}');
      const leave = got[2];
      assert.ok(leave && leave.kind === 'leave');
      assert.equal(leave.info.user, '');
    });

    it('keeps binary data, info, tags, time and an empty epoch', async (f) => {
      const events = new Collector<BrokerEvent>('events');
      const sub = await node(f, events);
      const publisher = await node(f);
      const ch = uniqueChannel();
      await sub.subscribe(ch);
      const data = new Uint8Array([0, 255, 10, 13, 34, 92, 0x80]);
      publisher.publish(
        ch,
        { offset: 0, data, info: { user: 'u', client: 'c', chanInfo: bytes('1') }, tags: { a: 'b', 'c d': 'é' }, time: 1_767_225_600_123 },
        '',
      );
      publisher.publish(ch, { offset: 7, data: new Uint8Array(0) }, 'abcdefgh');
      const [e1, e2] = await events.waitFor(2);
      assert.ok(e1 && e1.kind === 'pub' && e2 && e2.kind === 'pub');
      assert.deepEqual(Array.from(e1.pub.data), Array.from(data));
      assert.equal(e1.pub.offset, 0);
      assert.equal(e1.epoch, '');
      assert.equal(e1.pub.info?.client, 'c');
      assert.equal(text(e1.pub.info?.chanInfo ?? new Uint8Array()), '1');
      assert.deepEqual({ ...e1.pub.tags }, { a: 'b', 'c d': 'é' });
      assert.equal(e1.pub.time, 1_767_225_600_123);
      assert.equal(e2.pub.offset, 7);
      assert.equal(e2.pub.data.length, 0);
      assert.equal(e2.epoch, 'abcdefgh');
    });

    it('never calls a handler inside publish(), even when the handler publishes', async (f) => {
      let inPublish = false;
      let reentered = false;
      const ch = uniqueChannel();
      let sub: Broker | null = null;
      const events = new Collector<BrokerEvent>('events');
      sub = await node(f, events, (e) => {
        if (inPublish) reentered = true;
        // A handler that publishes in reaction (as a gateway might) must not recurse.
        if (e.kind === 'pub' && e.pub.offset < 5) {
          inPublish = true;
          sub?.publish(ch, pub(e.pub.offset + 1, `echo${e.pub.offset + 1}`), 'e');
          inPublish = false;
        }
      });
      await sub.subscribe(ch);
      inPublish = true;
      sub.publish(ch, pub(1, 'echo1'), 'e');
      sub.publishJoin(ch, { user: 'u', client: 'c' });
      inPublish = false;
      await events.waitFor(6);
      assert.equal(reentered, false, 'a handler ran inside publish()');
      assert.deepEqual(payloads(events.items.filter((e) => e.kind === 'pub')), ['echo1', 'echo2', 'echo3', 'echo4', 'echo5']);
    });

    it('publish throws after close and a closed node receives nothing', async (f) => {
      const events = new Collector<BrokerEvent>('events');
      const closing = await node(f, events);
      const fenceEvents = new Collector<BrokerEvent>('fence events');
      const watcher = await node(f, fenceEvents);
      const publisher = await node(f);
      const ch = uniqueChannel();
      await closing.subscribe(ch);
      await watcher.subscribe(ch);
      await closing.close();
      assert.throws(() => closing.publish(ch, pub(1, 'x'), 'e'));
      assert.throws(() => closing.publishJoin(ch, { user: 'u', client: 'c' }));
      publisher.publish(ch, pub(1, 'after close'), 'e');
      await fenceEvents.waitFor(1);
      assert.equal(events.length, 0);
    });
  });
}
