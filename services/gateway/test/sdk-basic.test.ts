// The real centrifuge SDK (JSON and protobuf builds) against the gateway: connect, subscribe,
// publish through the Publisher, presence, join/leave, history, unsubscribe.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Centrifuge } from 'centrifuge';
import { Centrifuge as CentrifugeProtobuf } from 'centrifuge/build/protobuf';
import { Collector, deferred, waitFor } from '@rotor/testkit';
import WebSocket from 'ws';
import { startTestGateway, token } from './harness.ts';

type Sdk = typeof Centrifuge;
const builds: Array<[string, Sdk]> = [
  ['json', Centrifuge],
  ['protobuf', CentrifugeProtobuf as unknown as Sdk],
];

const namespaces = [
  {
    name: 'chat',
    allow_subscribe_for_client: true,
    allow_publish_for_subscriber: true,
    allow_history_for_subscriber: true,
    allow_presence_for_subscriber: true,
    presence: true,
    join_leave: true,
    force_push_join_leave: false,
    history_size: 100,
    history_ttl: '300s',
    allow_recovery: true,
  },
];

/** Publication data as a value: the protobuf build hands out the raw bytes. */
function value(data: unknown): unknown {
  return data instanceof Uint8Array ? JSON.parse(new TextDecoder().decode(data)) : data;
}

for (const [name, Sdk] of builds) {
  test(`${name}: connect, subscribe, receive publications in order, unsubscribe`, async (t) => {
    const g = await startTestGateway({ channel: { namespaces } });
    t.after(() => g.close());
    const client = new Sdk(g.url, { websocket: WebSocket, token: await token({ sub: 'alice' }) });
    t.after(() => client.disconnect());
    const connected = deferred<{ client: string }>();
    client.on('connected', (ctx) => connected.resolve(ctx));
    client.connect();
    const ctx = await connected.promise;
    assert.match(ctx.client, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);

    const sub = client.newSubscription('chat:room');
    const pubs = new Collector<unknown>('publications');
    sub.on('publication', (p) => pubs.push(value(p.data)));
    const subscribed = deferred();
    sub.on('subscribed', () => subscribed.resolve());
    sub.subscribe();
    await subscribed.promise;
    for (let i = 1; i <= 20; i++) await g.publish('chat:room', { n: i });
    const got = await pubs.waitFor(20);
    assert.deepEqual(got, Array.from({ length: 20 }, (_, i) => ({ n: i + 1 })));

    const unsubscribed = deferred();
    sub.on('unsubscribed', () => unsubscribed.resolve());
    sub.unsubscribe();
    await unsubscribed.promise;
    // The SDK reports unsubscribed at once; the gateway drops the channel when the command lands.
    await waitFor(() => g.gateway.metrics.channels === 0, { what: 'the hub to drop the channel' });
    assert.deepEqual([...g.broker.channels], []);
  });

  test(`${name}: client publish, presence, presence stats, join and leave`, async (t) => {
    const g = await startTestGateway({ channel: { namespaces } });
    t.after(() => g.close());
    const alice = new Sdk(g.url, { websocket: WebSocket, token: await token({ sub: 'alice' }) });
    const bob = new Sdk(g.url, { websocket: WebSocket, token: await token({ sub: 'bob' }) });
    t.after(() => {
      alice.disconnect();
      bob.disconnect();
    });
    alice.connect();
    bob.connect();
    const joins = new Collector<string>('joins');
    const leaves = new Collector<string>('leaves');
    const aliceSub = alice.newSubscription('chat:lobby', { joinLeave: true });
    aliceSub.on('join', (j) => joins.push(j.info.user));
    aliceSub.on('leave', (l) => leaves.push(l.info.user));
    const pubs = new Collector<{ data: unknown; user: string | undefined }>('publications');
    aliceSub.on('publication', (p) => pubs.push({ data: value(p.data), user: p.info?.user }));
    aliceSub.subscribe();
    await aliceSub.ready(5000);
    const bobSub = bob.newSubscription('chat:lobby');
    bobSub.subscribe();
    await bobSub.ready(5000);
    await joins.waitForMatch((u) => u === 'bob', 'bob joining');

    // The protobuf build sends bytes as given; the JSON build sends JSON values.
    await bobSub.publish(name === 'json' ? { text: 'hi' } : new TextEncoder().encode('{"text":"hi"}'));
    const pub = await pubs.waitForMatch(() => true, 'a publication');
    assert.deepEqual(pub, { data: { text: 'hi' }, user: 'bob' });

    const presence = await aliceSub.presence();
    const users = Object.values(presence.clients)
      .map((c) => c.user)
      .sort();
    assert.deepEqual(users, ['alice', 'bob']);
    const stats = await aliceSub.presenceStats();
    assert.deepEqual({ clients: stats.numClients, users: stats.numUsers }, { clients: 2, users: 2 });

    bobSub.unsubscribe();
    await leaves.waitForMatch((u) => u === 'bob', 'bob leaving');
    const after = await aliceSub.presenceStats();
    assert.equal(after.numClients, 1);
  });

  test(`${name}: history with limit, since and reverse`, async (t) => {
    const g = await startTestGateway({ channel: { namespaces } });
    t.after(() => g.close());
    for (let i = 1; i <= 10; i++) await g.publish('chat:h', { n: i });
    const client = new Sdk(g.url, { websocket: WebSocket, token: await token({ sub: 'alice' }) });
    t.after(() => client.disconnect());
    client.connect();
    const sub = client.newSubscription('chat:h');
    sub.subscribe();
    await sub.ready(5000);
    const all = await sub.history({ limit: -1 });
    assert.deepEqual(
      all.publications.map((p) => p.offset),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    );
    assert.equal(all.offset, 10);
    const since = await sub.history({ limit: 3, since: { offset: 4, epoch: all.epoch } });
    assert.deepEqual(
      since.publications.map((p) => (value(p.data) as { n: number }).n),
      [5, 6, 7],
    );
    const rev = await sub.history({ limit: 2, reverse: true });
    assert.deepEqual(
      rev.publications.map((p) => p.offset),
      [10, 9],
    );
    const none = await sub.history({ limit: 0 });
    assert.deepEqual({ n: none.publications.length, offset: none.offset, epoch: none.epoch }, { n: 0, offset: 10, epoch: all.epoch });
    await assert.rejects(sub.history({ limit: 1, since: { offset: 1, epoch: 'not-the-epoch' } }), (e: { code: number }) => e.code === 112);
  });
}
