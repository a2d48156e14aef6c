// The real centrifuge 5.8.0 SDK in Node forced onto the emulated transports: HTTP-streaming (JSON
// and protobuf builds; Node's fetch and ReadableStream) and SSE (the `eventsource` package), with
// every later command sent to /emulation. Connect, subscribe, ordered publications, client
// publish, presence, history, and recovery after a server-initiated reconnect.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Centrifuge } from 'centrifuge';
import type { Options } from 'centrifuge';
import { Centrifuge as CentrifugeProtobuf } from 'centrifuge/build/protobuf';
import { EventSource } from 'eventsource';
import { Disconnects } from '@rotor/core';
import { Collector, deferred, waitFor } from '@rotor/testkit';
import { startTestGateway, token } from './harness.ts';
import type { TestGateway } from './harness.ts';

type Sdk = typeof Centrifuge;
type Variant = { name: string; transport: 'http_stream' | 'sse'; Sdk: Sdk };
const variants: Variant[] = [
  { name: 'http_stream json', transport: 'http_stream', Sdk: Centrifuge },
  { name: 'http_stream protobuf', transport: 'http_stream', Sdk: CentrifugeProtobuf as unknown as Sdk },
  { name: 'sse', transport: 'sse', Sdk: Centrifuge },
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
    history_size: 100,
    history_ttl: '300s',
    force_recovery: true,
  },
];

const emulated = { http_stream: { enabled: true }, sse: { enabled: true }, channel: { namespaces } };

function client(g: TestGateway, v: Variant, tokenValue: string, extra: Partial<Options> = {}): Centrifuge {
  const endpoint = `${g.httpUrl}/connection/${v.transport}`;
  return new v.Sdk([{ transport: v.transport, endpoint }], {
    token: tokenValue,
    emulationEndpoint: `${g.httpUrl}/emulation`,
    fetch: globalThis.fetch,
    readableStream: globalThis.ReadableStream,
    eventsource: EventSource,
    ...extra,
  } as Partial<Options>);
}

function value(data: unknown): unknown {
  return data instanceof Uint8Array ? JSON.parse(new TextDecoder().decode(data)) : data;
}

function bytesOf(v: Variant, data: unknown): unknown {
  return v.Sdk === Centrifuge ? data : new TextEncoder().encode(JSON.stringify(data));
}

for (const v of variants) {
  test(`${v.name}: connect, subscribe, publications in order, client publish, presence, history`, async (t) => {
    const g = await startTestGateway(emulated);
    t.after(() => g.close());
    const alice = client(g, v, await token({ sub: 'alice' }));
    t.after(() => alice.disconnect());
    const connected = deferred<{ client: string; transport: string }>();
    alice.on('connected', (ctx) => connected.resolve(ctx));
    alice.connect();
    const ctx = await connected.promise;
    assert.equal(ctx.transport, v.transport);
    assert.equal(g.gateway.metrics.channels, 0);

    const sub = alice.newSubscription('chat:room');
    const pubs = new Collector<unknown>('publications');
    sub.on('publication', (p) => pubs.push(value(p.data)));
    sub.subscribe();
    await sub.ready(15_000);
    for (let i = 1; i <= 30; i++) await g.publish('chat:room', { n: i });
    assert.deepEqual(await pubs.waitFor(30), Array.from({ length: 30 }, (_, i) => ({ n: i + 1 })));

    await sub.publish(bytesOf(v, { text: 'hi' }));
    assert.deepEqual(await pubs.waitForMatch((p) => (p as { text?: string }).text === 'hi', 'own publication'), { text: 'hi' });

    const presence = await sub.presence();
    assert.deepEqual(
      Object.values(presence.clients).map((c) => c.user),
      ['alice'],
    );
    const history = await sub.history({ limit: -1 });
    assert.equal(history.publications.length, 31);
    assert.equal(history.offset, 31);

    sub.unsubscribe();
    await waitFor(() => g.gateway.metrics.channels === 0, { what: 'the hub to drop the channel' });
  });

  test(`${v.name}: recovery after a server-initiated reconnect`, async (t) => {
    const g = await startTestGateway(emulated);
    t.after(() => g.close());
    const alice = client(g, v, await token({ sub: 'alice' }), { minReconnectDelay: 200, maxReconnectDelay: 400 });
    t.after(() => alice.disconnect());
    alice.connect();
    const sub = alice.newSubscription('chat:rec');
    const pubs = new Collector<unknown>('publications');
    sub.on('publication', (p) => pubs.push(value(p.data)));
    const subscribed = new Collector<{ wasRecovering: boolean; recovered: boolean }>('subscribed');
    sub.on('subscribed', (c) => subscribed.push({ wasRecovering: c.wasRecovering, recovered: c.recovered }));
    sub.subscribe();
    await subscribed.waitFor(1);
    for (let i = 1; i <= 3; i++) await g.publish('chat:rec', { n: i });
    await pubs.waitFor(3);

    const disconnected = deferred<number>();
    alice.once('connecting', (c) => disconnected.resolve(c.code));
    const published = deferred();
    alice.once('connecting', () => {
      // Published while the client is away: only recovery can bring these.
      void (async () => {
        for (let i = 4; i <= 6; i++) await g.publish('chat:rec', { n: i });
        published.resolve();
      })();
    });
    g.controlBus.send({ kind: 'disconnect', user: 'alice', disconnect: Disconnects.forceReconnect });
    assert.equal(await disconnected.promise, Disconnects.forceReconnect.code);
    await published.promise;
    const again = (await subscribed.waitFor(2))[1]!;
    assert.deepEqual(again, { wasRecovering: true, recovered: true });
    assert.deepEqual(await pubs.waitFor(6), Array.from({ length: 6 }, (_, i) => ({ n: i + 1 })));
  });
}

test('sse and http_stream clients share a channel with a WebSocket-free fan-out; join/leave reach them', async (t) => {
  const g = await startTestGateway(emulated);
  t.after(() => g.close());
  const sse = client(g, variants[2]!, await token({ sub: 'sse-user' }));
  const stream = client(g, variants[0]!, await token({ sub: 'stream-user' }));
  t.after(() => {
    sse.disconnect();
    stream.disconnect();
  });
  sse.connect();
  stream.connect();
  const joins = new Collector<string>('joins');
  const a = sse.newSubscription('chat:both', { joinLeave: true });
  a.on('join', (j) => joins.push(j.info.user));
  const got = new Collector<unknown>('sse publications');
  a.on('publication', (p) => got.push(value(p.data)));
  a.subscribe();
  await a.ready(15_000);
  const b = stream.newSubscription('chat:both');
  const got2 = new Collector<unknown>('stream publications');
  b.on('publication', (p) => got2.push(value(p.data)));
  b.subscribe();
  await b.ready(15_000);
  await joins.waitForMatch((u) => u === 'stream-user', 'the join push over SSE');
  // Several publications in one turn: one hub frame with several pushes, one SSE event each.
  await Promise.all([1, 2, 3, 4].map((n) => g.publish('chat:both', { n })));
  const expected = [1, 2, 3, 4].map((n) => ({ n }));
  assert.deepEqual(await got.waitFor(4), expected);
  assert.deepEqual(await got2.waitFor(4), expected);
});
