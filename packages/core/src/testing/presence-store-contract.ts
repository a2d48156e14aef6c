// The PresenceStore contract suite (presence-store.ts), run against every implementation.
// Each test gets a fresh fixture and unique channel names; time moves only through the fixture's
// clock and no assertion sits exactly on a TTL boundary.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClientInfo } from '../types.ts';
import { bytes, text, uniqueChannel, withFixture } from './fixtures.ts';
import type { Factory, PresenceStoreFixture } from './fixtures.ts';

const TTL = 60_000;

function info(client: string, user: string): ClientInfo {
  return { client, user };
}

export function runPresenceStoreContract(name: string, factory: Factory<PresenceStoreFixture>): void {
  const it = (title: string, body: (f: PresenceStoreFixture) => Promise<void>): void => {
    test(title, () => withFixture(factory, body));
  };

  describe(`PresenceStore contract: ${name}`, () => {
    it('an unknown channel has no entries and zero stats', async ({ store }) => {
      const ch = uniqueChannel();
      assert.equal((await store.get(ch)).size, 0);
      assert.deepEqual(await store.stats(ch), { numClients: 0, numUsers: 0 });
      await store.remove(ch, 'nobody'); // removing an unknown entry is not an error
    });

    it('get returns added entries keyed by client id with their info', async ({ store }) => {
      const ch = uniqueChannel();
      await store.add(ch, { client: 'c1', user: 'u1', connInfo: bytes('{"n":1}'), chanInfo: bytes('{"c":2}') }, TTL);
      await store.add(ch, info('c2', ''), TTL);
      const got = await store.get(ch);
      assert.deepEqual([...got.keys()].sort(), ['c1', 'c2']);
      const c1 = got.get('c1');
      assert.equal(c1?.user, 'u1');
      assert.equal(c1?.client, 'c1');
      assert.equal(text(c1?.connInfo ?? new Uint8Array()), '{"n":1}');
      assert.equal(text(c1?.chanInfo ?? new Uint8Array()), '{"c":2}');
      assert.equal(got.get('c2')?.user, '');
    });

    it('channels are independent', async ({ store }) => {
      const a = uniqueChannel();
      const b = `${a}.*`;
      await store.add(a, info('c1', 'u1'), TTL);
      await store.add(b, info('c2', 'u2'), TTL);
      assert.deepEqual([...(await store.get(a)).keys()], ['c1']);
      assert.deepEqual([...(await store.get(b)).keys()], ['c2']);
    });

    it('an entry disappears ttl after its last add', async ({ store, clock }) => {
      const ch = uniqueChannel();
      await store.add(ch, info('c1', 'u1'), 1_000);
      await store.add(ch, info('c2', 'u2'), 5_000);
      await clock.advance(999);
      assert.equal((await store.get(ch)).size, 2);
      await clock.advance(2);
      assert.deepEqual([...(await store.get(ch)).keys()], ['c2']);
      assert.deepEqual(await store.stats(ch), { numClients: 1, numUsers: 1 });
      await clock.advance(4_000);
      assert.equal((await store.get(ch)).size, 0);
      assert.deepEqual(await store.stats(ch), { numClients: 0, numUsers: 0 });
    });

    it('a repeated add refreshes the TTL and replaces the info', async ({ store, clock }) => {
      const ch = uniqueChannel();
      await store.add(ch, { client: 'c1', user: 'u1', chanInfo: bytes('"old"') }, 1_000);
      await clock.advance(600);
      await store.add(ch, { client: 'c1', user: 'u1', chanInfo: bytes('"new"') }, 1_000);
      await clock.advance(600); // 1 200 ms after the first add, 600 ms after the refresh
      const got = await store.get(ch);
      assert.equal(got.size, 1);
      assert.equal(text(got.get('c1')?.chanInfo ?? new Uint8Array()), '"new"');
      await clock.advance(401);
      assert.equal((await store.get(ch)).size, 0);
    });

    it('an entry expired before it is re-added comes back', async ({ store, clock }) => {
      const ch = uniqueChannel();
      await store.add(ch, info('c1', 'u1'), 1_000);
      await clock.advance(1_001);
      assert.equal((await store.get(ch)).size, 0);
      await store.add(ch, info('c1', 'u1'), 1_000);
      assert.deepEqual([...(await store.get(ch)).keys()], ['c1']);
    });

    it('remove deletes an entry at once', async ({ store }) => {
      const ch = uniqueChannel();
      await store.add(ch, info('c1', 'u1'), TTL);
      await store.add(ch, info('c2', 'u1'), TTL);
      await store.remove(ch, 'c1');
      assert.deepEqual([...(await store.get(ch)).keys()], ['c2']);
      assert.deepEqual(await store.stats(ch), { numClients: 1, numUsers: 1 });
      await store.remove(ch, 'c2');
      assert.equal((await store.get(ch)).size, 0);
      await store.add(ch, info('c1', 'u1'), TTL);
      assert.equal((await store.get(ch)).size, 1, 'a channel emptied by remove accepts new entries');
    });

    it('stats count live clients and distinct users, anonymous users as one', async ({ store }) => {
      const ch = uniqueChannel();
      await store.add(ch, info('c1', 'u1'), TTL);
      await store.add(ch, info('c2', 'u1'), TTL);
      await store.add(ch, info('c3', 'u2'), TTL);
      await store.add(ch, info('c4', ''), TTL);
      await store.add(ch, info('c5', ''), TTL);
      await store.add(ch, info('c1', 'u1'), TTL); // refresh: not a new client
      assert.deepEqual(await store.stats(ch), { numClients: 5, numUsers: 3 });
      await store.remove(ch, 'c3');
      assert.deepEqual(await store.stats(ch), { numClients: 4, numUsers: 2 });
    });
  });
}
