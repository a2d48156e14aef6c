// Recovery, positioning and ordering with the real SDK (PROTOCOL.md §4.5).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Centrifuge } from 'centrifuge';
import { Centrifuge as CentrifugeProtobuf } from 'centrifuge/build/protobuf';
import type { Subscription } from 'centrifuge';
import { Collector, deferred, waitFor } from '@rotor/testkit';
import { ManualClock } from '@rotor/core/testing';
import WebSocket from 'ws';
import { RawClient, startTestGateway, token } from './harness.ts';

type Sdk = typeof Centrifuge;
const builds: Array<[string, Sdk]> = [
  ['json', Centrifuge],
  ['protobuf', CentrifugeProtobuf as unknown as Sdk],
];

const stream = (size = 100) => ({
  channel: {
    without_namespace: { allow_subscribe_for_client: true, history_size: size, history_ttl: '600s', allow_recovery: true, allow_positioning: true },
  },
});

function n(data: unknown): number {
  const v = data instanceof Uint8Array ? JSON.parse(new TextDecoder().decode(data)) : data;
  return (v as { n: number }).n;
}

interface SubscribedCtx {
  recovered: boolean;
  wasRecovering: boolean;
  streamPosition?: { offset: number; epoch: string };
}

function watch(sub: Subscription) {
  const pubs = new Collector<{ n: number; offset: number | undefined }>('publications');
  const subscribed = new Collector<SubscribedCtx>('subscribed events');
  const states: Array<{ code: number; reason: string }> = [];
  sub.on('publication', (p) => pubs.push({ n: n(p.data), offset: p.offset }));
  sub.on('subscribed', (ctx) => subscribed.push(ctx as SubscribedCtx));
  sub.on('subscribing', (ctx) => states.push({ code: ctx.code, reason: ctx.reason }));
  return { pubs, subscribed, states };
}

for (const [name, Sdk] of builds) {
  test(`${name}: a reconnecting client recovers exactly the publications it missed`, async (t) => {
    const g = await startTestGateway(stream());
    t.after(() => g.close());
    const client = new Sdk(g.url, { websocket: WebSocket, token: await token({ sub: 'alice' }) });
    t.after(() => client.disconnect());
    client.connect();
    const sub = client.newSubscription('news', { recoverable: true });
    const w = watch(sub);
    sub.subscribe();
    const first = (await w.subscribed.waitFor(1))[0]!;
    assert.equal(first.recovered, false);
    for (let i = 1; i <= 3; i++) await g.publish('news', { n: i });
    await w.pubs.waitFor(3);

    client.disconnect();
    await waitFor(() => g.gateway.metrics.subscriptions === 0, { what: 'the gateway to drop the subscription' });
    for (let i = 4; i <= 6; i++) await g.publish('news', { n: i });
    client.connect();
    const second = (await w.subscribed.waitFor(2))[1]!;
    assert.deepEqual({ recovered: second.recovered, wasRecovering: second.wasRecovering }, { recovered: true, wasRecovering: true });
    await g.publish('news', { n: 7 });
    const got = await w.pubs.waitFor(7);
    assert.deepEqual(
      got.map((p) => p.n),
      [1, 2, 3, 4, 5, 6, 7],
    );
    assert.deepEqual(
      got.map((p) => p.offset),
      [1, 2, 3, 4, 5, 6, 7],
    );
    assert.equal(g.gateway.metrics.recoveries[0], 1);
  });

  test(`${name}: not recovered when the history was trimmed past the client's position`, async (t) => {
    const g = await startTestGateway(stream(3));
    t.after(() => g.close());
    const client = new Sdk(g.url, { websocket: WebSocket, token: await token({ sub: 'alice' }) });
    t.after(() => client.disconnect());
    client.connect();
    const sub = client.newSubscription('news', { recoverable: true });
    const w = watch(sub);
    sub.subscribe();
    await w.subscribed.waitFor(1);
    await g.publish('news', { n: 1 });
    await w.pubs.waitFor(1);
    client.disconnect();
    await waitFor(() => g.gateway.metrics.subscriptions === 0, { what: 'the gateway to drop the subscription' });
    for (let i = 2; i <= 10; i++) await g.publish('news', { n: i });
    client.connect();
    const second = (await w.subscribed.waitFor(2))[1]!;
    assert.deepEqual({ recovered: second.recovered, wasRecovering: second.wasRecovering }, { recovered: false, wasRecovering: true });
    assert.equal(second.streamPosition?.offset, 10);
    await g.publish('news', { n: 11 });
    // Nothing of the partial history is delivered; live publications continue after the top.
    assert.deepEqual(
      (await w.pubs.waitFor(2)).map((p) => p.n),
      [1, 11],
    );
  });
}

test('after the stream meta expired (a new epoch), a reconnecting client is told it did not recover', async (t) => {
  const clock = new ManualClock(Date.now());
  const g = await startTestGateway(
    { channel: { without_namespace: { allow_subscribe_for_client: true, history_size: 100, history_ttl: '60s', history_meta_ttl: '120s', allow_recovery: true } } },
    {},
    { historyClock: clock },
  );
  t.after(() => g.close());
  const client = new Centrifuge(g.url, { websocket: WebSocket, token: await token({ sub: 'alice' }) });
  t.after(() => client.disconnect());
  client.connect();
  const sub = client.newSubscription('news', { recoverable: true });
  const w = watch(sub);
  sub.subscribe();
  await w.subscribed.waitFor(1);
  const first = await g.publish('news', { n: 1 });
  await w.pubs.waitFor(1);
  client.disconnect();
  await waitFor(() => g.gateway.metrics.subscriptions === 0, { what: 'the gateway to drop the subscription' });
  clock.advance(121_000);
  const second = await g.publish('news', { n: 2 });
  assert.notEqual(second.epoch, first.epoch);
  assert.equal(second.offset, 1);
  client.connect();
  const again = (await w.subscribed.waitFor(2))[1]!;
  assert.deepEqual(
    { recovered: again.recovered, wasRecovering: again.wasRecovering, epoch: again.streamPosition?.epoch },
    { recovered: false, wasRecovering: true, epoch: second.epoch },
  );
  await g.publish('news', { n: 3 });
  assert.deepEqual(
    (await w.pubs.waitFor(2)).map((p) => p.n),
    [1, 3],
  );
});

test('recovery from another epoch is not recovered; with the reject flag it answers 112', async (t) => {
  const g = await startTestGateway(stream());
  t.after(() => g.close());
  for (let i = 1; i <= 3; i++) await g.publish('news', { n: i });
  const client = new Centrifuge(g.url, { websocket: WebSocket, token: await token({ sub: 'alice' }) });
  t.after(() => client.disconnect());
  client.connect();
  const sub = client.newSubscription('news', { recoverable: true, since: { offset: 1, epoch: 'not-the-epoch' } });
  const w = watch(sub);
  sub.subscribe();
  const ctx = (await w.subscribed.waitFor(1))[0]!;
  assert.deepEqual({ recovered: ctx.recovered, wasRecovering: ctx.wasRecovering, offset: ctx.streamPosition?.offset }, { recovered: false, wasRecovering: true, offset: 3 });

  const raw = await RawClient.open(g.url);
  t.after(() => raw.close());
  await raw.connect(await token({ sub: 'bob' }));
  raw.send([{ id: 2, subscribe: { channel: 'news', recoverable: true, recover: true, offset: 1, epoch: 'not-the-epoch', flag: 3 } }]);
  assert.equal((await raw.reply(2)).error?.code, 112);
  assert.equal(g.gateway.metrics.recoveries[2], 1);
  // The rejected subscription left nothing behind: subscribing again works.
  raw.send([{ id: 3, subscribe: { channel: 'news', recoverable: true } }]);
  assert.ok((await raw.reply(3)).subscribe?.recoverable);
});

test('a subscribe with since recovers exactly the publications after that position inside the reply', async (t) => {
  const g = await startTestGateway(stream());
  t.after(() => g.close());
  let epoch = '';
  for (let i = 1; i <= 5; i++) epoch = (await g.publish('news', { n: i })).epoch;
  const raw = await RawClient.open(g.url);
  t.after(() => raw.close());
  await raw.connect(await token({ sub: 'bob' }));
  raw.send([{ id: 2, subscribe: { channel: 'news', recoverable: true, recover: true, offset: 2, epoch } }]);
  const r = (await raw.reply(2)).subscribe!;
  assert.equal(r.recovered, true);
  assert.equal(r.wasRecovering, true);
  assert.equal(r.offset, 2);
  assert.equal(r.epoch, epoch);
  assert.deepEqual(
    r.publications?.map((p) => p.offset),
    [3, 4, 5],
  );
});

// Shard-like read latency and NATS-like delivery latency make live publications race with every
// subscribe's history read: when reads are slower, publications arrive during the read and are
// held; when deliveries are slower, the read sees offsets the live stream has not brought yet and
// the subscriber waits for them.
for (const [name, Sdk, latency] of [
  [builds[0]![0], builds[0]![1], { readMs: 4, deliveryMs: 1 }],
  [builds[1]![0], builds[1]![1], { readMs: 4, deliveryMs: 1 }],
  [`${builds[0]![0]} (slow delivery)`, builds[0]![1], { readMs: 1, deliveryMs: 8 }],
] as const) {
  test(`${name}: clients subscribing while publications flow get each later one once, in order`, async (t) => {
    const g = await startTestGateway(stream(10_000), {}, { latency });
    t.after(() => g.close());
    const total = 1500;
    const clients: Array<{ sub: Subscription; w: ReturnType<typeof watch> }> = [];
    let published = 0;
    const publishing = (async () => {
      while (published < total) {
        await g.publish('flow', { n: ++published });
        if (published % 5 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      }
    })();
    // Subscribe at staggered points of the stream.
    for (let k = 0; k < 8; k++) {
      await waitFor(() => published >= (k + 1) * 100, { what: `publication ${(k + 1) * 100}` });
      const c = new Sdk(g.url, { websocket: WebSocket, token: await token({ sub: `u${k}` }) });
      t.after(() => c.disconnect());
      c.connect();
      const sub = c.newSubscription('flow', { positioned: k % 2 === 0, recoverable: k % 2 === 1 });
      const w = watch(sub);
      sub.subscribe();
      clients.push({ sub, w });
    }
    await publishing;
    for (const [k, { w }] of clients.entries()) {
      const ctx = (await w.subscribed.waitFor(1))[0]!;
      const start = ctx.streamPosition!.offset;
      const expected = total - start;
      const got = await w.pubs.waitFor(expected, 10_000);
      assert.deepEqual(
        got.map((p) => p.offset),
        Array.from({ length: expected }, (_, i) => start + 1 + i),
        `client ${k} subscribed at ${start}`,
      );
      assert.equal(w.pubs.length, expected, `client ${k} got duplicates`);
      assert.deepEqual(w.states.slice(1), [], `client ${k} was resubscribed`);
    }
  });
}

test('a gap on the live stream is filled from history: no resubscribe, every publication once', async (t) => {
  const g = await startTestGateway(stream());
  t.after(() => g.close());
  const client = new Centrifuge(g.url, { websocket: WebSocket, token: await token({ sub: 'alice' }), minReconnectDelay: 50 });
  t.after(() => client.disconnect());
  client.connect();
  const sub = client.newSubscription('news', { recoverable: true });
  const w = watch(sub);
  sub.subscribe();
  await w.subscribed.waitFor(1);
  const { epoch } = await g.publish('news', { n: 1 });
  await w.pubs.waitFor(1);
  // Offset 2 is stored but its delivery is "lost"; 3 arrives live: a gap, repaired from history.
  await g.history.append({ channel: 'news', data: new TextEncoder().encode('{"n":2}'), history: { size: 100, ttlMs: 600_000, metaTtlMs: 3_600_000 } });
  const third = await g.history.append({ channel: 'news', data: new TextEncoder().encode('{"n":3}'), history: { size: 100, ttlMs: 600_000, metaTtlMs: 3_600_000 } });
  g.broker.publish('news', third.publication, epoch);
  assert.deepEqual(
    (await w.pubs.waitFor(3)).map((p) => p.n),
    [1, 2, 3],
  );
  await g.publish('news', { n: 4 });
  assert.deepEqual((await w.pubs.waitFor(4)).at(-1)?.n, 4);
  assert.equal(w.pubs.length, 4);
  assert.deepEqual(w.states.slice(1), []);
  assert.equal(w.subscribed.length, 1);
});

test('server-side subscriptions from the token receive publications and recover on reconnect', async (t) => {
  const g = await startTestGateway({
    channel: { without_namespace: { history_size: 100, history_ttl: '600s', force_recovery: true } },
  });
  t.after(() => g.close());
  const client = new Centrifuge(g.url, { websocket: WebSocket, token: await token({ sub: 'alice', channels: ['alerts'] }) });
  t.after(() => client.disconnect());
  const subscribed = new Collector<SubscribedCtx & { channel: string }>('server-side subscribed');
  const pubs = new Collector<{ channel: string; n: number }>('server-side publications');
  client.on('subscribed', (ctx) => subscribed.push(ctx as SubscribedCtx & { channel: string }));
  client.on('publication', (ctx) => pubs.push({ channel: ctx.channel, n: n(ctx.data) }));
  client.connect();
  const first = (await subscribed.waitFor(1))[0]!;
  assert.equal(first.channel, 'alerts');
  await g.publish('alerts', { n: 1 });
  await pubs.waitFor(1);
  client.disconnect();
  await waitFor(() => g.gateway.metrics.subscriptions === 0, { what: 'the gateway to drop the subscription' });
  await g.publish('alerts', { n: 2 });
  client.connect();
  const second = (await subscribed.waitFor(2))[1]!;
  assert.deepEqual({ recovered: second.recovered, wasRecovering: second.wasRecovering }, { recovered: true, wasRecovering: true });
  await g.publish('alerts', { n: 3 });
  assert.deepEqual(await pubs.waitFor(3), [
    { channel: 'alerts', n: 1 },
    { channel: 'alerts', n: 2 },
    { channel: 'alerts', n: 3 },
  ]);
});

test('server-side subscription of an unknown namespace fails the connect with 102', async (t) => {
  const g = await startTestGateway();
  t.after(() => g.close());
  const raw = await RawClient.open(g.url);
  t.after(() => raw.close());
  raw.send([{ id: 1, connect: { token: await token({ sub: 'alice', channels: ['nope:x'] }) } }]);
  assert.equal((await raw.reply(1)).error?.code, 102);
  // The connection is unusable afterwards.
  raw.send([{ id: 2, subscribe: { channel: 'x' } }]);
  assert.equal((await raw.waitClosed()).code, 3501);
});

test('the protobuf SDK and the JSON SDK see the same stream', async (t) => {
  const g = await startTestGateway(stream());
  t.after(() => g.close());
  const subs = await Promise.all(
    builds.map(async ([, Sdk]) => {
      const c = new Sdk(g.url, { websocket: WebSocket, token: await token({ sub: 'x' }) });
      t.after(() => c.disconnect());
      c.connect();
      const sub = c.newSubscription('both');
      const w = watch(sub);
      sub.subscribe();
      await sub.ready(5000);
      return w;
    }),
  );
  const done = deferred();
  void (async () => {
    for (let i = 1; i <= 50; i++) await g.publish('both', { n: i });
    done.resolve();
  })();
  await done.promise;
  for (const w of subs) {
    assert.deepEqual(
      (await w.pubs.waitFor(50)).map((p) => p.n),
      Array.from({ length: 50 }, (_, i) => i + 1),
    );
  }
});
