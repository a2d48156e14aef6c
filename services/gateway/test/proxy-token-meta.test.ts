// The connection token's `meta` claim (PROTOCOL.md §8: server-only JSON attached to the
// connection for proxies) travels in the requests of proxies with include_connection_meta, and a
// client-side token refresh replaces it, as in Centrifugo.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, startTestGateway, token } from './harness.ts';
import { ProxyBackend } from './proxy-backend.ts';

test('a connection token meta claim reaches proxies with include_connection_meta', async (t) => {
  const backend = await ProxyBackend.start();
  t.after(() => backend.close());
  backend.on('/rpc', () => ({ json: { result: {} } }));
  const g = await startTestGateway({
    rpc: { proxy: { endpoint: backend.endpoint('/rpc'), include_connection_meta: true }, without_namespace: { proxy_enabled: true } },
  });
  t.after(() => g.close());
  const c = await RawClient.open(g.url);
  t.after(() => c.close());
  assert.ok((await c.connect(await token({ sub: 'u1', meta: { tenant: 7 } }))).connect);
  c.send([{ id: 2, rpc: { method: 'm' } }]);
  assert.ok((await c.reply(2)).rpc);
  assert.deepEqual(backend.received('/rpc')[0]?.body['meta'], { tenant: 7 });

  c.send([{ id: 3, refresh: { token: await token({ sub: 'u1', meta: { tenant: 8 } }) } }]);
  assert.ok((await c.reply(3)).refresh);
  c.send([{ id: 4, rpc: { method: 'm' } }]);
  await c.reply(4);
  assert.deepEqual(backend.received('/rpc')[1]?.body['meta'], { tenant: 8 });
});
