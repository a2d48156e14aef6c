// Proxies over the raw protocol client against a real HTTP backend: every outcome of a proxy call
// (result, backend error, backend disconnect, no result, 5xx, bad JSON, unreachable, timeout),
// server-side refresh through the refresh and sub_refresh proxies, skip_history, binary encoding,
// connection meta, the rpc ping method, and the proxy metrics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Latch, deferred } from '@rotor/testkit';
import { RawClient, startTestGateway, token } from './harness.ts';
import type { TestGateway } from './harness.ts';
import { ProxyBackend } from './proxy-backend.ts';

const enc = new TextEncoder();
const json = (v: unknown): Uint8Array => enc.encode(JSON.stringify(v));
const parse = (b: Uint8Array | undefined): unknown => (b === undefined ? undefined : JSON.parse(new TextDecoder().decode(b)));

async function setup(t: { after: (fn: () => unknown) => void }, over: (b: ProxyBackend) => Record<string, unknown>) {
  const backend = await ProxyBackend.start();
  t.after(() => backend.close());
  const g = await startTestGateway(over(backend));
  t.after(() => g.close());
  return { backend, g };
}

async function open(t: { after: (fn: () => unknown) => void }, g: TestGateway, format: 'json' | 'protobuf' = 'json'): Promise<RawClient> {
  const c = await RawClient.open(g.url, { format });
  t.after(() => c.close());
  return c;
}

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

test('connect proxy outcomes: backend error, disconnect, no result, 5xx, bad JSON, timeout', async (t) => {
  const hung = new Latch(1);
  const { backend, g } = await setup(t, (b) => ({
    client: { proxy: { connect: { enabled: true, endpoint: b.endpoint('/connect'), timeout: '300ms' } } },
  }));
  backend.on('/connect', (req) => {
    switch ((req.body['data'] as { case: string }).case) {
      case 'error':
        return { json: { error: { code: 4001, message: 'who are you', temporary: true } } };
      case 'disconnect':
        return { json: { disconnect: { code: 4100, reason: 'banned' } } };
      case 'none':
        return { json: {} };
      case '5xx':
        return { status: 503 };
      case 'garbage':
        return { raw: '{"result": ' };
      case 'bigint':
        return { raw: '{"result": {"user": "big", "data": {"id": 12345678901234567890, "2": 0, "a": 1}}}' };
      default:
        hung.countDown();
        return 'hang';
    }
  });
  const connect = async (which: string): Promise<RawClient> => {
    const c = await open(t, g);
    c.send([{ id: 1, connect: { data: json({ case: which }) } }]);
    return c;
  };

  const err = await connect('error');
  assert.deepEqual((await err.reply(1)).error, { code: 4001, message: 'who are you', temporary: true });

  const disc = await connect('disconnect');
  assert.deepEqual(await disc.waitClosed(), { code: 4100, reason: 'banned' });

  // No result = no credentials; anonymous connections are not allowed here.
  const none = await connect('none');
  assert.equal((await none.waitClosed()).code, 3501);

  for (const which of ['5xx', 'garbage']) {
    const c = await connect(which);
    assert.deepEqual((await c.reply(1)).error, { code: 100, message: 'internal server error', temporary: true }, which);
  }

  // The backend's JSON is passed on as written (Centrifugo passes raw JSON): 64-bit ids survive.
  const big = await connect('bigint');
  assert.equal(new TextDecoder().decode((await big.reply(1)).connect?.data), '{"id": 12345678901234567890, "2": 0, "a": 1}');

  const slow = await connect('hang');
  await hung.wait(5000, 'the backend to receive the connect');
  const reply = await slow.reply(1, 5000);
  assert.deepEqual(reply.error, { code: 100, message: 'internal server error', temporary: true });

  const metrics = await (await fetch(`${g.httpUrl}/metrics`)).text();
  for (const [result, n] of [['error', 1], ['disconnect', 1], ['ok', 2], ['bad_status', 1], ['bad_response', 1], ['timeout', 1]] as const) {
    assert.match(metrics, new RegExp(`rotor_gateway_proxy_requests_total\\{type="connect",result="${result}"\\} ${n}\n`), result);
  }
  assert.match(metrics, /rotor_gateway_proxy_request_duration_seconds_count\{type="connect"\} 7\n/);
});

test('http.status_to_code_transforms: a backend status stands for an error reply or a disconnect', async (t) => {
  const { backend, g } = await setup(t, (b) => ({
    client: { allow_anonymous_connect_without_token: true },
    channel: {
      proxy: {
        subscribe: {
          endpoint: b.endpoint('/subscribe'),
          http: {
            status_to_code_transforms: [
              { status_code: 403, to_error: { code: 4403, message: 'forbidden' } },
              { status_code: 401, to_disconnect: { code: 4401, reason: 'unauthorized' } },
            ],
          },
        },
      },
      namespaces: [{ name: 'tr', subscribe_proxy_enabled: true }],
    },
  }));
  backend.on('/subscribe', (req) => ({ status: req.body['channel'] === 'tr:forbidden' ? 403 : req.body['channel'] === 'tr:teapot' ? 418 : 401 }));
  const c = await open(t, g);
  await c.connect('');
  c.send([{ id: 2, subscribe: { channel: 'tr:forbidden' } }]);
  assert.deepEqual((await c.reply(2)).error, { code: 4403, message: 'forbidden' });
  c.send([{ id: 3, subscribe: { channel: 'tr:teapot' } }]);
  assert.deepEqual((await c.reply(3)).error, { code: 100, message: 'internal server error', temporary: true });
  c.send([{ id: 4, subscribe: { channel: 'tr:other' } }]);
  assert.deepEqual(await c.waitClosed(), { code: 4401, reason: 'unauthorized' });
});

test('connect proxy unreachable: internal error 100, the gateway keeps serving', async (t) => {
  const port = await closedPort();
  const g = await startTestGateway({
    client: { proxy: { connect: { enabled: true, endpoint: `http://127.0.0.1:${port}/connect` } } },
  });
  t.after(() => g.close());
  for (let i = 0; i < 2; i++) {
    const c = await open(t, g);
    c.send([{ id: 1, connect: {} }]);
    assert.deepEqual((await c.reply(1)).error, { code: 100, message: 'internal server error', temporary: true });
  }
  const health = await fetch(`${g.httpUrl}/health`);
  assert.equal(health.status, 200);
});

test('a token skips the connect proxy; binary encoding and connection meta travel as configured', async (t) => {
  const { backend, g } = await setup(t, (b) => ({
    client: {
      proxy: { connect: { enabled: true, endpoint: b.endpoint('/connect'), binary_encoding: true } },
    },
    rpc: { proxy: { endpoint: b.endpoint('/rpc'), include_connection_meta: true, binary_encoding: true }, without_namespace: { proxy_enabled: true } },
  }));
  backend.on('/connect', (req) => {
    const sent = Buffer.from(req.body['b64data'] as string, 'base64');
    return { json: { result: { user: 'bin', b64data: Buffer.from([...sent].reverse()).toString('base64'), meta: { tenant: 't1' } } } };
  });
  backend.on('/rpc', (req) => ({ json: { result: { b64data: Buffer.from(JSON.stringify({ meta: req.body['meta'] })).toString('base64') } } }));

  const withToken = await open(t, g);
  assert.ok((await withToken.connect(await token({ sub: 'jwt-user' }))).connect);
  assert.equal(backend.received('/connect').length, 0, 'a client with a token is not proxied');

  const c = await open(t, g, 'protobuf');
  c.send([{ id: 1, connect: { data: new Uint8Array([1, 2, 3, 250]) } }]);
  const reply = await c.reply(1);
  assert.deepEqual(reply.connect?.data, new Uint8Array([250, 3, 2, 1]));
  const [req] = backend.received('/connect');
  assert.equal(req?.body['protocol'], 'protobuf');
  assert.equal(req?.body['encoding'], 'binary');
  assert.equal(req?.body['data'], undefined);

  c.send([{ id: 2, rpc: { method: 'whoami', data: new Uint8Array([0xff]) } }]);
  const rpc = await c.reply(2);
  assert.deepEqual(parse(rpc.rpc?.data), { meta: { tenant: 't1' } });
  const [rpcReq] = backend.received('/rpc');
  assert.equal(rpcReq?.body['user'], 'bin');
  assert.equal(rpcReq?.body['b64data'], Buffer.from([0xff]).toString('base64'));
});

test('subscribe proxy outcomes over the raw protocol: disconnect, 5xx, timeout, overrides', async (t) => {
  const hung = new Latch(1);
  const { backend, g } = await setup(t, (b) => ({
    client: { allow_anonymous_connect_without_token: true },
    channel: {
      proxy: { subscribe: { endpoint: b.endpoint('/subscribe'), timeout: '250ms' } },
      namespaces: [{ name: 'sp', subscribe_proxy_enabled: true, join_leave: true }],
    },
  }));
  backend.on('/subscribe', (req) => {
    switch (req.body['channel']) {
      case 'sp:kick':
        return { json: { disconnect: { code: 4200, reason: 'kicked' } } };
      case 'sp:broken':
        return { status: 500 };
      case 'sp:slow':
        hung.countDown();
        return 'hang';
      default:
        return { json: { result: { override: { presence: { value: true }, join_leave: { value: false } }, expire_at: Math.floor(Date.now() / 1000) + 3600 } } };
    }
  });
  const c = await open(t, g);
  assert.ok((await c.connect('')).connect);
  c.send([{ id: 2, subscribe: { channel: 'sp:ok' } }]);
  const ok = await c.reply(2);
  // Client-side refresh (no sub_refresh proxy in this namespace): expires with a ttl.
  assert.equal(ok.subscribe?.expires, true);
  assert.ok((ok.subscribe?.ttl ?? 0) > 3500);
  // override.presence turned presence on in a namespace without it.
  assert.equal((await g.presence.get('sp:ok')).size, 1);

  c.send([{ id: 3, subscribe: { channel: 'sp:broken' } }]);
  assert.deepEqual((await c.reply(3)).error, { code: 100, message: 'internal server error', temporary: true });
  c.send([{ id: 4, subscribe: { channel: 'sp:slow' } }]);
  await hung.wait(5000, 'the backend to receive the subscribe');
  assert.deepEqual((await c.reply(4, 5000)).error, { code: 100, message: 'internal server error', temporary: true });
  c.send([{ id: 5, subscribe: { channel: 'sp:kick' } }]);
  assert.deepEqual(await c.waitClosed(), { code: 4200, reason: 'kicked' });
});

test('publish proxy skip_history keeps the publication out of history', async (t) => {
  const { backend, g } = await setup(t, (b) => ({
    client: { allow_anonymous_connect_without_token: true },
    channel: {
      proxy: { publish: { endpoint: b.endpoint('/publish') } },
      namespaces: [{ name: 'hist', publish_proxy_enabled: true, history_size: 10, history_ttl: '60s' }],
    },
  }));
  backend.on('/publish', (req) => ({ json: { result: { skip_history: (req.body['data'] as { skip: boolean }).skip } } }));
  const c = await open(t, g);
  await c.connect('');
  c.send([{ id: 2, publish: { channel: 'hist:1', data: json({ skip: true }) } }]);
  assert.deepEqual((await c.reply(2)).publish, {});
  c.send([{ id: 3, publish: { channel: 'hist:1', data: json({ skip: false }) } }]);
  assert.deepEqual((await c.reply(3)).publish, {});
  const read = await g.history.read({ channel: 'hist:1', limit: -1, reverse: false, metaTtlMs: 3_600_000 });
  assert.deepEqual(
    read.publications.map((p) => parse(p.data)),
    [{ skip: false }],
  );
});

test('refresh proxy: the server refreshes expiring connections; expired ends them with 3005', async (t) => {
  let refreshes = 0;
  const expiredSent = deferred();
  const { backend, g } = await setup(t, (b) => ({
    client: {
      proxy: {
        connect: { enabled: true, endpoint: b.endpoint('/connect') },
        refresh: { enabled: true, endpoint: b.endpoint('/refresh') },
      },
    },
  }));
  const soon = (): number => Math.floor(Date.now() / 1000) + 1;
  backend.on('/connect', () => ({ json: { result: { user: 'u1', expire_at: soon() } } }));
  backend.on('/refresh', () => {
    refreshes++;
    if (refreshes === 1) return { json: { result: { expire_at: soon(), info: { refreshed: 1 } } } };
    expiredSent.resolve();
    return { json: { result: { expired: true } } };
  });
  const c = await open(t, g);
  const reply = await c.connect('');
  // Server-side refresh: the client is not asked to refresh.
  assert.equal(reply.connect?.expires, undefined);
  assert.equal(reply.connect?.ttl, undefined);
  await expiredSent.promise;
  assert.equal((await c.waitClosed(10_000)).code, 3005);
  const reqs = backend.received('/refresh');
  assert.equal(reqs.length, 2);
  assert.equal(reqs[0]?.body['user'], 'u1');

  // A client refresh command is refused: the server refreshes.
  const other = await open(t, g);
  await other.connect('');
  other.send([{ id: 2, refresh: { token: 'x' } }]);
  assert.equal((await other.waitClosed()).code, 3501);
});

test('sub_refresh proxy: server-refreshed subscriptions end with Unsubscribe 2501 when expired', async (t) => {
  const { backend, g } = await setup(t, (b) => ({
    client: { allow_anonymous_connect_without_token: true },
    channel: {
      proxy: { subscribe: { endpoint: b.endpoint('/subscribe') }, sub_refresh: { endpoint: b.endpoint('/sub_refresh') } },
      namespaces: [{ name: 'sr', subscribe_proxy_enabled: true, sub_refresh_proxy_enabled: true }],
    },
  }));
  backend.on('/subscribe', () => ({ json: { result: { expire_at: Math.floor(Date.now() / 1000) + 1 } } }));
  backend.on('/sub_refresh', () => ({ json: { result: { expired: true } } }));
  const c = await open(t, g);
  await c.connect('');
  c.send([{ id: 2, subscribe: { channel: 'sr:a' } }]);
  const sub = await c.reply(2);
  assert.equal(sub.subscribe?.expires, undefined);
  c.send([{ id: 3, subRefresh: { channel: 'sr:a', token: 'x' } }]);
  assert.equal((await c.waitClosed()).code, 3501, 'a server-refreshed subscription takes no client sub_refresh');

  const d = await open(t, g);
  await d.connect('');
  d.send([{ id: 2, subscribe: { channel: 'sr:b' } }]);
  await d.reply(2);
  const push = await d.replies.waitForMatch((r) => r.push?.unsubscribe !== undefined, 'unsubscribe push', 10_000);
  assert.equal(push.push?.channel, 'sr:b');
  assert.equal(push.push?.unsubscribe?.code, 2501);
  assert.deepEqual(backend.received('/sub_refresh')[0]?.body['channel'], 'sr:b');
});

test('rpc: ping method without proxy, 108 when no rpc is configured, send still 3508', async (t) => {
  const g = await startTestGateway({ client: { allow_anonymous_connect_without_token: true }, rpc: { ping: { enabled: true } } });
  t.after(() => g.close());
  const c = await open(t, g);
  await c.connect('');
  c.send([{ id: 2, rpc: { method: 'ping' } }]);
  assert.deepEqual((await c.reply(2)).rpc, {});
  c.send([{ id: 3, rpc: { method: 'other' } }]);
  assert.equal((await c.reply(3)).error?.code, 108);
  c.send([{ send: { data: json({ x: 1 }) } }]);
  assert.equal((await c.waitClosed()).code, 3508);
});

test('a server-side subscribe that lands while the subscribe proxy is asked wins; the client subscribe answers 105', async (t) => {
  const asked = new Latch(1);
  const release = deferred<void>();
  const { backend, g } = await setup(t, (b) => ({
    channel: {
      proxy: { subscribe: { endpoint: b.endpoint('/subscribe'), timeout: '5s' } },
      namespaces: [{ name: 'race', subscribe_proxy_enabled: true }],
    },
  }));
  backend.on('/subscribe', async () => {
    asked.countDown();
    await release.promise;
    return { json: { result: {} } };
  });
  const c = await open(t, g);
  assert.ok((await c.connect(await token({ sub: 'alice' }))).connect);
  c.send([{ id: 2, subscribe: { channel: 'race:x' } }]);
  await asked.wait(5000, 'the backend to receive the subscribe');
  g.controlBus.send({ kind: 'subscribe', user: 'alice', channel: 'race:x' });
  await c.replies.waitForMatch((r) => r.push?.subscribe !== undefined && r.push.channel === 'race:x', 'the server-side subscribe push');
  release.resolve();
  assert.equal((await c.reply(2)).error?.code, 105);
  // The server-side subscription is the one that stays and receives.
  await g.publish('race:x', { n: 1 });
  const pub = await c.replies.waitForMatch((r) => r.push?.pub !== undefined, 'a publication');
  assert.equal(pub.push?.channel, 'race:x');
});
