// Publications lost between the broker and the gateway (NATS core is at-most-once) are repaired
// from history with the real SDK on the other end; the fallbacks when they cannot be.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Centrifuge } from 'centrifuge';
import { Centrifuge as CentrifugeProtobuf } from 'centrifuge/build/protobuf';
import type { Subscription } from 'centrifuge';
import { Collector, waitFor } from '@rotor/testkit';
import { ManualClock } from '@rotor/core/testing';
import WebSocket from 'ws';
import { startTestGateway, token } from './harness.ts';

type Sdk = typeof Centrifuge;
const builds: Array<[string, Sdk]> = [
  ['json', Centrifuge],
  ['protobuf', CentrifugeProtobuf as unknown as Sdk],
];

const history = { history_size: 1000, history_ttl: '600s', allow_recovery: true, allow_positioning: true };

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
  const resubscribes: Array<{ code: number; reason: string }> = [];
  sub.on('publication', (p) => pubs.push({ n: n(p.data), offset: p.offset }));
  sub.on('subscribed', (ctx) => subscribed.push(ctx as SubscribedCtx));
  // Code 0 is the subscribe() call itself; anything else is the subscription being restarted.
  sub.on('subscribing', (ctx) => {
    if (ctx.code !== 0) resubscribes.push({ code: ctx.code, reason: ctx.reason });
  });
  return { pubs, subscribed, resubscribes };
}

const range = (count: number): number[] => Array.from({ length: count }, (_, i) => i + 1);

for (const [name, Sdk] of builds) {
  test(`${name}: publications lost on the way to the gateway are repaired; every subscriber gets each one in order, without resubscribing`, async (t) => {
    const lost = new Map([
      ['news', new Set([3, 4, 17, 30])],
      ['live:alerts', new Set([5, 30])],
    ]);
    const g = await startTestGateway(
      {
        // Short, so that the lost *last* publications (30) are found by the position check.
        client: { channel_position_check_delay: '400ms' },
        channel: {
          without_namespace: { allow_subscribe_for_client: true, ...history },
          namespaces: [{ name: 'live', ...history, force_recovery: true }],
        },
      },
      {},
      { drop: (channel, pub) => lost.get(channel)?.has(pub.offset) === true },
    );
    t.after(() => g.close());

    const watched: Array<{ what: string; pubs: Collector<{ n: number; offset: number | undefined }>; resubscribes: unknown[] }> = [];
    for (const options of [{ recoverable: true }, { positioned: true }, {}]) {
      const c = new Sdk(g.url, { websocket: WebSocket, token: await token({ sub: 'u' }) });
      t.after(() => c.disconnect());
      c.connect();
      const sub = c.newSubscription('news', options);
      const w = watch(sub);
      sub.subscribe();
      await w.subscribed.waitFor(1);
      watched.push({ what: `news ${JSON.stringify(options)}`, ...w });
    }
    // A server-side subscription (token `channels`) with forced recovery.
    const server = new Sdk(g.url, { websocket: WebSocket, token: await token({ sub: 'v', channels: ['live:alerts'] }) });
    t.after(() => server.disconnect());
    const serverPubs = new Collector<{ n: number; offset: number | undefined }>('server-side publications');
    const serverSubscribed = new Collector<unknown>('server-side subscribed');
    const disconnects: number[] = [];
    server.on('publication', (ctx) => serverPubs.push({ n: n(ctx.data), offset: ctx.offset }));
    server.on('subscribed', (ctx) => serverSubscribed.push(ctx));
    server.on('disconnected', (ctx) => disconnects.push(ctx.code));
    server.connect();
    await serverSubscribed.waitFor(1);
    watched.push({ what: 'live:alerts (server-side)', pubs: serverPubs, resubscribes: [] });

    for (let i = 1; i <= 30; i++) {
      await g.publish('news', { n: i });
      await g.publish('live:alerts', { n: i });
    }
    for (const w of watched) {
      const got = await w.pubs.waitFor(30, 10_000);
      assert.deepEqual(
        got.map((p) => p.n),
        range(30),
        w.what,
      );
      assert.deepEqual(
        got.map((p) => p.offset),
        range(30),
        w.what,
      );
    }
    // Nothing more arrives (no duplicate) and nobody was made to resubscribe or reconnect.
    await g.publish('news', { n: 31 });
    for (const w of watched.slice(0, 3)) assert.deepEqual((await w.pubs.waitFor(31)).at(-1)?.n, 31);
    for (const w of watched) {
      assert.equal(w.pubs.length, w.what.startsWith('news') ? 31 : 30, w.what);
      assert.deepEqual(w.resubscribes, [], w.what);
    }
    assert.deepEqual(serverSubscribed.length, 1);
    assert.deepEqual(disconnects, []);
    assert.equal(g.lossy.dropped, 6);
    const m = g.gateway.metrics;
    assert.equal(m.insufficientState, 0);
    assert.equal(m.repairedPublications, 6);
  });
}

test('history trimmed past a lost publication: positioned subscribers resubscribe (2500, not recovered), others keep every publication received', async (t) => {
  const g = await startTestGateway({
    channel: { without_namespace: { allow_subscribe_for_client: true, ...history, history_size: 2 } },
  });
  t.after(() => g.close());
  const clients = await Promise.all(
    [{ recoverable: true }, {}].map(async (options) => {
      const c = new Centrifuge(g.url, { websocket: WebSocket, token: await token({ sub: 'alice' }), minReconnectDelay: 50 });
      t.after(() => c.disconnect());
      c.connect();
      const sub = c.newSubscription('news', options);
      const w = watch(sub);
      sub.subscribe();
      await w.subscribed.waitFor(1);
      return w;
    }),
  );
  const [recoverable, plain] = clients as [ReturnType<typeof watch>, ReturnType<typeof watch>];
  const { epoch } = await g.publish('news', { n: 1 });
  await plain.pubs.waitFor(1);
  // 2 never reaches the gateway; when 3 shows the gap, the history (size 2) holds only 3 and 4.
  const retention = { size: 2, ttlMs: 600_000, metaTtlMs: 3_600_000 };
  const stored = [];
  for (let i = 2; i <= 4; i++) stored.push(await g.history.append({ channel: 'news', data: new TextEncoder().encode(`{"n":${i}}`), history: retention }));
  g.broker.publish('news', stored[1]!.publication, epoch);
  g.broker.publish('news', stored[2]!.publication, epoch);
  await waitFor(() => recoverable.resubscribes.some((s) => s.code === 2500), { what: 'an insufficient state resubscribe' });
  const again = (await recoverable.subscribed.waitFor(2))[1]!;
  assert.deepEqual({ recovered: again.recovered, wasRecovering: again.wasRecovering, offset: again.streamPosition?.offset }, { recovered: false, wasRecovering: true, offset: 4 });
  assert.deepEqual(
    (await plain.pubs.waitFor(3)).map((p) => p.n),
    [1, 3, 4],
  );
  assert.deepEqual(plain.resubscribes, []);
  await g.publish('news', { n: 5 });
  assert.deepEqual(
    (await recoverable.pubs.waitFor(2)).map((p) => p.n),
    [1, 5],
  );
  assert.deepEqual((await plain.pubs.waitFor(4)).at(-1)?.n, 5);
  assert.equal(g.gateway.metrics.repairs[1], 1, 'one repair given up as trimmed');
});

test('a lost last publication and a new epoch: the position check makes the positioned subscriber resubscribe, not recovered', async (t) => {
  const clock = new ManualClock(Date.now());
  const g = await startTestGateway(
    {
      client: { channel_position_check_delay: '300ms' },
      channel: { without_namespace: { allow_subscribe_for_client: true, ...history, history_ttl: '60s', history_meta_ttl: '120s' } },
    },
    {},
    { historyClock: clock, drop: (_channel, pub) => pub.offset === 2 },
  );
  t.after(() => g.close());
  const c = new Centrifuge(g.url, { websocket: WebSocket, token: await token({ sub: 'alice' }), minReconnectDelay: 50 });
  t.after(() => c.disconnect());
  c.connect();
  const sub = c.newSubscription('news', { recoverable: true });
  const w = watch(sub);
  sub.subscribe();
  await w.subscribed.waitFor(1);
  const first = await g.publish('news', { n: 1 });
  await w.pubs.waitFor(1);
  await g.publish('news', { n: 2 });
  // Before the check reads, the stream's meta expires: the history starts a new epoch.
  clock.advance(121_000);
  await waitFor(() => w.resubscribes.some((s) => s.code === 2500), { what: 'an insufficient state resubscribe', timeoutMs: 10_000 });
  const again = (await w.subscribed.waitFor(2))[1]!;
  assert.equal(again.recovered, false);
  assert.equal(again.wasRecovering, true);
  assert.notEqual(again.streamPosition?.epoch, first.epoch);
  assert.equal(g.gateway.metrics.repairs[2], 1, 'one repair given up for another epoch');
  const next = await g.publish('news', { n: 3 });
  assert.equal(next.epoch, again.streamPosition?.epoch);
  assert.deepEqual(
    (await w.pubs.waitFor(2)).map((p) => p.n),
    [1, 3],
  );
});
