import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChannelRules, loadConfig } from '@rotor/core';
import { configVariablesIn, devConfigEnv, generateDevSecrets } from './dev-config.ts';
import { displayHost } from './banner.ts';

test('the development configuration loads without a warning and is what the banner promises', () => {
  const secrets = generateDevSecrets();
  assert.notEqual(secrets.apiKey, secrets.hmacSecret);
  assert.ok(secrets.apiKey.length >= 40 && /^[\w-]+$/.test(secrets.apiKey), 'URL-safe, long');
  const { config, warnings } = loadConfig({ env: devConfigEnv(secrets) });
  assert.deepEqual(warnings, []);
  assert.equal(config.client.allowAnonymousConnectWithoutToken, true);
  assert.equal(config.client.insecure, false, 'anonymous access is granted per namespace, not by insecure mode');
  assert.equal(config.client.token.hmacSecretKey, secrets.hmacSecret);
  assert.equal(config.httpApi.key, secrets.apiKey);
  assert.equal(config.httpApi.insecure, false);
  assert.deepEqual([config.httpServer.address, config.httpServer.port], ['127.0.0.1', 8000]);
  assert.deepEqual([config.grpcApi.enabled, config.grpcApi.key], [false, secrets.apiKey]);

  const rules = new ChannelRules(config.channel);
  const chat = rules.resolve('chat:lobby');
  assert.ok(chat.ok);
  const ns = chat.channel.namespace;
  assert.ok(ns.historyEnabled && ns.presence && ns.joinLeave && ns.forcePushJoinLeave && ns.forceRecovery);
  assert.ok(ns.allowSubscribeForAnonymous && ns.allowPublishForAnonymous && ns.allowPresenceForAnonymous && ns.allowHistoryForAnonymous);
  const bare = rules.resolve('news');
  assert.ok(bare.ok && bare.channel.namespace.allowSubscribeForClient && bare.channel.namespace.allowSubscribeForAnonymous);
  assert.ok(bare.ok && !bare.channel.namespace.allowPublishForAnonymous, 'publishing is for chat: only');
});

test('ROTOR_* variables set by the user win over the development values', () => {
  const secrets = generateDevSecrets();
  const { config } = loadConfig({ env: { ...devConfigEnv(secrets), ROTOR_HTTP_API_KEY: 'mine', ROTOR_HTTP_SERVER_ADDRESS: '0.0.0.0', ROTOR_GRPC_API_ENABLED: 'true' } });
  assert.equal(config.httpApi.key, 'mine');
  assert.equal(config.httpServer.address, '0.0.0.0');
  assert.equal(config.grpcApi.enabled, true);
  assert.equal(config.client.allowAnonymousConnectWithoutToken, true, 'the rest of the section stays');
});

test('only known configuration variables count as "configured"', () => {
  assert.deepEqual(configVariablesIn({}), []);
  assert.deepEqual(
    configVariablesIn({ PATH: '/bin', ROTOR_CONFIG: 'x.json', ROTOR_TEST_CONCURRENCY: '2', ROTOR_NO_SUCH_KEY: '1', npm_lifecycle_event: 'start' }),
    [],
  );
  assert.deepEqual(configVariablesIn({ ROTOR_LOG_LEVEL: 'debug', ROTOR_HTTP_SERVER_PORT: '0', ROTOR_NATS_URL: 'nats://x', HOME: '/' }), [
    'ROTOR_HTTP_SERVER_PORT',
    'ROTOR_LOG_LEVEL',
    'ROTOR_NATS_URL',
  ]);
  assert.deepEqual(configVariablesIn({ ROTOR_LOG_LEVEL: undefined }), []);
});

test('URLs name localhost for loopback and wildcard addresses, bracket IPv6', () => {
  for (const a of ['', '0.0.0.0', '::', '127.0.0.1', '::1']) assert.equal(displayHost(a), 'localhost', a);
  assert.equal(displayHost('10.1.2.3'), '10.1.2.3');
  assert.equal(displayHost('fe80::1'), '[fe80::1]');
});
