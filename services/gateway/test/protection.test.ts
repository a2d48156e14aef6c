// Limits and protection: slow consumers, malformed frames, origins, message size, channel and
// connection limits, and the commands that close a connection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Centrifuge } from 'centrifuge';
import { Collector, deferred, waitFor } from '@rotor/testkit';
import WebSocket from 'ws';
import { RawClient, startTestGateway, token } from './harness.ts';

const open = { allow_subscribe_for_client: true, allow_publish_for_client: true };

test('a consumer that stops reading is closed with 3008 while another keeps receiving everything', async (t) => {
  const g = await startTestGateway(
    { client: { queue_max_size: 262144 }, channel: { without_namespace: { ...open, history_size: 100000, history_ttl: '600s' } } },
    { slowSweepMs: 20 },
  );
  t.after(() => g.close());
  const slow = await RawClient.open(g.url);
  t.after(() => slow.close());
  assert.ok((await slow.connect(await token({ sub: 'slow' }))).connect);
  slow.send([{ id: 2, subscribe: { channel: 'feed' } }]);
  assert.ok((await slow.reply(2)).subscribe);

  const fast = new Centrifuge(g.url, { websocket: WebSocket, token: await token({ sub: 'fast' }) });
  t.after(() => fast.disconnect());
  fast.connect();
  const sub = fast.newSubscription('feed');
  const got = new Collector<number>('fast publications');
  sub.on('publication', (p) => got.push((p.data as { n: number }).n));
  sub.subscribe();
  await sub.ready(5000);

  // Stop reading: the kernel buffers fill, then uWS buffers for this socket.
  (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
  const pad = 'x'.repeat(4096);
  let n = 0;
  // The load is paced (80 KB per batch, a batch at most every 5 ms: ≤ 16 MB/s) so the sweep sees
  // the buffer cross the soft limit before it reaches the hard one, as it does for any client fed
  // below ~4 MiB/s at the default sweep period. Faster feeds meet uWS's hard close instead.
  for (let batch = 0; batch < 2000 && g.gateway.metrics.slowDisconnects === 0; batch++) {
    for (let i = 0; i < 20; i++) await g.publish('feed', { n: ++n, pad });
    await got.waitFor(n);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  assert.equal(g.gateway.metrics.slowDisconnects, 1, `published ${n} publications without a slow disconnect`);
  // A few more after the close: the fast client is unaffected.
  for (let i = 0; i < 10; i++) await g.publish('feed', { n: ++n, pad });
  assert.deepEqual(await got.waitFor(n), Array.from({ length: n }, (_, i) => i + 1));

  (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
  const closed = await slow.waitClosed(20_000);
  assert.equal(closed.code, 3008);
  assert.equal(closed.reason, 'slow');
  // What the slow client did get is a gap-free prefix.
  const seen = slow.replies.items.filter((r) => r.push?.pub).map((r) => JSON.parse(new TextDecoder().decode(r.push!.pub!.data)).n as number);
  assert.ok(seen.length > 0);
  assert.deepEqual(seen, Array.from({ length: seen.length }, (_, i) => i + 1));
});

test('a consumer fed far faster than the sweep period allows still gets 3008, not the hard close', async (t) => {
  // The sweep is out of the picture (one minute): only the check that follows the channel's
  // flushes can see the buffer cross the soft limit before uWS's hard limit (1 MiB above it).
  const g = await startTestGateway(
    { client: { queue_max_size: 262144 }, channel: { without_namespace: { ...open, history_size: 100000, history_ttl: '600s' } } },
    { slowSweepMs: 60_000 },
  );
  t.after(() => g.close());
  const slow = await RawClient.open(g.url);
  t.after(() => slow.close());
  assert.ok((await slow.connect(await token({ sub: 'slow' }))).connect);
  slow.send([{ id: 2, subscribe: { channel: 'feed' } }]);
  assert.ok((await slow.reply(2)).subscribe);
  const fast = await RawClient.open(g.url);
  t.after(() => fast.close());
  assert.ok((await fast.connect(await token({ sub: 'fast' }))).connect);
  fast.send([{ id: 2, subscribe: { channel: 'feed' } }]);
  assert.ok((await fast.reply(2)).subscribe);

  (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
  const pad = 'x'.repeat(16_384);
  let n = 0;
  // Unpaced: 50 × 16 KB per event-loop turn, as fast as this machine publishes (tens of MB/s).
  for (let batch = 0; batch < 400 && g.gateway.metrics.slowDisconnects === 0 && slow.closeCode === 0; batch++) {
    for (let i = 0; i < 50; i++) void g.publish('feed', { n: ++n, pad });
    await new Promise((resolve) => setImmediate(resolve));
  }
  (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
  const closed = await slow.waitClosed(20_000);
  assert.deepEqual({ code: closed.code, reason: closed.reason }, { code: 3008, reason: 'slow' }, `after ${n} publications`);
  assert.equal(g.gateway.metrics.slowDisconnects, 1);
  // The other subscriber got every publication.
  const pubs = (): number[] => fast.replies.items.filter((r) => r.push?.pub).map((r) => JSON.parse(new TextDecoder().decode(r.push!.pub!.data)).n as number);
  await waitFor(() => pubs().length === n, { what: `all ${n} publications at the fast client`, timeoutMs: 20_000 });
  assert.deepEqual(pubs(), Array.from({ length: n }, (_, i) => i + 1));
});

for (const [format, garbage] of [
  ['json', '{"id":1,'],
  ['protobuf', new Uint8Array([0x05, 0xff, 0xff])],
] as const) {
  test(`${format}: a malformed frame closes that connection with 3501 and no other`, async (t) => {
    const g = await startTestGateway({ channel: { without_namespace: open } });
    t.after(() => g.close());
    const other = new Centrifuge(g.url, { websocket: WebSocket, token: await token({ sub: 'other' }) });
    t.after(() => other.disconnect());
    other.connect();
    const sub = other.newSubscription('news');
    const got = new Collector<unknown>('publications');
    sub.on('publication', (p) => got.push(p.data));
    sub.subscribe();
    await sub.ready(5000);

    const bad = await RawClient.open(g.url, { format });
    t.after(() => bad.close());
    assert.ok((await bad.connect(await token({ sub: 'bad' }))).connect);
    bad.sendRaw(garbage, format === 'protobuf');
    assert.deepEqual(await bad.waitClosed(), { code: 3501, reason: 'bad request' });

    await g.publish('news', { still: 'here' });
    assert.deepEqual(await got.waitFor(1), [{ still: 'here' }]);
  });
}

test('an empty frame, a first command other than connect and a second connect close with 3501', async (t) => {
  const g = await startTestGateway();
  t.after(() => g.close());
  const empty = await RawClient.open(g.url);
  t.after(() => empty.close());
  empty.sendRaw('');
  assert.equal((await empty.waitClosed()).code, 3501);

  const early = await RawClient.open(g.url);
  t.after(() => early.close());
  early.send([{ id: 1, subscribe: { channel: 'x' } }]);
  assert.equal((await early.waitClosed()).code, 3501);

  const twice = await RawClient.open(g.url);
  t.after(() => twice.close());
  await twice.connect(await token({ sub: 'u' }));
  twice.send([{ id: 2, connect: { token: await token({ sub: 'u' }) } }]);
  assert.equal((await twice.waitClosed()).code, 3501);
});

test('send closes with 3508, rpc answers 108, an unsolicited pong closes with 3501', async (t) => {
  const g = await startTestGateway();
  t.after(() => g.close());
  const c = await RawClient.open(g.url);
  t.after(() => c.close());
  await c.connect(await token({ sub: 'u' }));
  c.send([{ id: 2, rpc: { method: 'm', data: new TextEncoder().encode('{}') } }]);
  assert.equal((await c.reply(2)).error?.code, 108);
  c.send([{ send: { data: new TextEncoder().encode('{}') } }]);
  assert.equal((await c.waitClosed()).code, 3508);

  const p = await RawClient.open(g.url);
  t.after(() => p.close());
  await p.connect(await token({ sub: 'u' }));
  p.send([{}]);
  assert.equal((await p.waitClosed()).code, 3501);
});

test('origins: absent or allowed Origin upgrades, any other is refused with 403', async (t) => {
  const g = await startTestGateway({ client: { allowed_origins: ['https://*.good.example'] } });
  t.after(() => g.close());
  const none = await RawClient.open(g.url);
  none.close();
  const good = await RawClient.open(g.url, { headers: { Origin: 'https://app.good.example' } });
  good.close();
  await assert.rejects(RawClient.open(g.url, { headers: { Origin: 'https://evil.example' } }), /HTTP 403/);
});

test('a message above websocket.message_size_limit closes with 1009', async (t) => {
  const g = await startTestGateway({ websocket: { message_size_limit: 1024 } });
  t.after(() => g.close());
  const c = await RawClient.open(g.url);
  t.after(() => c.close());
  await c.connect(await token({ sub: 'u' }));
  c.sendRaw(`{"id":2,"publish":{"channel":"x","data":"${'y'.repeat(2000)}"}}`);
  assert.equal((await c.waitClosed()).code, 1009);
});

test('client.channel_limit: the subscribe beyond it answers 106, a token with more channels closes with 3505', async (t) => {
  const g = await startTestGateway({ client: { channel_limit: 2 }, channel: { without_namespace: open } });
  t.after(() => g.close());
  const c = await RawClient.open(g.url);
  t.after(() => c.close());
  await c.connect(await token({ sub: 'u' }));
  c.send([
    { id: 2, subscribe: { channel: 'a' } },
    { id: 3, subscribe: { channel: 'b' } },
    { id: 4, subscribe: { channel: 'c' } },
    { id: 5, subscribe: { channel: 'a' } },
  ]);
  assert.ok((await c.reply(2)).subscribe);
  assert.ok((await c.reply(3)).subscribe);
  assert.equal((await c.reply(4)).error?.code, 106);
  assert.equal((await c.reply(5)).error?.code, 105);

  const many = await RawClient.open(g.url);
  t.after(() => many.close());
  many.send([{ id: 1, connect: { token: await token({ sub: 'u2', channels: ['a', 'b', 'c'] }) } }]);
  assert.equal((await many.waitClosed()).code, 3505);
});

test('client.user_connection_limit and client.connection_limit close the extra connection with 3504', async (t) => {
  const g = await startTestGateway({ client: { user_connection_limit: 1, connection_limit: 2 } });
  t.after(() => g.close());
  const a1 = await RawClient.open(g.url);
  t.after(() => a1.close());
  assert.ok((await a1.connect(await token({ sub: 'a' }))).connect);
  const a2 = await RawClient.open(g.url);
  t.after(() => a2.close());
  a2.send([{ id: 1, connect: { token: await token({ sub: 'a' }) } }]);
  assert.equal((await a2.waitClosed()).code, 3504);

  const b = await RawClient.open(g.url);
  t.after(() => b.close());
  assert.ok((await b.connect(await token({ sub: 'b' }))).connect);
  const c = await RawClient.open(g.url);
  t.after(() => c.close());
  c.send([{ id: 1, connect: { token: await token({ sub: 'c' }) } }]);
  assert.equal((await c.waitClosed()).code, 3504);
});

test('subscribe validation and permissions follow Centrifugo order', async (t) => {
  const g = await startTestGateway({
    channel: {
      without_namespace: { allow_subscribe_for_client: false },
      namespaces: [
        { name: 'pub', allow_subscribe_for_client: true },
        { name: 'users', allow_user_limited_channels: true },
        { name: 'nohist', allow_subscribe_for_client: true, allow_history_for_client: true },
      ],
    },
  });
  t.after(() => g.close());
  const c = await RawClient.open(g.url);
  t.after(() => c.close());
  await c.connect(await token({ sub: 'alice' }));
  c.send([
    { id: 2, subscribe: { channel: 'x'.repeat(256) } },
    { id: 3, subscribe: { channel: 'missing:x' } },
    { id: 4, subscribe: { channel: 'pub:ünï' } },
    { id: 5, subscribe: { channel: 'closed' } },
    { id: 6, subscribe: { channel: '$pub:private' } },
    { id: 7, subscribe: { channel: 'users:#alice,bob' } },
    { id: 8, subscribe: { channel: 'users:#bob' } },
    { id: 9, subscribe: { channel: 'pub:ok', flag: 1 } },
    { id: 10, history: { channel: 'nohist:x' } },
    { id: 11, presence: { channel: 'pub:ok' } },
  ]);
  const code = async (id: number) => (await c.reply(id)).error?.code;
  assert.equal(await code(2), 107);
  assert.equal(await code(3), 102);
  assert.equal(await code(4), 107);
  assert.equal(await code(5), 103);
  assert.equal(await code(6), 103);
  assert.equal(await code(7), undefined);
  assert.equal(await code(8), 103);
  assert.equal(await code(9), undefined);
  assert.equal(await code(10), 108);
  assert.equal(await code(11), 108);
  c.send([{ id: 12, subscribe: { channel: '' } }]);
  assert.equal((await c.waitClosed()).code, 3501);
});

test('a subscription token for another channel closes the connection with 3500', async (t) => {
  const g = await startTestGateway({ channel: { namespaces: [{ name: 'secret', allow_subscribe_for_client: false }] } });
  t.after(() => g.close());
  const client = new Centrifuge(g.url, { websocket: WebSocket, token: await token({ sub: 'alice' }) });
  t.after(() => client.disconnect());
  const disconnected = deferred<{ code: number }>();
  client.on('disconnected', (ctx) => disconnected.resolve(ctx));
  client.connect();
  const sub = client.newSubscription('$secret:a', { token: await token({ sub: 'alice', channel: '$secret:b' }) });
  sub.subscribe();
  assert.equal((await disconnected.promise).code, 3500);
});

test('a valid subscription token opens a private channel; an expired one answers 109 and the SDK fetches another', async (t) => {
  const g = await startTestGateway({ channel: { namespaces: [{ name: 'secret' }] } });
  t.after(() => g.close());
  const client = new Centrifuge(g.url, { websocket: WebSocket, token: await token({ sub: 'alice' }) });
  t.after(() => client.disconnect());
  client.connect();
  let calls = 0;
  const sub = client.newSubscription('$secret:a', {
    token: await token({ sub: 'alice', channel: '$secret:a', exp: Math.floor(Date.now() / 1000) - 10 }),
    getToken: async () => {
      calls++;
      return token({ sub: 'alice', channel: '$secret:a' });
    },
  });
  const got = new Collector<unknown>('publications');
  sub.on('publication', (p) => got.push(p.data));
  sub.subscribe();
  await sub.ready(10_000);
  assert.equal(calls, 1);
  await g.publish('$secret:a', { ok: true });
  assert.deepEqual(await got.waitFor(1), [{ ok: true }]);
  await waitFor(() => g.gateway.metrics.subscriptions === 1);
});

test('binary payloads: JSON clients are closed with 3506 (live, history, recovery); protobuf clients receive them', async (t) => {
  const g = await startTestGateway({
    channel: { without_namespace: { ...open, history_size: 10, history_ttl: '60s', allow_history_for_client: true, allow_recovery: true } },
  });
  t.after(() => g.close());
  const binary = new Uint8Array([0xde, 0xad, 0xbe, 0xef]);
  const json = await RawClient.open(g.url);
  const proto = await RawClient.open(g.url, { format: 'protobuf' });
  t.after(() => [json, proto].forEach((c) => c.close()));
  for (const c of [json, proto]) {
    await c.connect(await token({ sub: 'u' }));
    c.send([{ id: 2, subscribe: { channel: 'bin' } }]);
    await c.reply(2);
  }
  await g.publish('bin', binary);
  assert.equal((await json.waitClosed()).code, 3506);
  const pub = await proto.replies.waitForMatch((r) => r.push?.pub !== undefined, 'the binary publication');
  assert.deepEqual([...pub.push!.pub!.data!], [...binary]);

  const reader = await RawClient.open(g.url);
  t.after(() => reader.close());
  await reader.connect(await token({ sub: 'r' }));
  reader.send([{ id: 2, history: { channel: 'bin', limit: 10 } }]);
  assert.equal((await reader.waitClosed()).code, 3506);

  const recovering = await RawClient.open(g.url);
  t.after(() => recovering.close());
  await recovering.connect(await token({ sub: 'r' }));
  const { epoch } = await g.publish('bin', { n: 1 });
  recovering.send([{ id: 2, subscribe: { channel: 'bin', recoverable: true, recover: true, offset: 0, epoch } }]);
  assert.equal((await recovering.waitClosed()).code, 3506);
});

test('connect: channels remembered in ConnectRequest.subs come back only where the client may subscribe itself', async (t) => {
  const g = await startTestGateway({
    channel: { namespaces: [{ name: 'open', allow_subscribe_for_client: true }, { name: 'shut' }] },
  });
  t.after(() => g.close());
  const c = await RawClient.open(g.url);
  t.after(() => c.close());
  c.send([{ id: 1, connect: { token: await token({ sub: 'u' }), subs: { 'open:a': { recover: true }, 'shut:b': { recover: true }, 'nope:c': {} } } }]);
  const r = await c.reply(1);
  assert.deepEqual(Object.keys(r.connect?.subs ?? {}), ['open:a']);
});

test('history: limit clamped to client.history_max_publication_limit, reverse from offset 0 is 107', async (t) => {
  const g = await startTestGateway({
    client: { history_max_publication_limit: 3 },
    channel: { without_namespace: { history_size: 50, history_ttl: '60s', allow_history_for_client: true } },
  });
  t.after(() => g.close());
  for (let i = 1; i <= 10; i++) await g.publish('h', { n: i });
  const c = await RawClient.open(g.url);
  t.after(() => c.close());
  await c.connect(await token({ sub: 'u' }));
  c.send([
    { id: 2, history: { channel: 'h', limit: -1 } },
    { id: 3, history: { channel: 'h', limit: 10, reverse: true } },
    { id: 4, history: { channel: 'h', limit: 2, since: { offset: 0, epoch: '' }, reverse: true } },
    { id: 5, history: { channel: 'h', limit: 5, since: { offset: 10, epoch: '' } } },
  ]);
  assert.deepEqual((await c.reply(2)).history?.publications?.map((p) => p.offset), [1, 2, 3]);
  assert.deepEqual((await c.reply(3)).history?.publications?.map((p) => p.offset), [10, 9, 8]);
  assert.equal((await c.reply(4)).error?.code, 107);
  const top = (await c.reply(5)).history!;
  assert.deepEqual({ n: top.publications?.length ?? 0, offset: top.offset }, { n: 0, offset: 10 });
});
