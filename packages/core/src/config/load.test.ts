import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { ConfigError, configEnvNames, loadConfig } from './load.ts';
import type { NamespaceOptions, ProxyConfig, RotorConfig } from './types.ts';

/** A temp dir per test, removed even when the test fails. */
function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'rotor-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function writeJson(dir: string, name: string, value: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
  return file;
}

function problemsOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err.problems;
  }
  assert.fail('expected a ConfigError');
}

const ns0: NamespaceOptions = {
  presence: false,
  joinLeave: false,
  forcePushJoinLeave: false,
  historySize: 0,
  historyTtlMs: 0,
  historyMetaTtlMs: 0,
  forcePositioning: false,
  allowPositioning: false,
  forceRecovery: false,
  allowRecovery: false,
  forceRecoveryMode: 'stream',
  autoCacheRecover: false,
  allowedDeltaTypes: [],
  deltaPublish: false,
  allowTagsFilter: false,
  allowSubscribeForClient: false,
  allowSubscribeForAnonymous: false,
  allowPublishForClient: false,
  allowPublishForSubscriber: false,
  allowPublishForAnonymous: false,
  allowPresenceForClient: false,
  allowPresenceForSubscriber: false,
  allowPresenceForAnonymous: false,
  allowHistoryForClient: false,
  allowHistoryForSubscriber: false,
  allowHistoryForAnonymous: false,
  allowUserLimitedChannels: false,
  channelRegex: '',
  publicationDataFormat: '',
  subscribeProxyEnabled: false,
  publishProxyEnabled: false,
  subRefreshProxyEnabled: false,
  subscribeStreamProxyEnabled: false,
  subscribeProxyName: 'default',
  publishProxyName: 'default',
  subRefreshProxyName: 'default',
};

const token0 = {
  hmacSecretKey: '',
  hmacPreviousSecretKey: '',
  hmacPreviousSecretKeyValidUntil: 0,
  rsaPublicKey: '',
  ecdsaPublicKey: '',
  jwksPublicEndpoint: '',
  audience: '',
  audienceRegex: '',
  issuer: '',
  issuerRegex: '',
  userIdClaim: 'sub',
  insecureSkipJwksEndpointSafetyCheck: false,
};

// Typed as RotorConfig so the compiler proves the schema's output shape is complete.
const proxy0: ProxyConfig = {
  endpoint: '',
  timeoutMs: 1000,
  httpHeaders: [],
  grpcMetadata: [],
  binaryEncoding: false,
  includeConnectionMeta: false,
  http: { staticHeaders: {}, statusToCodeTransforms: [] },
};

const expectedDefaults: RotorConfig = {
  client: {
    proxy: { connect: { enabled: false, ...proxy0 }, refresh: { enabled: false, ...proxy0 } },
    token: token0,
    subscriptionToken: { enabled: false, ...token0 },
    allowedOrigins: [],
    allowAnonymousConnectWithoutToken: false,
    disallowAnonymousConnectionTokens: false,
    insecure: false,
    insecureSkipTokenSignatureVerify: false,
    pingIntervalMs: 25_000,
    pongTimeoutMs: 8_000,
    staleCloseDelayMs: 10_000,
    expiredCloseDelayMs: 25_000,
    expiredSubCloseDelayMs: 25_000,
    presenceUpdateIntervalMs: 27_000,
    channelPositionCheckDelayMs: 40_000,
    channelLimit: 128,
    userConnectionLimit: 0,
    connectionLimit: 0,
    queueMaxSize: 1_048_576,
    recoveryMaxPublicationLimit: 300,
    historyMaxPublicationLimit: 300,
    connectIncludeServerTime: false,
    subscribeToUserPersonalChannel: { enabled: false, personalChannelNamespace: '', singleConnection: false },
  },
  channel: {
    proxy: { subscribe: proxy0, publish: proxy0, subRefresh: proxy0 },
    withoutNamespace: ns0,
    namespaces: [],
    maxLength: 255,
    historyMetaTtlMs: 720 * 3_600_000,
    namespaceBoundary: ':',
    userBoundary: '#',
    userSeparator: ',',
    privatePrefix: '$',
  },
  websocket: { messageSizeLimit: 65_536, writeTimeoutMs: 1000, compression: false },
  httpStream: { enabled: false, maxRequestBodySize: 65_536 },
  sse: { enabled: false, maxRequestBodySize: 65_536 },
  uniWebsocket: { enabled: false, joinPushMessages: false, messageSizeLimit: 65_536 },
  uniHttpStream: { enabled: false, maxRequestBodySize: 65_536 },
  uniSse: { enabled: false, maxRequestBodySize: 65_536 },
  emulation: { maxRequestBodySize: 65_536 },
  httpServer: { address: '', port: 8000 },
  httpApi: { key: '', insecure: false, errorMode: '', handlerPrefix: '/api', maxRequestBodySize: 4 * 1024 * 1024 },
  grpcApi: { enabled: false, address: '', port: 10_000, key: '', errorMode: '', maxReceiveMessageSize: 4 * 1024 * 1024 },
  prometheus: { enabled: false },
  health: { enabled: false },
  opentelemetry: { enabled: false, api: false },
  log: { level: 'info' },
  shutdown: { timeoutMs: 30_000 },
  rpc: {
    proxy: proxy0,
    withoutNamespace: { proxyEnabled: false, proxyName: 'default' },
    namespaces: [],
    ping: { enabled: false, method: 'ping' },
    namespaceBoundary: ':',
  },
  proxies: [],
  rotor: {
    nats: { url: 'nats://127.0.0.1:4222' },
    drainWindowMs: 10_000,
    presenceTtlMs: 60_000,
    history: { shards: 1, streamPrefix: 'ROTOR', replicas: 1, shard: -1, httpPort: 8080 },
    apiPort: 9000,
    nodeName: 'test-host',
  },
};

test('defaults are the Centrifugo v6 defaults plus ours, and load without warnings', () => {
  const { config, warnings } = loadConfig({ env: {}, hostname: 'test-host' });
  assert.deepEqual(config, expectedDefaults);
  assert.deepEqual(warnings, []);
});

test('the loaded config is deep-frozen', () => {
  const { config } = loadConfig({ env: {}, hostname: 'h' });
  assert.throws(() => {
    (config.client as { channelLimit: number }).channelLimit = 1;
  }, TypeError);
  assert.throws(() => {
    (config.client.allowedOrigins as string[]).push('x');
  }, TypeError);
  assert.throws(() => {
    (config.channel.withoutNamespace as { presence: boolean }).presence = true;
  }, TypeError);
});

// A Centrifugo v6 configuration using only features Rotor supports.
const centrifugoV6 = {
  client: {
    token: { hmac_secret_key: 'secret-1', audience: 'rotor-app', issuer_regex: '^https://(?P<tenant>[a-z]+)\\.example\\.com/' },
    subscription_token: { enabled: true, hmac_secret_key: 'sub-secret' },
    allowed_origins: ['https://example.com', 'https://*.example.com'],
    allow_anonymous_connect_without_token: true,
    ping_interval: '20s',
    pong_timeout: '5s',
    expired_close_delay: '1m',
    channel_limit: 256,
    user_connection_limit: 10,
    queue_max_size: 2_097_152,
    recovery_max_publication_limit: 500,
    connect_include_server_time: true,
    subscribe_to_user_personal_channel: { enabled: true, personal_channel_namespace: 'personal', single_connection: true },
  },
  channel: {
    without_namespace: { presence: true, allow_subscribe_for_client: true },
    history_meta_ttl: '168h',
    namespaces: [
      {
        name: 'chat',
        presence: true,
        join_leave: true,
        force_push_join_leave: true,
        history_size: 100,
        history_ttl: '300s',
        force_recovery: true,
        allow_subscribe_for_client: true,
        allow_publish_for_subscriber: true,
        allow_history_for_subscriber: true,
        allowed_delta_types: ['fossil'],
        channel_regex: '^[a-z0-9_]+$',
      },
      { name: 'personal', presence: true, history_size: 10, history_ttl: '1h', history_meta_ttl: '2h', force_recovery_mode: 'cache' },
      { name: 'feed.v2', allow_user_limited_channels: true, publication_data_format: 'json_object' },
    ],
  },
  http_server: { port: 8001 },
  http_api: { key: 'api-key', error_mode: 'transport' },
  grpc_api: { enabled: true, port: 10001, key: 'grpc-key' },
  websocket: { message_size_limit: 131072, write_timeout: '2s' },
  prometheus: { enabled: true },
  health: { enabled: true },
  log: { level: 'debug' },
  shutdown: { timeout: '45s' },
  // Off switches of Centrifugo features Rotor lacks: accepted silently.
  admin: { enabled: false },
  usage_stats: { disabled: true },
};

function assertCentrifugoV6(config: Readonly<RotorConfig>): void {
  assert.equal(config.client.token.hmacSecretKey, 'secret-1');
  assert.equal(config.client.token.audience, 'rotor-app');
  assert.equal(config.client.token.issuerRegex, '^https://(?P<tenant>[a-z]+)\\.example\\.com/');
  assert.equal(config.client.subscriptionToken.enabled, true);
  assert.equal(config.client.subscriptionToken.hmacSecretKey, 'sub-secret');
  assert.deepEqual(config.client.allowedOrigins, ['https://example.com', 'https://*.example.com']);
  assert.equal(config.client.allowAnonymousConnectWithoutToken, true);
  assert.equal(config.client.pingIntervalMs, 20_000);
  assert.equal(config.client.pongTimeoutMs, 5_000);
  assert.equal(config.client.expiredCloseDelayMs, 60_000);
  assert.equal(config.client.staleCloseDelayMs, 10_000, 'unset keys keep defaults');
  assert.equal(config.client.channelLimit, 256);
  assert.equal(config.client.userConnectionLimit, 10);
  assert.equal(config.client.queueMaxSize, 2_097_152);
  assert.equal(config.client.recoveryMaxPublicationLimit, 500);
  assert.equal(config.client.connectIncludeServerTime, true);
  assert.deepEqual(config.client.subscribeToUserPersonalChannel, { enabled: true, personalChannelNamespace: 'personal', singleConnection: true });
  assert.deepEqual(config.channel.withoutNamespace, { ...ns0, presence: true, allowSubscribeForClient: true });
  assert.equal(config.channel.historyMetaTtlMs, 168 * 3_600_000);
  assert.deepEqual(config.channel.namespaces, [
    {
      ...ns0,
      name: 'chat',
      presence: true,
      joinLeave: true,
      forcePushJoinLeave: true,
      historySize: 100,
      historyTtlMs: 300_000,
      forceRecovery: true,
      allowSubscribeForClient: true,
      allowPublishForSubscriber: true,
      allowHistoryForSubscriber: true,
      allowedDeltaTypes: ['fossil'],
      channelRegex: '^[a-z0-9_]+$',
    },
    { ...ns0, name: 'personal', presence: true, historySize: 10, historyTtlMs: 3_600_000, historyMetaTtlMs: 7_200_000, forceRecoveryMode: 'cache' },
    { ...ns0, name: 'feed.v2', allowUserLimitedChannels: true, publicationDataFormat: 'json_object' },
  ]);
  assert.deepEqual(config.httpServer, { address: '', port: 8001 });
  assert.equal(config.httpApi.key, 'api-key');
  assert.equal(config.httpApi.errorMode, 'transport');
  assert.deepEqual(
    { enabled: config.grpcApi.enabled, port: config.grpcApi.port, key: config.grpcApi.key },
    { enabled: true, port: 10001, key: 'grpc-key' },
  );
  assert.deepEqual(config.websocket, { messageSizeLimit: 131072, writeTimeoutMs: 2000, compression: false });
  assert.equal(config.prometheus.enabled, true);
  assert.equal(config.health.enabled, true);
  assert.equal(config.log.level, 'debug');
  assert.equal(config.shutdown.timeoutMs, 45_000);
}

test('a realistic Centrifugo v6 JSON config loads unchanged, without warnings', (t) => {
  const dir = tempDir(t);
  const file = writeJson(dir, 'config.json', centrifugoV6);
  const { config, warnings } = loadConfig({ file, env: {}, hostname: 'h' });
  assertCentrifugoV6(config);
  assert.deepEqual(warnings, []);
});

test('the same config as YAML (.yaml and .yml) loads to the same result', (t) => {
  const dir = tempDir(t);
  const fromJson = loadConfig({ file: writeJson(dir, 'c.json', centrifugoV6), env: {}, hostname: 'h' }).config;
  for (const name of ['c.yaml', 'c.yml']) {
    const file = join(dir, name);
    writeFileSync(file, toYaml(centrifugoV6));
    const { config, warnings } = loadConfig({ file, env: {}, hostname: 'h' });
    assert.deepEqual(config, fromJson, name);
    assert.deepEqual(warnings, []);
  }
});

test('hand-written YAML with comments, anchors and unquoted durations', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'rotor.yaml');
  writeFileSync(
    file,
    [
      '# Rotor test config',
      'client:',
      '  token:',
      '    hmac_secret_key: "abc"',
      '  ping_interval: 30s',
      'channel:',
      '  namespaces:',
      '    - &chat',
      '      name: chat',
      '      history_size: 10',
      '      history_ttl: 5m',
      '    - <<: *chat',
      '      name: chat2',
      'rotor:',
      '  nats:',
      '    url: nats://nats-0:4222,nats://nats-1:4222',
      '  history:',
      '    shards: 4',
      '',
    ].join('\n'),
  );
  const { config } = loadConfig({ file, env: {}, hostname: 'h' });
  assert.equal(config.client.pingIntervalMs, 30_000);
  assert.deepEqual(config.channel.namespaces.map((n) => [n.name, n.historySize, n.historyTtlMs]), [
    ['chat', 10, 300_000],
    ['chat2', 10, 300_000],
  ]);
  assert.equal(config.rotor.nats.url, 'nats://nats-0:4222,nats://nats-1:4222');
  assert.equal(config.rotor.history.shards, 4);
});

test('environment overrides beat the file, typed by key', (t) => {
  const dir = tempDir(t);
  const file = writeJson(dir, 'config.json', centrifugoV6);
  const cases: Array<{ env: Record<string, string>; check: (c: Readonly<RotorConfig>) => unknown; want: unknown }> = [
    { env: { ROTOR_CLIENT_TOKEN_HMAC_SECRET_KEY: 'from-env' }, check: (c) => c.client.token.hmacSecretKey, want: 'from-env' },
    { env: { ROTOR_HTTP_API_KEY: 'env-api-key' }, check: (c) => c.httpApi.key, want: 'env-api-key' },
    { env: { ROTOR_GRPC_API_ENABLED: 'false' }, check: (c) => c.grpcApi.enabled, want: false },
    { env: { ROTOR_GRPC_API_PORT: '12000' }, check: (c) => c.grpcApi.port, want: 12000 },
    { env: { ROTOR_CLIENT_PING_INTERVAL: '1m30s' }, check: (c) => c.client.pingIntervalMs, want: 90_000 },
    { env: { ROTOR_CLIENT_INSECURE_SKIP_TOKEN_SIGNATURE_VERIFY: '1' }, check: (c) => c.client.insecureSkipTokenSignatureVerify, want: true },
    { env: { ROTOR_CLIENT_ALLOWED_ORIGINS: '["https://a.com","https://b.com"]' }, check: (c) => c.client.allowedOrigins, want: ['https://a.com', 'https://b.com'] },
    { env: { ROTOR_CLIENT_ALLOWED_ORIGINS: 'https://a.com https://b.com' }, check: (c) => c.client.allowedOrigins, want: ['https://a.com', 'https://b.com'] },
    {
      env: { ROTOR_CHANNEL_NAMESPACES: '[{"name":"only","presence":true},{"name":"personal","presence":true}]' },
      check: (c) => c.channel.namespaces.map((n) => [n.name, n.presence]),
      want: [['only', true], ['personal', true]],
    },
    {
      env: { ROTOR_CHANNEL_WITHOUT_NAMESPACE: '{"join_leave":true}' },
      check: (c) => [c.channel.withoutNamespace.presence, c.channel.withoutNamespace.joinLeave],
      want: [true, true], // merged into the file's object, not replacing it
    },
    {
      env: { ROTOR_CLIENT_TOKEN: '{"hmac_secret_key":"blob"}', ROTOR_CLIENT_TOKEN_HMAC_SECRET_KEY: 'specific' },
      check: (c) => [c.client.token.hmacSecretKey, c.client.token.audience],
      want: ['specific', 'rotor-app'],
    },
    { env: { ROTOR_ROTOR_NATS_URL: 'nats://n1:4222' }, check: (c) => c.rotor.nats.url, want: 'nats://n1:4222' },
    { env: { ROTOR_NATS_URL: 'nats://short:4222' }, check: (c) => c.rotor.nats.url, want: 'nats://short:4222' },
    { env: { ROTOR_HISTORY_SHARDS: '8' }, check: (c) => c.rotor.history.shards, want: 8 },
    { env: { ROTOR_HISTORY_SHARD: '3' }, check: (c) => c.rotor.history.shard, want: 3 },
    { env: { ROTOR_HISTORY_HTTP_PORT: '0' }, check: (c) => c.rotor.history.httpPort, want: 0 },
    { env: { ROTOR_NODE_NAME: 'gw-1' }, check: (c) => c.rotor.nodeName, want: 'gw-1' },
    { env: { ROTOR_DRAIN_WINDOW: '30s' }, check: (c) => c.rotor.drainWindowMs, want: 30_000 },
    { env: { ROTOR_LOG_LEVEL: 'warn' }, check: (c) => c.log.level, want: 'warn' },
    { env: { ROTOR_CLIENT_TOKEN_HMAC_PREVIOUS_SECRET_KEY: 'old', ROTOR_CLIENT_TOKEN_HMAC_PREVIOUS_SECRET_KEY_VALID_UNTIL: '1735689600' }, check: (c) => c.client.token.hmacPreviousSecretKeyValidUntil, want: 1_735_689_600_000 },
  ];
  for (const { env, check, want } of cases) {
    const { config } = loadConfig({ file, env, hostname: 'h' });
    assert.deepEqual(check(config), want, JSON.stringify(env));
  }
});

test('environment alone (no file) configures everything', () => {
  const { config, warnings } = loadConfig({
    env: { ROTOR_CLIENT_TOKEN_HMAC_SECRET_KEY: 's', ROTOR_HTTP_SERVER_PORT: '0', PATH: '/usr/bin', ROTOR_CONFIG: 'x.json' },
    hostname: 'h',
  });
  assert.equal(config.client.token.hmacSecretKey, 's');
  assert.equal(config.httpServer.port, 0);
  assert.deepEqual(warnings, []);
});

test('bad environment values are reported with the variable name', () => {
  const problems = problemsOf(() =>
    loadConfig({
      env: {
        ROTOR_GRPC_API_ENABLED: 'yes please',
        ROTOR_HTTP_SERVER_PORT: '80a',
        ROTOR_CLIENT_PONG_TIMEOUT: '8',
        ROTOR_CHANNEL_NAMESPACES: '[{"name":"chat"',
        ROTOR_CLIENT_CHANNEL_LIMIT: '-1',
      },
      hostname: 'h',
    }),
  );
  const expected: Array<[string, string]> = [
    ['grpc_api.enabled (from ROTOR_GRPC_API_ENABLED)', 'expected true or false'],
    ['http_server.port (from ROTOR_HTTP_SERVER_PORT)', 'expected an integer'],
    ['client.pong_timeout (from ROTOR_CLIENT_PONG_TIMEOUT)', 'has no unit'],
    ['channel.namespaces (from ROTOR_CHANNEL_NAMESPACES)', 'invalid JSON'],
    ['client.channel_limit (from ROTOR_CLIENT_CHANNEL_LIMIT)', 'must be >= 0'],
  ];
  for (const [where, what] of expected) {
    assert.ok(problems.some((p) => p.startsWith(where) && p.includes(what)), `${where}: ${what}\n${problems.join('\n')}`);
  }
  assert.equal(problems.length, expected.length, problems.join('\n'));
});

test('a broken config reports every problem, each with its key path', (t) => {
  const dir = tempDir(t);
  const file = writeJson(dir, 'broken.json', {
    client: {
      token: { hmac_secret_key: 42, audience_regex: '([a-z', user_id_claim: 'user.id', rsa_public_key: 'not a pem' },
      ping_interval: '5s',
      pong_timeout: '10s',
      stale_close_delay: 10,
      expired_close_delay: '10 seconds',
      channel_limit: 1.5,
      queue_max_size: 0,
      allowed_origins: 'https://example.com',
      allow_anonymous_connect_without_token: 'true',
    },
    channel: {
      namespaces: [
        { name: 'x', presence: true },
        { name: 'chat', history_size: 10 },
        { name: 'chat', force_recovery: true, channel_regex: '[' },
        { name: 'meta', history_size: 5, history_ttl: '2h', history_meta_ttl: '1h' },
        { name: 'subsec', history_size: 5, history_ttl: '1500ms' },
        { name: 'mode', force_recovery_mode: 'fast', allowed_delta_types: ['brotli'] },
        'not-an-object',
        { presence: true },
      ],
    },
    http_server: { port: 70000 },
    grpc_api: { enabled: true, port: -1 },
    websocket: { message_size_limit: 0 },
    http_stream: { max_request_body_size: 1024 * 1024 * 1024 },
    log: { level: 'verbose' },
    rotor: { nats: { url: 'http://nats' }, history: { shards: 0, stream_prefix: 'bad.prefix' }, presence_ttl: '20s' },
  });
  const problems = problemsOf(() => loadConfig({ file, env: {}, hostname: 'h' }));
  const expected: Array<[string, string]> = [
    ['client.token.hmac_secret_key', 'expected a string'],
    ['client.token.audience_regex', 'invalid regular expression'],
    ['client.token.user_id_claim', 'must match'],
    ['client.token.rsa_public_key', 'not an RSA public key in PEM form'],
    ['client.pong_timeout', 'must be less than client.ping_interval (5s)'],
    ['client.stale_close_delay', 'bare number 10 is not a duration'],
    ['client.expired_close_delay', 'invalid duration'],
    ['client.channel_limit', 'expected an integer'],
    ['client.queue_max_size', 'must be >= 1'],
    ['client.allowed_origins', 'expected a list of strings'],
    ['client.allow_anonymous_connect_without_token', 'expected true or false'],
    ['channel.namespaces[0].name', 'invalid namespace name "x"'],
    ['channel.namespaces[1].history_size', 'must be set together'],
    ['channel.namespaces[2].name', 'duplicate namespace name "chat"'],
    ['channel.namespaces[2].force_recovery', 'needs history'],
    ['channel.namespaces[2].channel_regex', 'invalid regular expression'],
    ['channel.namespaces[3].history_ttl', 'must not exceed the history meta ttl (1h)'],
    ['channel.namespaces[4].history_ttl', 'sub-second precision'],
    ['channel.namespaces[5].force_recovery_mode', 'must be one of'],
    ['channel.namespaces[5].allowed_delta_types', 'unknown value(s) "brotli"'],
    ['channel.namespaces[6]', 'expected a namespace object'],
    ['channel.namespaces[7].name', 'missing: every namespace needs a name'],
    ['http_server.port', 'must be <= 65535'],
    ['grpc_api.port', 'must be >= 0'],
    ['websocket.message_size_limit', 'must be >= 1'],
    ['http_stream.max_request_body_size', 'must be <= 67108864'],
    ['log.level', 'must be one of'],
    ['rotor.nats.url', 'not a NATS URL list'],
    ['rotor.history.shards', 'must be >= 1'],
    ['rotor.history.stream_prefix', 'must match'],
    ['rotor.presence_ttl', 'must exceed client.presence_update_interval'],
  ];
  for (const [path, what] of expected) {
    assert.ok(problems.some((p) => p.startsWith(`${path}:`) && p.includes(what)), `missing "${path}: …${what}…" in\n${problems.join('\n')}`);
  }
  assert.equal(problems.length, expected.length, problems.join('\n'));
  // The thrown message itself lists every problem.
  try {
    loadConfig({ file, env: {}, hostname: 'h' });
  } catch (err) {
    for (const p of problems) assert.ok((err as Error).message.includes(p));
  }
});

test('unknown and unsupported keys are warnings naming the key', (t) => {
  const dir = tempDir(t);
  const file = writeJson(dir, 'config.json', {
    token_hmac_secret_key: 'v5-style',
    client: { token: { hmac_secret_key: 's' }, shiny_new_option: 1, connect_proxy_name: 'p' },
    channel: {
      namespaces: [{ name: 'chat', subscribe_stream_proxy_enabled: true, subscription_type: 'map', mystery: true, subscribe_stream_proxy_name: 'p' }],
    },
    engine: { type: 'redis' },
    admin: { enabled: true, password: 'x' },
    websocket: { compression_level: 3 },
  });
  const { config, warnings } = loadConfig({ file, env: { ROTOR_BOGUS_THING: '1' }, hostname: 'h' });
  assert.equal(config.channel.namespaces[0]?.subscribeStreamProxyEnabled, true);
  const expected: Array<[string, string]> = [
    ['token_hmac_secret_key', 'v6 uses client.token.hmac_secret_key'],
    ['client.shiny_new_option', 'unknown key'],
    ['client.connect_proxy_name', 'not supported'],
    ['channel.namespaces[0].subscribe_stream_proxy_enabled', 'answer 108'],
    ['channel.namespaces[0].subscription_type', 'not supported'],
    ['channel.namespaces[0].mystery', 'unknown key'],
    ['engine', 'not supported'],
    ['admin', 'not supported'],
    ['websocket.compression_level', 'not supported'],
    ['ROTOR_BOGUS_THING', 'unknown environment variable'],
  ];
  for (const [path, what] of expected) {
    assert.ok(warnings.some((w) => w.startsWith(`${path}:`) && w.includes(what)), `missing "${path}: …${what}…" in\n${warnings.join('\n')}`);
  }
  assert.equal(warnings.length, expected.length, warnings.join('\n'));
});

test('emulated transports: http_stream, sse and emulation sections (Centrifugo v6 keys), env too', (t) => {
  const dir = tempDir(t);
  const file = writeJson(dir, 'config.json', {
    http_stream: { enabled: true, max_request_body_size: 1000, handler_prefix: '/connection/http_stream' },
    sse: { enabled: true, handler_prefix: '/elsewhere' },
    emulation: { max_request_body_size: 2000 },
  });
  const { config, warnings } = loadConfig({ file, env: { ROTOR_SSE_MAX_REQUEST_BODY_SIZE: '3000' }, hostname: 'h' });
  assert.deepEqual(config.httpStream, { enabled: true, maxRequestBodySize: 1000 });
  assert.deepEqual(config.sse, { enabled: true, maxRequestBodySize: 3000 });
  assert.deepEqual(config.emulation, { maxRequestBodySize: 2000 });
  assert.equal(warnings.length, 1, warnings.join('\n'));
  assert.match(warnings[0]!, /^sse\.handler_prefix:.*\/connection\/sse/);
  assert.deepEqual(problemsOf(() => loadConfig({ env: { ROTOR_EMULATION_MAX_REQUEST_BODY_SIZE: '0' }, hostname: 'h' })).length, 1);
});

test('unidirectional transports: uni_websocket, uni_http_stream, uni_sse sections (Centrifugo v6 keys), env too', (t) => {
  const dir = tempDir(t);
  const file = writeJson(dir, 'config.json', {
    uni_websocket: { enabled: true, join_push_messages: true, message_size_limit: 500, disable_disconnect_push: false },
    uni_http_stream: { enabled: true, max_request_body_size: 1000, handler_prefix: '/connection/uni_http_stream' },
    uni_sse: { enabled: true, handler_prefix: '/elsewhere' },
  });
  const { config, warnings } = loadConfig({ file, env: { ROTOR_UNI_SSE_MAX_REQUEST_BODY_SIZE: '3000' }, hostname: 'h' });
  assert.deepEqual(config.uniWebsocket, { enabled: true, joinPushMessages: true, messageSizeLimit: 500 });
  assert.deepEqual(config.uniHttpStream, { enabled: true, maxRequestBodySize: 1000 });
  assert.deepEqual(config.uniSse, { enabled: true, maxRequestBodySize: 3000 });
  assert.ok(warnings.some((w) => /^uni_sse\.handler_prefix:.*\/connection\/uni_sse/.test(w)), warnings.join('\n'));
  assert.ok(!warnings.some((w) => w.startsWith('uni_websocket:') || w.startsWith('uni_http_stream:')), warnings.join('\n'));
  assert.equal(problemsOf(() => loadConfig({ env: { ROTOR_UNI_HTTP_STREAM_MAX_REQUEST_BODY_SIZE: '0' }, hostname: 'h' })).length, 1);
});

test('anonymous configs without any verification key are valid', () => {
  const { config } = loadConfig({ env: { ROTOR_CLIENT_ALLOW_ANONYMOUS_CONNECT_WITHOUT_TOKEN: 'true' }, hostname: 'h' });
  assert.equal(config.client.allowAnonymousConnectWithoutToken, true);
  assert.equal(config.client.token.hmacSecretKey, '');
});

test('PEM keys are checked for their type', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const ok = loadConfig({ env: { ROTOR_CLIENT_TOKEN_RSA_PUBLIC_KEY: rsa, ROTOR_CLIENT_TOKEN_ECDSA_PUBLIC_KEY: ec }, hostname: 'h' });
  assert.equal(ok.config.client.token.rsaPublicKey, rsa);
  const problems = problemsOf(() =>
    loadConfig({ env: { ROTOR_CLIENT_TOKEN_RSA_PUBLIC_KEY: ec, ROTOR_CLIENT_TOKEN_ECDSA_PUBLIC_KEY: rsa }, hostname: 'h' }),
  );
  assert.equal(problems.length, 2);
  assert.match(problems[0] ?? '', /^client\.token\.rsa_public_key \(from ROTOR_CLIENT_TOKEN_RSA_PUBLIC_KEY\): expected an RSA public key \(PEM\), got a ec key/);
  assert.match(problems[1] ?? '', /^client\.token\.ecdsa_public_key .*expected an ECDSA public key \(PEM\), got a rsa key/);
});

test('cross-key rules: personal channel namespace, port clashes, previous HMAC key', () => {
  const cases: Array<{ env: Record<string, string>; problem: string }> = [
    {
      env: { ROTOR_CLIENT_SUBSCRIBE_TO_USER_PERSONAL_CHANNEL: '{"enabled":true,"personal_channel_namespace":"nope"}' },
      problem: 'client.subscribe_to_user_personal_channel.personal_channel_namespace (from ROTOR_CLIENT_SUBSCRIBE_TO_USER_PERSONAL_CHANNEL): namespace "nope" is not defined',
    },
    {
      env: { ROTOR_CLIENT_SUBSCRIBE_TO_USER_PERSONAL_CHANNEL: '{"enabled":true,"single_connection":true}' },
      problem: 'client.subscribe_to_user_personal_channel.single_connection (from ROTOR_CLIENT_SUBSCRIBE_TO_USER_PERSONAL_CHANNEL): needs presence enabled in channel.without_namespace',
    },
    { env: { ROTOR_GRPC_API_ENABLED: 'true', ROTOR_GRPC_API_PORT: '8000' }, problem: 'grpc_api.port (from ROTOR_GRPC_API_PORT): 8000 is also used by http_server.port' },
    { env: { ROTOR_CLIENT_TOKEN_HMAC_PREVIOUS_SECRET_KEY: 'old' }, problem: 'client.token.hmac_previous_secret_key (from ROTOR_CLIENT_TOKEN_HMAC_PREVIOUS_SECRET_KEY): set without hmac_secret_key' },
    { env: { ROTOR_CLIENT_TOKEN_JWKS_PUBLIC_ENDPOINT: 'ftp://x/jwks' }, problem: 'client.token.jwks_public_endpoint (from ROTOR_CLIENT_TOKEN_JWKS_PUBLIC_ENDPOINT): must be an http(s) URL' },
    { env: { ROTOR_NODE_NAME: '' }, problem: 'rotor.node_name (from ROTOR_NODE_NAME): must not be empty' },
    { env: { ROTOR_HISTORY_SHARD: '-2' }, problem: 'rotor.history.shard (from ROTOR_HISTORY_SHARD): must be >= -1' },
  ];
  for (const { env, problem } of cases) {
    const problems = problemsOf(() => loadConfig({ env, hostname: 'h' }));
    assert.ok(problems.some((p) => p.startsWith(problem)), `${problem}\n${problems.join('\n')}`);
  }
});

test('insecure modes load but warn', () => {
  const { warnings } = loadConfig({
    env: { ROTOR_CLIENT_INSECURE: 'true', ROTOR_CLIENT_INSECURE_SKIP_TOKEN_SIGNATURE_VERIFY: 'true' },
    hostname: 'h',
  });
  assert.ok(warnings.some((w) => w.startsWith('client.insecure ')));
  assert.ok(warnings.some((w) => w.startsWith('client.insecure_skip_token_signature_verify ')));
});

test('file problems: missing, malformed, TOML, not an object, empty YAML', (t) => {
  const dir = tempDir(t);
  const cases: Array<[string, string | null, RegExp]> = [
    ['missing.json', null, /cannot read config file/],
    ['bad.json', '{"client": {', /not valid JSON/],
    ['bad.yaml', 'client:\n  a: 1\n  a: 2\n', /not valid YAML/],
    ['c.toml', 'a = 1', /TOML config files are not supported/],
    ['list.json', '[1,2]', /top level must be an object/],
  ];
  for (const [name, content, re] of cases) {
    const file = join(dir, name);
    if (content !== null) writeFileSync(file, content);
    const problems = problemsOf(() => loadConfig({ file, env: {}, hostname: 'h' }));
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? '', re, name);
    assert.ok(problems[0]?.startsWith(file), 'names the file');
  }
  const empty = join(dir, 'empty.yaml');
  writeFileSync(empty, '# nothing here\n');
  assert.equal(loadConfig({ file: empty, env: {}, hostname: 'h' }).config.httpServer.port, 8000);
});

test('every environment name is unique and derived from the key path', () => {
  const names = configEnvNames();
  assert.equal(new Set(names).size, names.length);
  for (const n of ['ROTOR_CLIENT_TOKEN_HMAC_SECRET_KEY', 'ROTOR_HTTP_API_KEY', 'ROTOR_CHANNEL_NAMESPACES', 'ROTOR_GRPC_API_KEY', 'ROTOR_NATS_URL']) {
    assert.ok(names.includes(n), n);
  }
});
