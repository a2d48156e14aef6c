// Proxy configuration (Centrifugo v6 layout): a v6 config with proxies loads unchanged; problems
// name their key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from './load.ts';

function load(t: { after: (fn: () => void) => void }, content: unknown, env: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'rotor-proxy-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify(content));
  return loadConfig({ file, env, hostname: 'h' });
}

function problems(t: { after: (fn: () => void) => void }, content: unknown): string[] {
  try {
    load(t, content);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return [...err.problems];
  }
  assert.fail('expected a ConfigError');
}

// A Centrifugo v6 configuration using every proxy feature Rotor implements.
const centrifugoV6 = {
  client: {
    allow_anonymous_connect_without_token: false,
    proxy: {
      connect: {
        enabled: true,
        endpoint: 'http://backend:3000/centrifugo/connect',
        timeout: '3s',
        http_headers: ['Cookie', 'Authorization', 'X-Real-Ip'],
        http: {
          static_headers: { 'X-Centrifugo': 'yes' },
          status_to_code_transforms: [
            { status_code: 401, to_disconnect: { code: 4501, reason: 'unauthorized' } },
            { status_code: 429, to_error: { code: 4429, message: 'slow down', temporary: true } },
          ],
        },
      },
      refresh: { enabled: true, endpoint: 'http://backend:3000/centrifugo/refresh', include_connection_meta: true },
    },
  },
  channel: {
    proxy: {
      subscribe: { endpoint: 'http://backend:3000/centrifugo/subscribe', http_headers: ['Cookie'] },
      publish: { endpoint: 'http://backend:3000/centrifugo/publish', binary_encoding: true },
      sub_refresh: { endpoint: 'http://backend:3000/centrifugo/sub_refresh' },
    },
    without_namespace: { subscribe_proxy_enabled: true },
    namespaces: [
      { name: 'chat', subscribe_proxy_enabled: true, publish_proxy_enabled: true, sub_refresh_proxy_enabled: true },
      { name: 'billing', subscribe_proxy_enabled: true, subscribe_proxy_name: 'billing-backend' },
    ],
  },
  rpc: {
    proxy: { endpoint: 'http://backend:3000/centrifugo/rpc', timeout: '500ms' },
    without_namespace: { proxy_enabled: true },
    namespaces: [{ name: 'billing', proxy_enabled: true, proxy_name: 'billing-backend' }],
    ping: { enabled: true, method: 'ping' },
  },
  proxies: [{ name: 'billing-backend', endpoint: 'https://billing:8443/proxy', timeout: '2s', http_headers: ['Authorization'] }],
};

test('a Centrifugo v6 config with proxies loads without warnings', (t) => {
  const { config, warnings } = load(t, centrifugoV6);
  assert.deepEqual(warnings, []);
  const connect = config.client.proxy.connect;
  assert.equal(connect.enabled, true);
  assert.equal(connect.endpoint, 'http://backend:3000/centrifugo/connect');
  assert.equal(connect.timeoutMs, 3000);
  assert.deepEqual(connect.httpHeaders, ['Cookie', 'Authorization', 'X-Real-Ip']);
  assert.deepEqual(connect.http.staticHeaders, { 'X-Centrifugo': 'yes' });
  assert.deepEqual(connect.http.statusToCodeTransforms, [
    { statusCode: 401, toError: { code: 0, message: '', temporary: false }, toDisconnect: { code: 4501, reason: 'unauthorized' } },
    { statusCode: 429, toError: { code: 4429, message: 'slow down', temporary: true }, toDisconnect: { code: 0, reason: '' } },
  ]);
  assert.equal(config.client.proxy.refresh.includeConnectionMeta, true);
  assert.equal(config.channel.proxy.publish.binaryEncoding, true);
  assert.equal(config.channel.proxy.subRefresh.timeoutMs, 1000, 'Centrifugo default timeout');
  assert.equal(config.channel.withoutNamespace.subscribeProxyName, 'default');
  assert.equal(config.channel.namespaces[1]?.subscribeProxyName, 'billing-backend');
  assert.equal(config.rpc.proxy.timeoutMs, 500);
  assert.deepEqual(config.rpc.namespaces, [{ name: 'billing', proxyEnabled: true, proxyName: 'billing-backend' }]);
  assert.deepEqual(config.rpc.ping, { enabled: true, method: 'ping' });
  assert.equal(config.rpc.namespaceBoundary, ':');
  assert.equal(config.proxies[0]?.name, 'billing-backend');
  assert.equal(config.proxies[0]?.timeoutMs, 2000);
  assert.deepEqual(config.proxies[0]?.http.staticHeaders, {});
});

test('proxy keys from the environment', (t) => {
  const { config } = load(t, {}, {
    ROTOR_CLIENT_PROXY_CONNECT_ENABLED: 'true',
    ROTOR_CLIENT_PROXY_CONNECT_ENDPOINT: 'http://b/connect',
    ROTOR_CLIENT_PROXY_CONNECT_HTTP_HEADERS: 'Cookie,Authorization',
    ROTOR_CLIENT_PROXY_CONNECT_HTTP_STATIC_HEADERS: '{"X-A":"1"}',
    ROTOR_PROXIES: '[{"name":"p1","endpoint":"http://b/p1"}]',
    ROTOR_RPC_NAMESPACES: '[{"name":"ns","proxy_enabled":true,"proxy_name":"p1"}]',
  });
  assert.deepEqual(config.client.proxy.connect.httpHeaders, ['Cookie', 'Authorization']);
  assert.deepEqual(config.client.proxy.connect.http.staticHeaders, { 'X-A': '1' });
  assert.equal(config.proxies[0]?.endpoint, 'http://b/p1');
  assert.equal(config.rpc.namespaces[0]?.proxyName, 'p1');
});

test('problems name the key: missing or non-http endpoints, unknown or bad proxy names, rpc namespaces', (t) => {
  const got = problems(t, {
    client: { proxy: { connect: { enabled: true }, refresh: { enabled: true, endpoint: 'grpc://backend:10001' } } },
    channel: {
      proxy: { publish: { endpoint: 'ftp://x' }, sub_refresh: { timeout: 5 } },
      namespaces: [
        { name: 'a1', subscribe_proxy_enabled: true },
        { name: 'a2', publish_proxy_enabled: true },
        { name: 'a3', subscribe_proxy_enabled: true, subscribe_proxy_name: 'missing' },
      ],
    },
    rpc: {
      without_namespace: { proxy_enabled: true },
      namespaces: [{ name: 'x' }, { name: 'ok', proxy_enabled: true, proxy_name: 'p' }, { name: 'ok' }],
    },
    proxies: [
      {
        name: 'p',
        endpoint: 'http://p',
        http: {
          static_headers: { 'X-N': 1 },
          status_to_code_transforms: [
            { status_code: 42, to_error: { code: 1 } },
            { status_code: 500 },
            { status_code: 502, to_disconnect: { code: 1000 } },
          ],
        },
      },
      { name: 'p', endpoint: 'http://p2' },
      { name: 'default', endpoint: 'http://d' },
      { name: 'bad name', endpoint: 'http://d' },
    ],
  });
  const expect: Array<[string, string]> = [
    ['client.proxy.connect.endpoint', 'required: client.proxy.connect.enabled'],
    ['client.proxy.refresh.endpoint', 'gRPC proxies are not supported'],
    ['channel.proxy.sub_refresh.timeout', 'bare number'],
    ['channel.proxy.subscribe.endpoint', 'required: channel.namespaces[0].subscribe_proxy_enabled'],
    ['channel.proxy.publish.endpoint', 'must be an http(s) URL'],
    ['channel.namespaces[2].subscribe_proxy_name', 'no proxy named "missing"'],
    ['rpc.proxy.endpoint', 'required: rpc.without_namespace.proxy_enabled'],
    ['rpc.namespaces[0].name', 'invalid rpc namespace name'],
    ['rpc.namespaces[2].name', 'duplicate rpc namespace name'],
    ['proxies[0].http.static_headers.X-N', 'expected a string'],
    ['proxies[0].http.status_to_code_transforms[0].status_code', 'must be an HTTP status'],
    ['proxies[0].http.status_to_code_transforms[1]', 'exactly one of to_error.code and to_disconnect.code'],
    ['proxies[0].http.status_to_code_transforms[2].to_disconnect.code', 'must be a disconnect code'],
    ['proxies[1].name', 'duplicate proxy name'],
    ['proxies[2].name', 'reserved'],
    ['proxies[3].name', 'invalid proxy name'],
  ];
  for (const [key, what] of expect) {
    assert.ok(
      got.some((p) => p.startsWith(`${key}:`) && p.includes(what)),
      `missing "${key}: …${what}…" in\n${got.join('\n')}`,
    );
  }
});

test('features that stay unsupported are warned about, naming the key', (t) => {
  const { warnings } = load(t, {
    client: { connect_proxy_name: 'p', proxy: { connect: { grpc: { compression: true } } } },
    channel: {
      proxy: { subscribe_stream: { endpoint: 'grpc://s' } },
      namespaces: [{ name: 'st', subscribe_stream_proxy_enabled: true }],
    },
    unified_proxy: { enabled: true },
  });
  for (const key of [
    'client.connect_proxy_name',
    'client.proxy.connect.grpc',
    'channel.proxy.subscribe_stream',
    'channel.namespaces[0].subscribe_stream_proxy_enabled',
    'unified_proxy',
  ]) {
    assert.ok(warnings.some((w) => w.startsWith(`${key}:`)), `missing ${key} in\n${warnings.join('\n')}`);
  }
});

test('a rejected endpoint is named without the credentials it may carry', (t) => {
  const got = problems(t, {
    client: { proxy: { connect: { enabled: true, endpoint: 'ftp://app:s3cret@backend/connect' }, refresh: { enabled: true, endpoint: 'htps//app:s3cret@backend/r' } } },
  });
  assert.ok(got.some((p) => p.startsWith('client.proxy.connect.endpoint:') && p.includes('must be an http(s) URL')), got.join('\n'));
  assert.ok(got.some((p) => p.startsWith('client.proxy.refresh.endpoint:') && p.includes('must be an http(s) URL')), got.join('\n'));
  assert.ok(!got.some((p) => p.includes('s3cret')), got.join('\n'));
});
