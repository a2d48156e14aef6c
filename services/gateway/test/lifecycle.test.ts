// Connection lifecycle: ping/pong, no-pong 3012, stale 3502, control commands, health, metrics and
// drain.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Centrifuge } from 'centrifuge';
import { Disconnects } from '@rotor/core';
import { Collector, deferred, waitFor } from '@rotor/testkit';
import WebSocket from 'ws';
import { RawClient, startTestGateway, token } from './harness.ts';

const fastPings = { client: { ping_interval: '1s', pong_timeout: '300ms' } };

test('the server pings with an empty reply; the SDK answers and stays connected across many pings', async (t) => {
  const g = await startTestGateway(fastPings);
  t.after(() => g.close());
  const client = new Centrifuge(g.url, { websocket: WebSocket, token: await token({ sub: 'alice' }), maxServerPingDelay: 1000 });
  t.after(() => client.disconnect());
  const connected = deferred();
  client.on('connected', () => connected.resolve());
  client.connect();
  await connected.promise;
  const drops: number[] = [];
  client.on('connecting', (ctx) => drops.push(ctx.code));
  client.on('disconnected', (ctx) => drops.push(ctx.code));
  // Watch the pongs arrive: 3 pings at 1 s.
  const pongsBefore = g.gateway.metrics.commands[11]![0]!;
  await waitFor(() => g.gateway.metrics.commands[11]![0]! >= pongsBefore + 3, { timeoutMs: 6000, what: '3 pongs' });
  assert.deepEqual(drops, []);
});

test('a raw client sees ping = interval in seconds, pong = true, and the ping frame; no pong closes with 3012', async (t) => {
  const g = await startTestGateway({ client: { ping_interval: '1s', pong_timeout: '300ms' } });
  t.after(() => g.close());
  const answering = await RawClient.open(g.url);
  const silent = await RawClient.open(g.url);
  t.after(() => {
    answering.close();
    silent.close();
  });
  const r = await answering.connect(await token({ sub: 'a' }));
  assert.equal(r.connect?.ping, 1);
  assert.equal(r.connect?.pong, true);
  await silent.connect(await token({ sub: 's' }));
  // Answer every ping of `answering`.
  const pings = new Collector<number>('pings');
  answering.ws.on('message', (data: Buffer) => {
    if (data.toString() === '{}') {
      pings.push(Date.now());
      answering.sendRaw('{}');
    }
  });
  const started = Date.now();
  const closed = await silent.waitClosed(5000);
  assert.deepEqual(closed, { code: 3012, reason: 'no pong' });
  // The first ping comes between half an interval and an interval after connect (+ pong timeout).
  assert.ok(Date.now() - started >= 300);
  await pings.waitFor(3, 5000);
  assert.equal(answering.closeCode, 0);
});

test('protobuf: the ping is a single 0x00 byte and a 0x00 pong keeps the connection', async (t) => {
  const g = await startTestGateway({ client: { ping_interval: '500ms', pong_timeout: '200ms' } });
  t.after(() => g.close());
  const c = await RawClient.open(g.url, { format: 'protobuf' });
  t.after(() => c.close());
  await c.connect(await token({ sub: 'p' }));
  const pings = new Collector<number>('pings');
  c.ws.on('message', (data: Buffer) => {
    if (data.length === 1 && data[0] === 0) {
      pings.push(1);
      c.sendRaw(new Uint8Array([0]), true);
    }
  });
  await pings.waitFor(3, 5000);
  assert.equal(c.closeCode, 0);
});

test('a connection that never sends connect is closed with 3502 after the stale delay', async (t) => {
  const g = await startTestGateway({ client: { stale_close_delay: '300ms' } });
  t.after(() => g.close());
  const c = await RawClient.open(g.url);
  t.after(() => c.close());
  assert.deepEqual(await c.waitClosed(3000), { code: 3502, reason: 'stale' });
});

test('control: disconnect by user with a whitelist, by client; unsubscribe; subscribe; refresh', async (t) => {
  const g = await startTestGateway({
    channel: { without_namespace: { allow_subscribe_for_client: true, history_size: 10, history_ttl: '60s', force_recovery: true } },
  });
  t.after(() => g.close());
  const tok = await token({ sub: 'alice' });
  const [a, b, c] = await Promise.all([RawClient.open(g.url), RawClient.open(g.url), RawClient.open(g.url)]);
  t.after(() => [a, b, c].forEach((x) => x.close()));
  const ids = await Promise.all([a, b, c].map(async (x) => (await x.connect(tok)).connect!.client!));

  // Server-side subscribe: a Subscribe push, then the channel's publications.
  g.controlBus.send({ kind: 'subscribe', user: 'alice', client: ids[0]!, channel: 'extra', data: new TextEncoder().encode('{"hello":1}') });
  const push = await a.replies.waitForMatch((r) => r.push?.subscribe !== undefined, 'a Subscribe push');
  assert.equal(push.push?.channel, 'extra');
  assert.equal(push.push?.subscribe?.recoverable, true);
  await g.publish('extra', { n: 1 });
  const pub = await a.replies.waitForMatch((r) => r.push?.pub !== undefined, 'a publication');
  assert.equal(pub.push?.channel, 'extra');

  // Unsubscribe: an Unsubscribe push with 2000, nothing after.
  g.controlBus.send({ kind: 'unsubscribe', user: 'alice', channel: 'extra' });
  const unsub = await a.replies.waitForMatch((r) => r.push?.unsubscribe !== undefined, 'an Unsubscribe push');
  assert.deepEqual({ code: unsub.push?.unsubscribe?.code, channel: unsub.push?.channel }, { code: 2000, channel: 'extra' });
  await waitFor(() => g.gateway.metrics.subscriptions === 0, { what: 'the subscription to end' });

  // Refresh with expired: 3005 for that client only.
  g.controlBus.send({ kind: 'refresh', user: 'alice', client: ids[2]!, expired: true });
  assert.equal((await c.waitClosed()).code, 3005);

  // Disconnect every connection of alice but the whitelisted one.
  g.controlBus.send({ kind: 'disconnect', user: 'alice', disconnect: Disconnects.forceNoReconnect, whitelist: [ids[0]!] });
  assert.deepEqual(await b.waitClosed(), { code: 3503, reason: 'force disconnect' });
  assert.equal(a.closeCode, 0);
  g.controlBus.send({ kind: 'disconnect', user: 'alice', client: ids[0]!, disconnect: { code: 4001, reason: 'custom' } });
  assert.deepEqual(await a.waitClosed(), { code: 4001, reason: 'custom' });
});

test('control: node info and channels count local subscribers', async (t) => {
  const g = await startTestGateway({ channel: { without_namespace: { allow_subscribe_for_client: true } } });
  t.after(() => g.close());
  const c = await RawClient.open(g.url);
  t.after(() => c.close());
  await c.connect(await token({ sub: 'alice' }));
  c.send([
    { id: 2, subscribe: { channel: 'a' } },
    { id: 3, subscribe: { channel: 'b' } },
  ]);
  await c.reply(3);
  const nodes = await g.controlBus.nodes();
  assert.equal(nodes.length, 1);
  assert.deepEqual(
    { clients: nodes[0]!.numClients, users: nodes[0]!.numUsers, subs: nodes[0]!.numSubs, channels: nodes[0]!.numChannels, name: nodes[0]!.name },
    { clients: 1, users: 1, subs: 2, channels: 2, name: 'test-node' },
  );
  assert.deepEqual(
    [...(await g.controlBus.channels())].sort(),
    [
      ['a', 1],
      ['b', 1],
    ],
  );
});

test('health: ready and live; metrics exposition', async (t) => {
  const g = await startTestGateway({ channel: { without_namespace: { allow_subscribe_for_client: true } } });
  t.after(() => g.close());
  const health = await fetch(`${g.httpUrl}/health`);
  assert.equal(health.status, 200);
  assert.deepEqual(await health.json(), { status: 'ok' });
  assert.equal((await fetch(`${g.httpUrl}/health/live`)).status, 200);

  const c = await RawClient.open(g.url);
  t.after(() => c.close());
  await c.connect(await token({ sub: 'alice' }));
  c.send([{ id: 2, subscribe: { channel: 'a' } }]);
  await c.reply(2);
  const metrics = await (await fetch(`${g.httpUrl}/metrics`)).text();
  assert.match(metrics, /rotor_gateway_connections\{format="json"\} 1/);
  assert.match(metrics, /rotor_gateway_subscriptions 1/);
  assert.match(metrics, /rotor_gateway_commands_total\{command="connect",result="ok"\} 1/);
  assert.match(metrics, /rotor_gateway_command_duration_seconds_bucket/);
  assert.doesNotMatch(metrics, /"a"/, 'no channel names as label values');
});

test('an adapter reporting unhealthy makes readiness fail', async (t) => {
  let healthy = true;
  const g = await startTestGateway({}, { healthChecks: [() => (healthy ? { ok: true } : { ok: false, reason: 'nats down' })] });
  t.after(() => g.close());
  assert.equal((await fetch(`${g.httpUrl}/health`)).status, 200);
  healthy = false;
  const r = await fetch(`${g.httpUrl}/health`);
  assert.equal(r.status, 503);
  assert.deepEqual(await r.json(), { status: 'unavailable', reason: 'nats down' });
});

test('drain closes every connection with 3001, the SDK reconnects elsewhere, new upgrades are refused', async (t) => {
  const g = await startTestGateway({ rotor: { drain_window: '300ms' } });
  t.after(() => g.close());
  const clients = await Promise.all(Array.from({ length: 6 }, () => RawClient.open(g.url)));
  t.after(() => clients.forEach((c) => c.close()));
  await Promise.all(clients.map(async (c, i) => c.connect(await token({ sub: `u${i}` }))));
  const sdk = new Centrifuge(g.url, { websocket: WebSocket, token: await token({ sub: 'sdk' }) });
  t.after(() => sdk.disconnect());
  const connected = deferred();
  sdk.on('connected', () => connected.resolve());
  sdk.connect();
  await connected.promise;
  const connecting = deferred<{ code: number }>();
  sdk.on('connecting', (ctx) => connecting.resolve(ctx));

  const started = Date.now();
  const draining = g.gateway.drain();
  const ready = await fetch(`${g.httpUrl}/health`);
  assert.equal(ready.status, 503);
  assert.deepEqual(await ready.json(), { status: 'unavailable', reason: 'draining' });
  await assert.rejects(RawClient.open(g.url), /HTTP 503/);
  await draining;
  for (const c of clients) assert.deepEqual(await c.waitClosed(), { code: 3001, reason: 'shutdown' });
  assert.ok(Date.now() - started >= 150, 'disconnects are spread over the drain window');
  // 3001 is a reconnect code for the SDK.
  assert.equal((await connecting.promise).code, 3001);
  // Closed after the drain: nothing listens anymore.
  await assert.rejects(RawClient.open(g.url));
});

test('extraRoutes mounts more routes on the same app and port', async (t) => {
  const g = await startTestGateway(
    {},
    {
      extraRoutes: (app) => {
        app.post('/api/ping', (res) => {
          res.writeHeader('Content-Type', 'application/json').end('{"result":{}}');
        });
      },
    },
  );
  t.after(() => g.close());
  const r = await fetch(`${g.httpUrl}/api/ping`, { method: 'POST', body: '{}' });
  assert.equal(r.status, 200);
  assert.deepEqual(await r.json(), { result: {} });
  // The WebSocket endpoint still works next to it.
  const c = await RawClient.open(g.url);
  t.after(() => c.close());
  assert.ok((await c.connect(await token({ sub: 'u' }))).connect);
});

test('presence entries are refreshed every presence_update_interval', async (t) => {
  const g = await startTestGateway({
    client: { presence_update_interval: '200ms' },
    channel: { without_namespace: { allow_subscribe_for_client: true, presence: true } },
  });
  t.after(() => g.close());
  let adds = 0;
  const add = g.presence.add.bind(g.presence);
  g.presence.add = (channel, info, ttlMs) => {
    adds++;
    return add(channel, info, ttlMs);
  };
  const c = await RawClient.open(g.url);
  t.after(() => c.close());
  await c.connect(await token({ sub: 'alice' }));
  c.send([{ id: 2, subscribe: { channel: 'room' } }]);
  await c.reply(2);
  await waitFor(() => adds >= 3, { timeoutMs: 3000, what: 'two presence refreshes after the subscribe' });
  assert.equal((await g.presence.stats('room')).numClients, 1);
  c.send([{ id: 3, unsubscribe: { channel: 'room' } }]);
  await c.reply(3);
  await waitFor(async () => (await g.presence.stats('room')).numClients === 0, { what: 'presence removal' });
});
