// The server API in the embedded wiring, observed by real centrifuge-js clients: publications
// sent over HTTP (on the gateway's own port) and gRPC arrive; presence, channels and info reflect
// the live connection; server-side subscribe / unsubscribe / disconnect reach the connection.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Centrifuge, Subscription } from 'centrifuge';
import { Collector, deferred } from '@rotor/testkit';
import { GRPC_KEY, GrpcTestClient, call } from './harness.ts';
import type { TestApi } from './harness.ts';
import { startEmbedded } from './embedded.ts';

async function connected(c: Centrifuge): Promise<string> {
  const d = deferred<string>();
  c.on('connected', (ctx) => d.resolve(ctx.client));
  c.connect();
  return d.promise;
}

async function subscribed(sub: Subscription): Promise<void> {
  const d = deferred();
  sub.on('subscribed', () => d.resolve());
  sub.subscribe();
  await d.promise;
}

test('embedded: HTTP API on the gateway port and gRPC API reach centrifuge-js; presence, channels, info see it', async () => {
  const e = await startEmbedded();
  const grpcClient = new GrpcTestClient(e.grpcPort);
  try {
    const alice = e.client('alice');
    const clientId = await connected(alice);
    const sub = alice.newSubscription('chat:room');
    const pubs = new Collector<{ data: unknown; offset?: number }>('publications');
    sub.on('publication', (p) => pubs.push({ data: p.data, offset: p.offset }));
    await subscribed(sub);

    // `call` takes a TestApi-like object; only httpUrl is used.
    const api = { httpUrl: e.httpUrl } as TestApi;
    const r = await call(api, 'publish', { channel: 'chat:room', data: { via: 'http' } });
    assert.equal((r['result'] as { offset: number }).offset, 1);
    const g = await grpcClient.call<{ result?: { offset?: number } }>(
      'Publish',
      { channel: 'chat:room', data: new TextEncoder().encode('{"via":"grpc"}') },
      { authorization: `apikey ${GRPC_KEY}` },
    );
    assert.equal(g.result?.offset, 2);
    assert.deepEqual(await pubs.waitFor(2), [
      { data: { via: 'http' }, offset: 1 },
      { data: { via: 'grpc' }, offset: 2 },
    ]);

    const presence = (await call(api, 'presence', { channel: 'chat:room' }))['result'] as { presence: Record<string, { user: string; client: string }> };
    assert.deepEqual(presence.presence, { [clientId]: { user: 'alice', client: clientId } });
    const channels = (await call(api, 'channels', { pattern: 'chat:*' }))['result'];
    assert.deepEqual(channels, { channels: { 'chat:room': { num_clients: 1 } } });
    const info = (await call(api, 'info', {}))['result'] as { nodes: Array<{ uid: string; num_clients: number; num_users: number }> };
    assert.equal(info.nodes.length, 1);
    assert.equal(info.nodes[0]!.uid, e.gateway.nodeId);
    assert.equal(info.nodes[0]!.num_clients, 1);

    // One /metrics for the whole process: the gateway serves the API's metrics too.
    const metrics = await (await fetch(`${e.httpUrl}/metrics`)).text();
    assert.match(metrics, /rotor_api_requests_total\{protocol="http",method="publish",result="ok"\} 1/);
    assert.match(metrics, /rotor_api_requests_total\{protocol="grpc",method="publish",result="ok"\} 1/);
    // The WebSocket endpoint and the API share the port; the API still wants its key there.
    const noKey = await fetch(`${e.httpUrl}/api/info`, { method: 'POST', body: '{}' });
    assert.equal(noKey.status, 401);
  } finally {
    grpcClient.close();
    await e.close();
  }
});

test('embedded: API subscribe, unsubscribe and disconnect act on the user\'s connection', async () => {
  const e = await startEmbedded();
  try {
    const api = { httpUrl: e.httpUrl } as TestApi;
    const bob = e.client('bob');
    await connected(bob);

    // Server-side subscription: the SDK reports it at client level, then receives its publications.
    const serverSubscribed = deferred<string>();
    bob.on('subscribed', (ctx) => serverSubscribed.resolve(ctx.channel));
    const serverPubs = new Collector<unknown>('server-side publications');
    bob.on('publication', (ctx) => serverPubs.push(ctx.data));
    assert.deepEqual(await call(api, 'subscribe', { channel: 'chat:news', user: 'bob' }), { result: {} });
    assert.equal(await serverSubscribed.promise, 'chat:news');
    await call(api, 'publish', { channel: 'chat:news', data: { n: 1 } });
    assert.deepEqual(await serverPubs.waitFor(1), [{ n: 1 }]);

    // Unsubscribe a client-side subscription: code 2000, no resubscribe.
    const sub = bob.newSubscription('chat:room');
    await subscribed(sub);
    const unsubscribed = deferred<number>();
    sub.on('unsubscribed', (ctx) => unsubscribed.resolve(ctx.code));
    await call(api, 'unsubscribe', { channel: 'chat:room', user: 'bob' });
    assert.equal(await unsubscribed.promise, 2000);

    // Disconnect with the default code 3503: terminal, the SDK does not reconnect.
    const disconnected = deferred<number>();
    bob.on('disconnected', (ctx) => disconnected.resolve(ctx.code));
    await call(api, 'disconnect', { user: 'bob' });
    assert.equal(await disconnected.promise, 3503);
  } finally {
    await e.close();
  }
});
