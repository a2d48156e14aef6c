// Proxies in cluster mode (real processes: nats-server, a history shard, the api, a gateway) with
// a real HTTP backend and the centrifuge SDK: a client without token is authenticated by the
// connect proxy, and a publication the publish proxy rewrote travels NATS → shard → gateway back
// to the subscriber, with history.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Centrifuge } from 'centrifuge';
import { Collector, deferred } from '@rotor/testkit';
import WebSocket from 'ws';
import { startCluster } from '../src/cluster.ts';

test('cluster mode: connect proxy without token, publish proxy rewrites, the publication reaches the subscriber', { timeout: 120_000 }, async (t) => {
  const paths: string[] = [];
  const backend = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      paths.push(req.url ?? '');
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { data?: { n: number } };
      const answer =
        req.url === '/connect'
          ? { result: { user: `proxied-${req.headers['x-user-hint'] ?? 'none'}` } }
          : { result: { data: { n: (body.data?.n ?? 0) * 10, via: 'proxy' } } };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    backend.closeAllConnections();
    backend.close();
  });
  const base = `http://127.0.0.1:${(backend.address() as AddressInfo).port}`;
  const cluster = await startCluster(t, {
    shards: 1,
    env: {
      ROTOR_CLIENT_PROXY_CONNECT_ENABLED: 'true',
      ROTOR_CLIENT_PROXY_CONNECT_ENDPOINT: `${base}/connect`,
      ROTOR_CLIENT_PROXY_CONNECT_HTTP_HEADERS: 'X-User-Hint',
      ROTOR_CHANNEL_PROXY_PUBLISH_ENDPOINT: `${base}/publish`,
      ROTOR_CHANNEL_NAMESPACES: JSON.stringify([
        { name: 'room', publish_proxy_enabled: true, allow_subscribe_for_client: true, allow_history_for_subscriber: true, history_size: 10, history_ttl: '60s', force_recovery: true },
      ]),
    },
  });
  const gw = await cluster.startGateway();
  const headers = { 'X-User-Hint': 'bob' };
  const Ws = class extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { headers });
    }
  };
  const client = new Centrifuge(cluster.wsUrl(gw), { websocket: Ws });
  t.after(() => client.disconnect());
  const sub = client.newSubscription('room:1');
  const pubs = new Collector<unknown>('publications');
  sub.on('publication', (ctx) => pubs.push({ data: ctx.data, user: ctx.info?.user }));
  const subscribed = deferred();
  sub.on('subscribed', () => subscribed.resolve());
  sub.subscribe();
  client.connect();
  await subscribed.promise;
  await sub.publish({ n: 4 });
  assert.deepEqual(await pubs.waitFor(1, 20_000), [{ data: { n: 40, via: 'proxy' }, user: 'proxied-bob' }]);
  const history = await sub.history({ limit: 10 });
  assert.deepEqual(
    history.publications.map((p) => p.data),
    [{ n: 40, via: 'proxy' }],
  );
  assert.deepEqual(paths, ['/connect', '/publish']);
});
