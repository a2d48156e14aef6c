// The HistoryStore contract suite (history-store.ts, PROTOCOL.md §4.5/§4.7), run against every
// implementation: `runHistoryStoreContract('memory', () => ({ store, clock, dispose }))`.
// Each test gets a fresh fixture and unique channel names. Time moves only through the fixture's
// clock, and no assertion sits on a retention boundary (always "boundary ± 1 ms").
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AppendRequest, HistoryStore, ReadRequest } from '../history-store.ts';
import type { HistoryOptions, Publication } from '../types.ts';
import { bytes, text, uniqueChannel, withFixture } from './fixtures.ts';
import type { Factory, HistoryStoreFixture } from './fixtures.ts';

const HISTORY: HistoryOptions = { size: 100, ttlMs: 60_000, metaTtlMs: 600_000 };

function appendReq(channel: string, payload: string, extra: Partial<AppendRequest> = {}): AppendRequest {
  return { channel, data: bytes(payload), history: HISTORY, ...extra };
}

function readReq(channel: string, extra: Partial<ReadRequest> = {}): ReadRequest {
  return { channel, limit: -1, reverse: false, metaTtlMs: HISTORY.metaTtlMs, ...extra };
}

async function appendMany(store: HistoryStore, channel: string, n: number, history = HISTORY): Promise<string> {
  let epoch = '';
  for (let i = 1; i <= n; i++) {
    const r = await store.append({ channel, data: bytes(`m${i}`), history });
    epoch = r.position.epoch;
  }
  return epoch;
}

const offsets = (pubs: Publication[]): number[] => pubs.map((p) => p.offset);

export function runHistoryStoreContract(name: string, factory: Factory<HistoryStoreFixture>): void {
  const it = (title: string, body: (f: HistoryStoreFixture) => Promise<void>): void => {
    test(title, () => withFixture(factory, body));
  };

  describe(`HistoryStore contract: ${name}`, () => {
    it('offsets start at 1 and grow by exactly 1 within one epoch', async ({ store }) => {
      const ch = uniqueChannel();
      const results = [];
      for (let i = 0; i < 5; i++) results.push(await store.append(appendReq(ch, `m${i}`)));
      assert.deepEqual(results.map((r) => r.position.offset), [1, 2, 3, 4, 5]);
      assert.deepEqual(results.map((r) => r.publication.offset), [1, 2, 3, 4, 5]);
      const epoch = results[0]?.position.epoch ?? '';
      assert.ok(epoch.length > 0, 'epoch is a non-empty string');
      assert.ok(results.every((r) => r.position.epoch === epoch && !r.duplicate));
      const read = await store.read(readReq(ch));
      assert.deepEqual(read.position, { offset: 5, epoch });
    });

    it('a read of an unknown stream reports offset 0 and creates an epoch the next append keeps', async ({ store }) => {
      const ch = uniqueChannel();
      const first = await store.read(readReq(ch));
      assert.deepEqual(first.publications, []);
      assert.equal(first.position.offset, 0);
      assert.ok(first.position.epoch.length > 0);
      const again = await store.read(readReq(ch));
      assert.deepEqual(again.position, first.position, 'the epoch created by a read is kept');
      const appended = await store.append(appendReq(ch, 'x'));
      assert.deepEqual(appended.position, { offset: 1, epoch: first.position.epoch });
    });

    it('channels have independent streams, whatever characters their names hold', async ({ store }) => {
      const base = uniqueChannel();
      const names = [base, `${base}.x`, `${base}_x`, `${base}.*`, `${base}.>`, `${base} x`, `${base}:ü€😀`, `$${base}#u1,u2`];
      for (const [i, ch] of names.entries()) await appendMany(store, ch, i + 1);
      for (const [i, ch] of names.entries()) {
        const read = await store.read(readReq(ch));
        assert.equal(read.position.offset, i + 1, `top offset of ${JSON.stringify(ch)}`);
        assert.deepEqual(read.publications.map((p) => text(p.data)), Array.from({ length: i + 1 }, (_, k) => `m${k + 1}`));
      }
    });

    it('the epoch stays stable while the meta lives, counted from the last append', async ({ store, clock }) => {
      const ch = uniqueChannel();
      const epoch = await appendMany(store, ch, 2);
      await clock.advance(HISTORY.metaTtlMs - 1000);
      const mid = await store.append(appendReq(ch, 'm3'));
      assert.deepEqual(mid.position, { offset: 3, epoch });
      await clock.advance(HISTORY.metaTtlMs - 1000); // 2*meta - 2 s after the first append
      const read = await store.read(readReq(ch));
      assert.deepEqual(read.position, { offset: 3, epoch }, 'meta lives metaTtl after the last append');
      // The publications themselves are past their TTL by now.
      assert.deepEqual(read.publications, []);
      const next = await store.append(appendReq(ch, 'm4'));
      assert.deepEqual(next.position, { offset: 4, epoch }, 'offsets continue in the same epoch');
    });

    it('a new epoch restarts at offset 1 once the meta expired', async ({ store, clock }) => {
      const ch = uniqueChannel();
      const epoch = await appendMany(store, ch, 3);
      await clock.advance(HISTORY.metaTtlMs + 1);
      const read = await store.read(readReq(ch));
      assert.notEqual(read.position.epoch, epoch);
      assert.ok(read.position.epoch.length > 0);
      assert.equal(read.position.offset, 0);
      assert.deepEqual(read.publications, []);
      const next = await store.append(appendReq(ch, 'again'));
      assert.deepEqual(next.position, { offset: 1, epoch: read.position.epoch });
    });

    it('a new epoch is also started by an append after the meta expired', async ({ store, clock }) => {
      const ch = uniqueChannel();
      const epoch = await appendMany(store, ch, 2);
      await clock.advance(HISTORY.metaTtlMs + 1);
      const next = await store.append(appendReq(ch, 'again'));
      assert.equal(next.position.offset, 1);
      assert.notEqual(next.position.epoch, epoch);
      const read = await store.read(readReq(ch));
      assert.deepEqual(offsets(read.publications), [1]);
      assert.equal(text(read.publications[0]?.data ?? new Uint8Array()), 'again');
    });

    it('keeps at most history size publications, the newest', async ({ store }) => {
      const ch = uniqueChannel();
      const history = { ...HISTORY, size: 3 };
      const epoch = await appendMany(store, ch, 7, history);
      const read = await store.read(readReq(ch));
      assert.deepEqual(offsets(read.publications), [5, 6, 7]);
      assert.deepEqual(read.publications.map((p) => text(p.data)), ['m5', 'm6', 'm7']);
      assert.deepEqual(read.position, { offset: 7, epoch });
    });

    it('does not return publications older than the history TTL', async ({ store, clock }) => {
      const ch = uniqueChannel();
      const epoch = await appendMany(store, ch, 2);
      await clock.advance(HISTORY.ttlMs / 2);
      await store.append(appendReq(ch, 'm3'));
      await clock.advance(HISTORY.ttlMs / 2 + 1); // m1, m2 are ttl + 1 ms old; m3 is ttl/2 + 1 ms old
      const read = await store.read(readReq(ch));
      assert.deepEqual(offsets(read.publications), [3]);
      assert.deepEqual(read.position, { offset: 3, epoch });
      await clock.advance(HISTORY.ttlMs / 2);
      const later = await store.read(readReq(ch));
      assert.deepEqual(later.publications, []);
      assert.deepEqual(later.position, { offset: 3, epoch }, 'the top survives the publications');
    });

    it('forward reads honour limit 0, -1 and n, and start after since', async ({ store }) => {
      const ch = uniqueChannel();
      const epoch = await appendMany(store, ch, 5);
      const read = async (extra: Partial<ReadRequest>) => {
        const r = await store.read(readReq(ch, extra));
        assert.deepEqual(r.position, { offset: 5, epoch }, 'every read reports the current top');
        return offsets(r.publications);
      };
      assert.deepEqual(await read({ limit: 0 }), []);
      assert.deepEqual(await read({ limit: -1 }), [1, 2, 3, 4, 5]);
      assert.deepEqual(await read({ limit: 2 }), [1, 2]);
      assert.deepEqual(await read({ limit: 10 }), [1, 2, 3, 4, 5]);
      assert.deepEqual(await read({ since: { offset: 2, epoch } }), [3, 4, 5]);
      assert.deepEqual(await read({ since: { offset: 2, epoch }, limit: 2 }), [3, 4]);
      assert.deepEqual(await read({ since: { offset: 0, epoch } }), [1, 2, 3, 4, 5]);
      assert.deepEqual(await read({ since: { offset: 4, epoch }, limit: 0 }), []);
      assert.deepEqual(await read({ since: { offset: 5, epoch } }), [], 'since == top returns nothing');
      assert.deepEqual(await read({ since: { offset: 9, epoch } }), [], 'since beyond top returns nothing');
      assert.deepEqual(await read({ since: { offset: 3, epoch: '' } }), [4, 5], 'an empty since.epoch matches');
    });

    it('reverse reads return newest first, before since', async ({ store }) => {
      const ch = uniqueChannel();
      const epoch = await appendMany(store, ch, 5);
      const read = async (extra: Partial<ReadRequest>) => {
        const r = await store.read(readReq(ch, { reverse: true, ...extra }));
        assert.deepEqual(r.position, { offset: 5, epoch });
        return offsets(r.publications);
      };
      assert.deepEqual(await read({ limit: -1 }), [5, 4, 3, 2, 1]);
      assert.deepEqual(await read({ limit: 2 }), [5, 4]);
      assert.deepEqual(await read({ limit: 0 }), []);
      assert.deepEqual(await read({ since: { offset: 4, epoch } }), [3, 2, 1]);
      assert.deepEqual(await read({ since: { offset: 4, epoch }, limit: 2 }), [3, 2]);
      assert.deepEqual(await read({ since: { offset: 1, epoch } }), []);
      assert.deepEqual(await read({ since: { offset: 6, epoch } }), [5, 4, 3, 2, 1]);
    });

    it('a read whose since.epoch differs returns no publications and the current position', async ({ store }) => {
      const ch = uniqueChannel();
      const epoch = await appendMany(store, ch, 3);
      const other = epoch === 'abcdefgh' ? 'hgfedcba' : 'abcdefgh';
      for (const reverse of [false, true]) {
        const r = await store.read(readReq(ch, { since: { offset: 1, epoch: other }, reverse }));
        assert.deepEqual(r.publications, [], `reverse=${reverse}`);
        assert.deepEqual(r.position, { offset: 3, epoch });
      }
    });

    it('a forward read since a trimmed offset starts at the oldest retained publication', async ({ store }) => {
      const ch = uniqueChannel();
      const epoch = await appendMany(store, ch, 6, { ...HISTORY, size: 3 });
      const r = await store.read(readReq(ch, { since: { offset: 1, epoch } }));
      assert.deepEqual(offsets(r.publications), [4, 5, 6], 'the gap 2..3 is visible to the caller');
    });

    it('publications keep their data, info and tags, and get a time', async ({ store }) => {
      const ch = uniqueChannel();
      const data = new Uint8Array([0, 1, 2, 250, 255, 10, 13]);
      const info = { user: 'u1', client: 'c1', connInfo: bytes('{"a":1}'), chanInfo: bytes('{"b":2}') };
      const appended = await store.append({ channel: ch, data, info, tags: { k: 'v', x: 'y' }, history: HISTORY });
      assert.equal(typeof appended.publication.time, 'number');
      const [pub] = (await store.read(readReq(ch))).publications;
      assert.ok(pub);
      assert.deepEqual(Array.from(pub.data), Array.from(data));
      assert.equal(pub.info?.user, 'u1');
      assert.equal(pub.info?.client, 'c1');
      assert.equal(text(pub.info?.connInfo ?? new Uint8Array()), '{"a":1}');
      assert.equal(text(pub.info?.chanInfo ?? new Uint8Array()), '{"b":2}');
      assert.deepEqual({ ...pub.tags }, { k: 'v', x: 'y' });
      assert.equal(pub.time, appended.publication.time);
    });

    it('remove drops the publications and keeps the epoch and top offset', async ({ store }) => {
      const ch = uniqueChannel();
      const epoch = await appendMany(store, ch, 4);
      await store.remove(ch);
      const r = await store.read(readReq(ch));
      assert.deepEqual(r.publications, []);
      assert.deepEqual(r.position, { offset: 4, epoch });
      const next = await store.append(appendReq(ch, 'm5'));
      assert.deepEqual(next.position, { offset: 5, epoch });
      assert.deepEqual(offsets((await store.read(readReq(ch))).publications), [5]);
      await store.remove(uniqueChannel()); // removing an unknown channel is not an error
    });

    it('a repeated idempotency key within the window stores nothing and returns the first result', async ({ store, clock }) => {
      const ch = uniqueChannel();
      const first = await store.append(appendReq(ch, 'a', { idempotencyKey: 'k1', idempotencyTtlMs: 10_000 }));
      await store.append(appendReq(ch, 'b'));
      await clock.advance(9_000);
      const dup = await store.append(appendReq(ch, 'a-again', { idempotencyKey: 'k1', idempotencyTtlMs: 10_000 }));
      assert.equal(first.duplicate, false);
      assert.equal(dup.duplicate, true);
      assert.deepEqual(dup.position, first.position);
      assert.equal(dup.publication.offset, first.publication.offset);
      const r = await store.read(readReq(ch));
      assert.deepEqual(r.publications.map((p) => text(p.data)), ['a', 'b']);
      assert.equal(r.position.offset, 2);
      const other = await store.append(appendReq(ch, 'c', { idempotencyKey: 'k2', idempotencyTtlMs: 10_000 }));
      assert.equal(other.duplicate, false);
      assert.equal(other.position.offset, 3);
    });

    it('idempotency keys are per channel', async ({ store }) => {
      const a = uniqueChannel();
      const b = uniqueChannel();
      const ra = await store.append(appendReq(a, 'x', { idempotencyKey: 'same' }));
      const rb = await store.append(appendReq(b, 'x', { idempotencyKey: 'same' }));
      assert.equal(ra.duplicate, false);
      assert.equal(rb.duplicate, false);
      assert.equal(rb.position.offset, 1);
    });

    it('an idempotency key is accepted again once its window passed', async ({ store, clock }) => {
      const ch = uniqueChannel();
      const first = await store.append(appendReq(ch, 'a', { idempotencyKey: 'k', idempotencyTtlMs: 10_000 }));
      await clock.advance(10_001);
      const again = await store.append(appendReq(ch, 'a2', { idempotencyKey: 'k', idempotencyTtlMs: 10_000 }));
      assert.equal(again.duplicate, false);
      assert.deepEqual(again.position, { offset: 2, epoch: first.position.epoch });
      // ...and the new acceptance opens a new window.
      const dup = await store.append(appendReq(ch, 'a3', { idempotencyKey: 'k', idempotencyTtlMs: 10_000 }));
      assert.equal(dup.duplicate, true);
      assert.equal(dup.position.offset, 2);
    });

    it('concurrent appends to a channel resolve in offset order', async ({ store }) => {
      const ch = uniqueChannel();
      const other = uniqueChannel();
      const resolved: number[] = [];
      const pending = [];
      for (let i = 0; i < 50; i++) {
        pending.push(store.append(appendReq(ch, `m${i}`)).then((r) => resolved.push(r.position.offset)));
        pending.push(store.append(appendReq(other, `o${i}`))); // interleaved traffic on another channel
      }
      await Promise.all(pending);
      assert.deepEqual(resolved, Array.from({ length: 50 }, (_, i) => i + 1));
      const r = await store.read(readReq(ch));
      assert.deepEqual(r.publications.map((p) => text(p.data)), Array.from({ length: 50 }, (_, i) => `m${i}`));
    });
  });
}
