// Proxies with the real centrifuge SDK (5.8.0, over `ws`) against a real HTTP backend: connect
// without token, subscribe, publish and rpc decided by the backend; upgrade headers forwarded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Centrifuge } from 'centrifuge';
import { Collector, deferred } from '@rotor/testkit';
import WebSocket from 'ws';
import { startTestGateway } from './harness.ts';
import { ProxyBackend } from './proxy-backend.ts';

/** A `ws` WebSocket sending the headers a browser (or a reverse proxy) would add. */
function wsWithHeaders(headers: Record<string, string>): typeof WebSocket {
  return class extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { headers });
    }
  } as typeof WebSocket;
}

async function setup(t: { after: (fn: () => unknown) => void }, over: (b: ProxyBackend) => Record<string, unknown>) {
  const backend = await ProxyBackend.start();
  t.after(() => backend.close());
  const g = await startTestGateway(over(backend));
  t.after(() => g.close());
  return { backend, g };
}

test('connect proxy: a client without token gets user, info, data and server-side channels from the backend; headers are forwarded', async (t) => {
  const { backend, g } = await setup(t, (b) => ({
    client: {
      proxy: {
        connect: {
          enabled: true,
          endpoint: b.endpoint('/connect'),
          timeout: '2s',
          http_headers: ['Cookie', 'Authorization', 'X-Real-Ip'],
          http: { static_headers: { 'X-Static': 'static-1', Authorization: 'overridden-by-client' } },
        },
      },
    },
    channel: { namespaces: [{ name: 'news', presence: true }] },
  }));
  backend.on('/connect', () => ({
    json: { result: { user: 'alice', info: { name: 'Alice' }, data: { welcome: true }, channels: ['news:all'] } },
  }));
  const client = new Centrifuge(g.url, {
    websocket: wsWithHeaders({ Cookie: 'session=abc', Authorization: 'Bearer t0k', 'X-Real-Ip': '10.1.2.3', 'X-Not-Listed': 'no' }),
    data: { hello: 'backend' },
    name: 'proxy-test',
  });
  t.after(() => client.disconnect());
  const connected = deferred<{ client: string; data?: unknown }>();
  const serverSubs = new Collector<string>('server-side subscriptions');
  client.on('connected', (ctx) => connected.resolve(ctx));
  client.on('subscribed', (ctx) => serverSubs.push(ctx.channel));
  client.connect();
  const ctx = await connected.promise;
  assert.deepEqual(ctx.data, { welcome: true });
  assert.deepEqual(await serverSubs.waitFor(1), ['news:all']);

  const [req] = backend.received('/connect');
  assert.ok(req !== undefined);
  assert.equal(req.body['client'], ctx.client);
  assert.equal(req.body['transport'], 'websocket');
  assert.equal(req.body['protocol'], 'json');
  assert.equal(req.body['encoding'], 'json');
  assert.equal(req.body['name'], 'proxy-test');
  assert.deepEqual(req.body['data'], { hello: 'backend' });
  assert.equal(req.body['user'], undefined);
  assert.equal(req.headers['cookie'], 'session=abc');
  assert.equal(req.headers['authorization'], 'Bearer t0k', 'a forwarded client header wins over a static one');
  assert.equal(req.headers['x-real-ip'], '10.1.2.3');
  assert.equal(req.headers['x-static'], 'static-1');
  assert.equal(req.headers['x-not-listed'], undefined);
  assert.equal(req.headers['content-type'], 'application/json');

  // The backend's user and info are the connection's: presence of the server-side channel shows them.
  const entries = [...(await g.presence.get('news:all')).values()];
  assert.equal(entries.length, 1);
  assert.equal(entries[0]?.user, 'alice');
  assert.deepEqual(JSON.parse(new TextDecoder().decode(entries[0]?.connInfo)), { name: 'Alice' });
});

test('subscribe proxy: the backend allows with info and data, or refuses with its error', async (t) => {
  const { backend, g } = await setup(t, (b) => ({
    client: { allow_anonymous_connect_without_token: true },
    channel: {
      proxy: { subscribe: { endpoint: b.endpoint('/subscribe') } },
      namespaces: [{ name: 'sp', subscribe_proxy_enabled: true, presence: true, allow_presence_for_subscriber: true, allow_presence_for_anonymous: true }],
    },
  }));
  backend.on('/subscribe', (req) =>
    req.body['channel'] === 'sp:ok'
      ? { json: { result: { info: { role: 'reader' }, data: { motd: 'hi' } } } }
      : { json: { error: { code: 4403, message: 'not for you' } } },
  );
  const client = new Centrifuge(g.url, { websocket: WebSocket });
  t.after(() => client.disconnect());
  client.connect();

  const ok = client.newSubscription('sp:ok', { data: { want: 'ok' } });
  const subscribed = deferred<{ data?: unknown }>();
  ok.on('subscribed', (ctx) => subscribed.resolve(ctx));
  ok.subscribe();
  assert.deepEqual((await subscribed.promise).data, { motd: 'hi' });
  // The backend's channel info is this subscriber's chan_info.
  const presence = await ok.presence();
  const clients = Object.values(presence.clients);
  assert.equal(clients.length, 1);
  assert.deepEqual(clients[0]?.chanInfo, { role: 'reader' });
  const [req] = backend.received('/subscribe');
  assert.equal(req?.body['channel'], 'sp:ok');
  assert.equal(req?.body['user'], '');
  assert.deepEqual(req?.body['data'], { want: 'ok' });

  const no = client.newSubscription('sp:no');
  const unsubscribed = deferred<{ code: number }>();
  no.on('unsubscribed', (ctx) => unsubscribed.resolve(ctx));
  no.subscribe();
  assert.equal((await unsubscribed.promise).code, 4403);
});

test('publish proxy: the backend may rewrite the data or refuse; its decision replaces the namespace permissions', async (t) => {
  const { backend, g } = await setup(t, (b) => ({
    client: { allow_anonymous_connect_without_token: true },
    channel: {
      proxy: { publish: { endpoint: b.endpoint('/publish') } },
      // No allow_publish_*: only the proxy can allow publishing.
      namespaces: [{ name: 'pp', publish_proxy_enabled: true, allow_subscribe_for_client: true, allow_subscribe_for_anonymous: true }],
    },
  }));
  backend.on('/publish', (req) => {
    const data = req.body['data'] as { text?: string };
    if (data.text === 'forbidden') return { json: { error: { code: 4000, message: 'moderated' } } };
    return { json: { result: { data: { text: data.text?.toUpperCase(), checked: true } } } };
  });
  const client = new Centrifuge(g.url, { websocket: WebSocket });
  t.after(() => client.disconnect());
  client.connect();
  const sub = client.newSubscription('pp:room');
  const pubs = new Collector<unknown>('publications');
  sub.on('publication', (ctx) => pubs.push(ctx.data));
  const subscribed = deferred();
  sub.on('subscribed', () => subscribed.resolve());
  sub.subscribe();
  await subscribed.promise;

  await sub.publish({ text: 'hello' });
  assert.deepEqual(await pubs.waitFor(1), [{ text: 'HELLO', checked: true }]);
  await assert.rejects(sub.publish({ text: 'forbidden' }), (err: { code: number; message: string }) => err.code === 4000 && err.message === 'moderated');
  const reqs = backend.received('/publish');
  assert.equal(reqs.length, 2);
  assert.equal(reqs[0]?.body['channel'], 'pp:room');
  assert.deepEqual(reqs[0]?.body['data'], { text: 'hello' });
});

test('rpc proxy: methods route by rpc namespace to the default or a named proxy; unknown namespace 104', async (t) => {
  const { backend, g } = await setup(t, (b) => ({
    client: { allow_anonymous_connect_without_token: true },
    proxies: [{ name: 'ext-backend', endpoint: b.endpoint('/rpc-ext'), timeout: '2s' }],
    rpc: {
      proxy: { endpoint: b.endpoint('/rpc') },
      without_namespace: { proxy_enabled: true },
      namespaces: [
        { name: 'ext', proxy_enabled: true, proxy_name: 'ext-backend' },
        { name: 'off', proxy_enabled: false },
      ],
    },
  }));
  backend.on('/rpc', (req) =>
    req.body['method'] === 'fail'
      ? { json: { error: { code: 4500, message: 'no such thing' } } }
      : { json: { result: { data: { echo: req.body['data'], method: req.body['method'] } } } },
  );
  backend.on('/rpc-ext', (req) => ({ json: { result: { data: { ext: req.body['method'] } } } }));
  const client = new Centrifuge(g.url, { websocket: WebSocket });
  t.after(() => client.disconnect());
  client.connect();

  assert.deepEqual((await client.rpc('sum', { a: 1, b: 2 })).data, { echo: { a: 1, b: 2 }, method: 'sum' });
  assert.deepEqual((await client.rpc('ext:lookup', {})).data, { ext: 'ext:lookup' });
  await assert.rejects(client.rpc('fail', {}), (err: { code: number }) => err.code === 4500);
  await assert.rejects(client.rpc('nope:x', {}), (err: { code: number }) => err.code === 104);
  await assert.rejects(client.rpc('off:x', {}), (err: { code: number }) => err.code === 108);
  assert.equal(backend.received('/rpc-ext').length, 1);
});
