// The Publisher contract suite (publisher.ts), run against every implementation: the
// ChannelSequencer over memory adapters here, the api's router over NATS and history shards in
// the cluster. Deliveries are observed through a broker node on the publisher's network; "stored
// before delivered" is checked by reading history from inside the delivery callback.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { PublishRequest } from '../publisher.ts';
import type { HistoryOptions, Publication } from '../types.ts';
import type { ReadResult } from '../history-store.ts';
import { Collector } from './latch.ts';
import { recordingHandler } from './broker-contract.ts';
import type { BrokerEvent } from './broker-contract.ts';
import { bytes, text, uniqueChannel, withFixture } from './fixtures.ts';
import type { Factory, PublisherFixture } from './fixtures.ts';

const HISTORY: HistoryOptions = { size: 1000, ttlMs: 60_000, metaTtlMs: 600_000 };

type PubEvent = Extract<BrokerEvent, { kind: 'pub' }>;

function req(channel: string, payload: string, extra: Partial<PublishRequest> = {}): PublishRequest {
  return { channel, data: bytes(payload), ...extra };
}

const isPub = (e: BrokerEvent): e is PubEvent => e.kind === 'pub';

export function runPublisherContract(name: string, factory: Factory<PublisherFixture>): void {
  const it = (title: string, body: (f: PublisherFixture) => Promise<void>): void => {
    test(title, () => withFixture(factory, body));
  };

  /** Subscribes the observer to `channels` and returns the collector of their publications. */
  async function observe(f: PublisherFixture, channels: string[], onPub?: (e: PubEvent) => void): Promise<Collector<PubEvent>> {
    const pubs = new Collector<PubEvent>('deliveries');
    const all = new Collector<BrokerEvent>('events');
    f.observer.setHandler(
      recordingHandler(all, (e) => {
        if (!isPub(e)) return;
        onPub?.(e);
        pubs.push(e);
      }),
    );
    for (const ch of channels) await f.observer.subscribe(ch);
    return pubs;
  }

  async function fence(f: PublisherFixture, pubs: Collector<PubEvent>, channel: string, history?: HistoryOptions): Promise<void> {
    const marker = `fence-${Math.random()}`;
    await f.publisher.publish(req(channel, marker, { history }));
    await pubs.waitForMatch((e) => e.channel === channel && text(e.pub.data) === marker, `fence on ${channel}`);
  }

  describe(`Publisher contract: ${name}`, () => {
    it('with history: offsets from 1 in one epoch, stored before delivered, delivered in offset order', async (f) => {
      const ch = uniqueChannel();
      const reads: Array<{ offset: number; read: Promise<ReadResult> }> = [];
      const pubs = await observe(f, [ch], (e) => {
        // Runs inside delivery: the publication must already be readable from history.
        reads.push({
          offset: e.pub.offset,
          read: f.history.read({ channel: ch, since: { offset: e.pub.offset - 1, epoch: e.epoch }, limit: 1, reverse: false, metaTtlMs: HISTORY.metaTtlMs }),
        });
      });
      const results = [];
      for (let i = 1; i <= 20; i++) results.push(await f.publisher.publish(req(ch, `m${i}`, { history: HISTORY })));
      assert.deepEqual(results.map((r) => r.offset), Array.from({ length: 20 }, (_, i) => i + 1));
      const epoch = results[0]?.epoch ?? '';
      assert.ok(epoch.length > 0);
      assert.ok(results.every((r) => r.epoch === epoch));
      const got = await pubs.waitFor(20);
      assert.deepEqual(got.map((e) => e.pub.offset), Array.from({ length: 20 }, (_, i) => i + 1));
      assert.deepEqual(got.map((e) => text(e.pub.data)), Array.from({ length: 20 }, (_, i) => `m${i + 1}`));
      assert.ok(got.every((e) => e.epoch === epoch));
      for (const { offset, read } of reads) {
        const r = await read;
        assert.deepEqual(r.publications.map((p: Publication) => p.offset), [offset], `publication ${offset} was readable when delivered`);
      }
    });

    it('concurrent publishes get distinct offsets and are delivered in offset order', async (f) => {
      const ch = uniqueChannel();
      const other = uniqueChannel();
      const pubs = await observe(f, [ch, other]);
      const n = 60;
      const results = await Promise.all(
        Array.from({ length: n }, (_, i) =>
          f.publisher.publish(req(i % 3 === 2 ? other : ch, `m${i}`, { history: HISTORY })).then((r) => ({ i, r })),
        ),
      );
      const mine = results.filter(({ i }) => i % 3 !== 2);
      assert.deepEqual(mine.map(({ r }) => r.offset).sort((a, b) => a - b), Array.from({ length: mine.length }, (_, k) => k + 1));
      await pubs.waitFor(n);
      const delivered = pubs.items.filter((e) => e.channel === ch);
      assert.deepEqual(delivered.map((e) => e.pub.offset), Array.from({ length: mine.length }, (_, k) => k + 1));
      const byOffset = new Map(mine.map(({ i, r }) => [r.offset, `m${i}`]));
      assert.ok(delivered.every((e) => byOffset.get(e.pub.offset) === text(e.pub.data)), 'each offset carries the data it was assigned to');
      const otherDelivered = pubs.items.filter((e) => e.channel === other);
      assert.deepEqual(otherDelivered.map((e) => e.pub.offset), Array.from({ length: n - mine.length }, (_, k) => k + 1));
    });

    it('without history: delivered with offset 0 and epoch "", result {0, ""}', async (f) => {
      const ch = uniqueChannel();
      const pubs = await observe(f, [ch]);
      const r1 = await f.publisher.publish(req(ch, '{"a":1}'));
      const r2 = await f.publisher.publish(req(ch, '{"a":2}'));
      assert.deepEqual(r1, { offset: 0, epoch: '' });
      assert.deepEqual(r2, { offset: 0, epoch: '' });
      const got = await pubs.waitFor(2);
      assert.deepEqual(got.map((e) => [e.pub.offset, e.epoch, text(e.pub.data)]), [
        [0, '', '{"a":1}'],
        [0, '', '{"a":2}'],
      ]);
    });

    it('keeps data, info and tags on delivery', async (f) => {
      const ch = uniqueChannel();
      const pubs = await observe(f, [ch]);
      const data = new Uint8Array([0, 1, 255, 10]);
      await f.publisher.publish({ channel: ch, data, info: { user: 'u1', client: 'c1', chanInfo: bytes('{"k":1}') }, tags: { t: 'v' }, history: HISTORY });
      const [e] = await pubs.waitFor(1);
      assert.ok(e);
      assert.deepEqual(Array.from(e.pub.data), Array.from(data));
      assert.equal(e.pub.info?.user, 'u1');
      assert.equal(e.pub.info?.client, 'c1');
      assert.equal(text(e.pub.info?.chanInfo ?? new Uint8Array()), '{"k":1}');
      assert.deepEqual({ ...e.pub.tags }, { t: 'v' });
    });

    for (const withHistory of [true, false]) {
      const label = withHistory ? 'with history' : 'without history';
      const history = withHistory ? HISTORY : undefined;

      it(`${label}: a repeated idempotency key within the window returns the first result and delivers nothing`, async (f) => {
        const ch = uniqueChannel();
        const pubs = await observe(f, [ch]);
        const first = await f.publisher.publish(req(ch, 'once', { history, idempotencyKey: 'key-1', idempotencyTtlMs: 10_000 }));
        await f.clock.advance(9_000);
        const again = await f.publisher.publish(req(ch, 'twice', { history, idempotencyKey: 'key-1', idempotencyTtlMs: 10_000 }));
        assert.deepEqual(again, first);
        await fence(f, pubs, ch, history);
        assert.deepEqual(pubs.items.map((e) => text(e.pub.data)).slice(0, -1), ['once']);
        if (withHistory) {
          const r = await f.history.read({ channel: ch, limit: -1, reverse: false, metaTtlMs: HISTORY.metaTtlMs });
          assert.deepEqual(r.publications.map((p) => text(p.data)).slice(0, -1), ['once'], 'the duplicate was not stored');
        }
      });

      it(`${label}: an idempotency key is accepted again after its window`, async (f) => {
        const ch = uniqueChannel();
        const pubs = await observe(f, [ch]);
        await f.publisher.publish(req(ch, 'first', { history, idempotencyKey: 'k', idempotencyTtlMs: 10_000 }));
        await f.clock.advance(10_001);
        const second = await f.publisher.publish(req(ch, 'second', { history, idempotencyKey: 'k', idempotencyTtlMs: 10_000 }));
        if (withHistory) assert.equal(second.offset, 2);
        const got = await pubs.waitFor(2);
        assert.deepEqual(got.map((e) => text(e.pub.data)), ['first', 'second']);
      });

      it(`${label}: idempotency keys are per channel`, async (f) => {
        const a = uniqueChannel();
        const b = uniqueChannel();
        const pubs = await observe(f, [a, b]);
        await f.publisher.publish(req(a, 'to a', { history, idempotencyKey: 'same' }));
        await f.publisher.publish(req(b, 'to b', { history, idempotencyKey: 'same' }));
        const got = await pubs.waitFor(2);
        assert.deepEqual(got.map((e) => `${e.channel === a ? 'a' : 'b'}:${text(e.pub.data)}`).sort(), ['a:to a', 'b:to b']);
      });
    }
  });
}
