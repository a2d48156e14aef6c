// `rotor start` (embedded mode) as a user runs it: a real child process on port 0, the real
// centrifuge SDK (JSON and protobuf), the HTTP API with the key the banner printed, gRPC from a
// client built from proto/api.proto, and signals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { JoseTokenVerifier, loadConfig, signHmacToken } from '@rotor/core';
import { deferred, withDeadline } from '@rotor/testkit';
import WebSocket from 'ws';
import { REPO_ROOT, parseDevBanner, spawnRotor, startRotor, tempDir } from '../src/rotor-process.ts';
import { SDK_BUILDS, subscriber } from '../src/sdk.ts';
import type { Subscriber } from '../src/sdk.ts';

const TEST_TIMEOUT = { timeout: 180_000 };

async function apiCall(base: string, method: string, key: string | null, body: unknown): Promise<{ status: number; json: unknown }> {
  const headers: Record<string, string> = key === null ? {} : { 'X-API-Key': key };
  const res = await fetch(`${base}/api/${method}`, { method: 'POST', headers, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  return { status: res.status, json: text === '' ? null : (JSON.parse(text) as unknown) };
}

test('zero configuration: the printed key and curl command publish to JSON and protobuf SDK subscribers; wrong key 401; SIGINT exits 0', TEST_TIMEOUT, async (t) => {
  // Nothing but PATH and HOME in the environment: no ROTOR_* at all.
  const rotor = await startRotor(t, { args: ['start', '--port', '0'], cwd: tempDir(t) });
  assert.ok(rotor.httpPort > 0);
  assert.match(rotor.stdout, /INSECURE DEVELOPMENT CONFIGURATION/);
  const started = await rotor.logLine('rotor started');
  assert.equal(started['config'], 'development (insecure)');
  assert.equal(started['grpcPort'], null, 'gRPC is off in the development configuration');
  const banner = parseDevBanner(rotor.stdout);
  assert.ok(banner.apiKey.length >= 40);
  assert.ok(!rotor.stderr.includes(banner.apiKey), 'the key is never logged');
  assert.ok(!rotor.stderr.includes(banner.hmacSecret), 'the secret is never logged');

  // As the README does it: new Centrifuge(url), newSubscription(channel), subscribe(), connect().
  const subs = await Promise.all(SDK_BUILDS.flatMap(([, Build]) => [subscriber(t, Build, rotor.wsUrl, 'news'), subscriber(t, Build, rotor.wsUrl, 'chat:lobby')]));

  const pub = await apiCall(rotor.httpUrl, 'publish', banner.apiKey, { channel: 'news', data: { text: 'breaking' } });
  assert.deepEqual(pub, { status: 200, json: { result: {} } });

  // The printed curl command, taken apart and sent as curl would send it.
  const [headerName, ...headerValue] = banner.curl.header.split(': ');
  assert.equal(headerName, 'X-API-Key');
  assert.equal(banner.curl.url, `${rotor.httpUrl}/api/publish`);
  const curlRes = await fetch(banner.curl.url, {
    method: 'POST',
    headers: { [headerName as string]: headerValue.join(': '), 'Content-Type': 'application/x-www-form-urlencoded' },
    body: banner.curl.body,
    signal: AbortSignal.timeout(10_000),
  });
  const curlJson = (await curlRes.json()) as { result: { offset: number; epoch: string } };
  assert.equal(curlRes.status, 200);
  assert.equal(curlJson.result.offset, 1, 'chat: keeps history, so the publish has an offset');
  assert.match(curlJson.result.epoch, /\S/);

  const [jsonNews, jsonChat, protoNews, protoChat] = subs as [Subscriber, Subscriber, Subscriber, Subscriber];
  for (const s of [jsonNews, protoNews]) assert.deepEqual((await s.publications.waitFor(1))[0]?.data, { text: 'breaking' });
  for (const s of [jsonChat, protoChat]) {
    const [p] = await s.publications.waitFor(1);
    assert.deepEqual(p, { data: JSON.parse(banner.curl.body).data, offset: 1 });
  }

  for (const key of ['wrong-key', `${banner.apiKey}x`, '']) {
    const r = await apiCall(rotor.httpUrl, 'publish', key, { channel: 'news', data: { text: 'nope' } });
    assert.equal(r.status, 401, `key ${JSON.stringify(key)}`);
  }
  assert.equal((await apiCall(rotor.httpUrl, 'publish', null, { channel: 'news', data: {} })).status, 401);

  // The sample token verifies with the printed secret, and a client connects with it.
  const verified = await new JoseTokenVerifier(loadConfig({ env: { ROTOR_CLIENT_TOKEN_HMAC_SECRET_KEY: banner.hmacSecret } }).config.client).verifyConnectionToken(banner.token);
  assert.equal(verified.ok ? verified.claims.user : verified.detail, 'demo');
  const withToken = await subscriber(t, SDK_BUILDS[0]![1], rotor.wsUrl, 'chat:lobby', banner.token);
  const presence = await apiCall(rotor.httpUrl, 'presence', banner.apiKey, { channel: 'chat:lobby' });
  const users = Object.values((presence.json as { result: { presence: Record<string, { user?: string }> } }).result.presence).map((c) => c.user ?? '');
  assert.deepEqual(users.sort(), ['', '', 'demo']);
  withToken.client.disconnect();

  assert.equal(await rotor.stop('SIGINT'), 0);
  assert.equal(rotor.exitSignal, null);
  assert.ok(rotor.logs.some((l) => l.msg === 'rotor stopped'));
  assert.deepEqual(rotor.logs.filter((l) => l.level === 'error' || l.msg.startsWith('handles still open')), []);
});

test('--config with an HMAC secret and a history namespace: token auth, offsets, history, recovery, gRPC; SIGTERM → 3001 and exit 0', TEST_TIMEOUT, async (t) => {
  const dir = tempDir(t);
  const secret = 'e2e-hmac-secret-0123456789abcdefghij';
  const apiKey = 'e2e-http-api-key-0123456789';
  const grpcKey = 'e2e-grpc-api-key-9876543210';
  // A Centrifugo v6 configuration file, port 0 for both listeners.
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({
      client: { token: { hmac_secret_key: secret } },
      http_server: { port: 0 },
      http_api: { key: apiKey },
      grpc_api: { enabled: true, port: 0, key: grpcKey },
      log: { level: 'info' },
      rotor: { drain_window: '500ms' },
      channel: {
        namespaces: [
          { name: 'news', history_size: 50, history_ttl: '300s', force_recovery: true, allow_subscribe_for_client: true },
        ],
      },
    }),
  );
  const rotor = await startRotor(t, { args: ['start', '--config', 'config.json'], cwd: dir });
  assert.doesNotMatch(rotor.stdout, /INSECURE/);
  assert.match(rotor.stdout, /embedded mode, config config\.json/);
  assert.ok(rotor.grpcPort !== null && rotor.grpcPort > 0, 'gRPC listens on a port of its own');

  // The demo page asks for a token here and carries nothing secret.
  const page = await (await fetch(`${rotor.httpUrl}/`, { signal: AbortSignal.timeout(10_000) })).text();
  assert.match(page, /data-anonymous="false"/);
  for (const s of [secret, apiKey, grpcKey]) assert.ok(!page.includes(s) && !rotor.stdout.includes(s) && !rotor.stderr.includes(s));

  // No anonymous access in this configuration.
  const anonymous = await withDeadline(
    new Promise<number>((resolve) => {
      const ws = new WebSocket(rotor.wsUrl);
      ws.on('open', () => ws.send(JSON.stringify({ id: 1, connect: {} })));
      ws.on('message', (m: Buffer) => {
        resolve((JSON.parse(m.toString()) as { error?: { code: number } }).error?.code ?? 0);
        ws.close();
      });
      ws.on('close', (code) => resolve(code));
    }),
    10_000,
    'the anonymous connect to be refused',
  );
  assert.equal(anonymous, 3501, 'client credentials not found');

  const token = await signHmacToken({ sub: 'alice', exp: Math.floor(Date.now() / 1000) + 3600 }, secret);
  const [json, proto] = await Promise.all(SDK_BUILDS.map(([, Build]) => subscriber(t, Build, rotor.wsUrl, 'news:updates', token)));

  const first = await apiCall(rotor.httpUrl, 'publish', apiKey, { channel: 'news:updates', data: { n: 1 } });
  assert.equal(first.status, 200);
  const r1 = (first.json as { result: { offset: number; epoch: string } }).result;
  assert.equal(r1.offset, 1);
  assert.match(r1.epoch, /\S/);
  for (const s of [json!, proto!]) assert.deepEqual(await s.publications.waitFor(1), [{ data: { n: 1 }, offset: 1 }]);

  // gRPC, with a client generated from our api.proto as a backend would.
  const def = protoLoader.loadSync(join(REPO_ROOT, 'proto/api.proto'), { keepCase: true, longs: Number, defaults: true });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    centrifugal: { centrifugo: { api: { CentrifugoApi: new (addr: string, creds: grpc.ChannelCredentials) => grpc.Client } } };
  };
  const grpcClient = new pkg.centrifugal.centrifugo.api.CentrifugoApi(`127.0.0.1:${rotor.grpcPort}`, grpc.credentials.createInsecure());
  t.after(() => grpcClient.close());
  const grpcPublish = (key: string, req: unknown): Promise<{ error?: { code: number } | null; result?: { offset: number; epoch: string } | null }> =>
    withDeadline(
      new Promise((resolve, reject) => {
        const md = new grpc.Metadata();
        md.set('authorization', `apikey ${key}`);
        (grpcClient as unknown as Record<string, (r: unknown, m: grpc.Metadata, cb: (e: grpc.ServiceError | null, v: unknown) => void) => void>)['Publish']!(req, md, (err, v) => (err === null ? resolve(v as never) : reject(err)));
      }),
      10_000,
      'a gRPC Publish reply',
    );
  const viaGrpc = await grpcPublish(grpcKey, { channel: 'news:updates', data: Buffer.from(JSON.stringify({ n: 2 })) });
  assert.equal(viaGrpc.error ?? null, null);
  assert.equal(viaGrpc.result?.offset, 2);
  assert.equal(viaGrpc.result?.epoch, r1.epoch);
  for (const s of [json!, proto!]) assert.deepEqual((await s.publications.waitFor(2))[1], { data: { n: 2 }, offset: 2 });
  await assert.rejects(grpcPublish('wrong', { channel: 'news:updates', data: Buffer.from('{}') }), (err: grpc.ServiceError) => err.code === grpc.status.UNAUTHENTICATED);

  // History through the HTTP API.
  const hist = await apiCall(rotor.httpUrl, 'history', apiKey, { channel: 'news:updates', limit: 10 });
  const h = (hist.json as { result: { publications: Array<{ data: unknown; offset: number }>; offset: number; epoch: string } }).result;
  assert.deepEqual(h.publications.map((p) => [p.data, p.offset]), [[{ n: 1 }, 1], [{ n: 2 }, 2]]);
  assert.deepEqual([h.offset, h.epoch], [2, r1.epoch]);

  // Recovery: the JSON client goes away, misses two publications, comes back and gets exactly them.
  const gone = deferred();
  json!.client.once('disconnected', () => gone.resolve());
  json!.client.disconnect();
  await withDeadline(gone.promise, 10_000, 'the client to disconnect');
  for (const n of [3, 4]) assert.equal((await apiCall(rotor.httpUrl, 'publish', apiKey, { channel: 'news:updates', data: { n } })).status, 200);
  json!.client.connect();
  const [, again] = await json!.subscribed.waitFor(2, 10_000);
  assert.equal(again?.wasRecovering, true);
  assert.equal(again?.recovered, true);
  assert.deepEqual((await json!.publications.waitFor(4, 10_000)).slice(2), [
    { data: { n: 3 }, offset: 3 },
    { data: { n: 4 }, offset: 4 },
  ]);

  // SIGTERM drains: every client is told 3001 (a reconnect code for the SDK), the process exits 0.
  const stopping = rotor.stop('SIGTERM');
  for (const s of [json!, proto!]) assert.equal((await s.connecting.waitForMatch((c) => c === 3001, 'code 3001', 15_000)), 3001);
  assert.equal(await stopping, 0);
  assert.ok(rotor.logs.some((l) => l.msg === 'signal received, draining' && l['signal'] === 'SIGTERM'));
  assert.deepEqual(rotor.logs.filter((l) => l.level === 'error' || l.msg.startsWith('handles still open')), []);
});

test('ROTOR_* variables alone configure it (no development banner); --dev layers them on the development config', TEST_TIMEOUT, async (t) => {
  const secret = 'env-only-secret-0123456789abcdefgh';
  const envOnly = await startRotor(t, {
    args: ['start'],
    env: { ROTOR_HTTP_SERVER_PORT: '0', ROTOR_CLIENT_TOKEN_HMAC_SECRET_KEY: secret, ROTOR_HTTP_API_KEY: 'env-key-0123456789', ROTOR_CHANNEL_WITHOUT_NAMESPACE_ALLOW_SUBSCRIBE_FOR_CLIENT: 'true' },
  });
  assert.doesNotMatch(envOnly.stdout, /INSECURE/);
  assert.match(envOnly.stdout, /ROTOR_\* environment/);
  const token = await signHmacToken({ sub: 'bob' }, secret);
  const s = await subscriber(t, SDK_BUILDS[0]![1], envOnly.wsUrl, 'alerts', token);
  assert.equal((await apiCall(envOnly.httpUrl, 'publish', 'env-key-0123456789', { channel: 'alerts', data: { a: 1 } })).status, 200);
  assert.deepEqual((await s.publications.waitFor(1))[0]?.data, { a: 1 });

  const dev = await startRotor(t, { args: ['start', '--dev'], env: { ROTOR_HTTP_SERVER_PORT: '0', ROTOR_GRPC_API_ENABLED: 'true', ROTOR_GRPC_API_PORT: '0' } });
  assert.match(dev.stdout, /INSECURE DEVELOPMENT CONFIGURATION/);
  assert.ok(dev.grpcPort !== null && dev.grpcPort > 0);
  assert.match(dev.stdout, new RegExp(`gRPC API\\s+localhost:${dev.grpcPort}`));
  await subscriber(t, SDK_BUILDS[1]![1], dev.wsUrl, 'chat:lobby');

  const [a, b] = await Promise.all([envOnly.stop(), dev.stop()]);
  assert.deepEqual([a, b], [0, 0]);
});

test('bad command lines and a taken port fail with a clear message', TEST_TIMEOUT, async (t) => {
  const dir = tempDir(t);
  const cases: Array<[string[], RegExp, number]> = [
    [['start', '--port', 'eighty'], /--port: expected 0\.\.65535/, 2],
    [['start', '--dev', '--config', 'x.json'], /does not combine with --config/, 2],
    [['start', '--config', 'missing.json'], /cannot read config file/, 1],
  ];
  for (const [args, re, code] of cases) {
    const p = spawnRotor(t, { args, cwd: dir });
    await withDeadline(p.exited, 60_000, `rotor ${args.join(' ')} to exit`);
    assert.equal(p.exitCode, code, args.join(' '));
    assert.match(p.stderr, re);
  }
  const first = await startRotor(t, { args: ['start', '--port', '0'], cwd: dir });
  const second = spawnRotor(t, { args: ['start', '--port', String(first.httpPort)], cwd: dir });
  await withDeadline(second.exited, 60_000, 'the second rotor to exit');
  assert.equal(second.exitCode, 1);
  assert.match(second.stderr, /cannot start: .*--port picks another port/);
  assert.equal(await first.stop(), 0);
});

test('through pnpm as the README says: `pnpm start --config F` (relative to where it is typed) and `pnpm start -- --config F`', TEST_TIMEOUT, async (t) => {
  // A folder inside the repository that is no package (pnpm runs the script from the root), so only
  // INIT_CWD makes the plain relative name right. node_modules is ignored by git and the test runner.
  const typedIn = mkdtempSync(join(REPO_ROOT, 'node_modules', '.rotor-e2e-'));
  t.after(() => rmSync(typedIn, { recursive: true, force: true }));
  const file = join(typedIn, 'rotor-e2e.json');
  writeFileSync(file, JSON.stringify({ http_server: { port: 0 }, client: { token: { hmac_secret_key: 'pnpm-e2e-secret-0123456789abcdef' } }, log: { level: 'info' } }));
  const forms: Array<[string, string[]]> = [
    [typedIn, ['start', '--config', 'rotor-e2e.json']],
    [REPO_ROOT, ['start', '--', '--config', file]],
  ];
  // And the zero-configuration start through pnpm, as in the README (a free port instead of 8000).
  const dev = await startRotor(t, { args: ['start', '--port', '0'], cwd: REPO_ROOT, viaPnpm: true });
  assert.match(dev.stdout, /INSECURE DEVELOPMENT CONFIGURATION/);
  assert.equal((await apiCall(dev.httpUrl, 'info', parseDevBanner(dev.stdout).apiKey, {})).status, 200);
  await dev.stop('SIGTERM');
  assert.ok(dev.logs.some((l) => l.msg === 'rotor stopped' && l['exitCode'] === 0));

  for (const [cwd, args] of forms) {
    const rotor = await startRotor(t, { args, cwd, viaPnpm: true });
    assert.match(rotor.stdout, /embedded mode, config /, args.join(' '));
    assert.doesNotMatch(rotor.stdout, /INSECURE/);
    const page = await (await fetch(`${rotor.httpUrl}/`, { signal: AbortSignal.timeout(10_000) })).text();
    assert.match(page, /data-anonymous="false"/, 'the file was used');
    await rotor.stop('SIGTERM');
    assert.ok(rotor.logs.some((l) => l.msg === 'rotor stopped' && l['exitCode'] === 0), args.join(' '));
  }
});
