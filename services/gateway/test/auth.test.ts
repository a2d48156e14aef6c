// Connection authentication with the real SDK: HS256 and RS256 tokens, anonymous access, expired
// tokens refreshed through getToken, connection expiry and the refresh command.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { Centrifuge } from 'centrifuge';
import { deferred, waitFor } from '@rotor/testkit';
import { SignJWT, importPKCS8 } from 'jose';
import WebSocket from 'ws';
import { RawClient, startTestGateway, token } from './harness.ts';

const now = (): number => Math.floor(Date.now() / 1000);

test('HS256: a valid token connects, a bad signature closes with 3500', async (t) => {
  const g = await startTestGateway();
  t.after(() => g.close());
  const good = new Centrifuge(g.url, { websocket: WebSocket, token: await token({ sub: 'alice' }) });
  t.after(() => good.disconnect());
  const connected = deferred();
  good.on('connected', () => connected.resolve());
  good.connect();
  await connected.promise;

  const forged = (await token({ sub: 'alice' })).slice(0, -4) + 'AAAA';
  const bad = new Centrifuge(g.url, { websocket: WebSocket, token: forged });
  t.after(() => bad.disconnect());
  const disconnected = deferred<{ code: number }>();
  bad.on('disconnected', (ctx) => disconnected.resolve(ctx));
  bad.connect();
  assert.equal((await disconnected.promise).code, 3500);
});

test('RS256: a token signed with the configured key pair connects; alg none is refused', async (t) => {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const g = await startTestGateway({ client: { token: { hmac_secret_key: '', rsa_public_key: pem } } });
  t.after(() => g.close());
  const key = await importPKCS8(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 'RS256');
  const jwt = await new SignJWT({ sub: 'rsa-user' }).setProtectedHeader({ alg: 'RS256' }).setExpirationTime(now() + 600).sign(key);
  const c = await RawClient.open(g.url);
  t.after(() => c.close());
  const reply = await c.connect(jwt);
  assert.ok(reply.connect?.client);

  const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(`{"sub":"x","exp":${now() + 600}}`).toString('base64url')}.`;
  const n = await RawClient.open(g.url);
  t.after(() => n.close());
  n.send([{ id: 1, connect: { token: none } }]);
  assert.equal((await n.waitClosed()).code, 3500);
});

test('no token: anonymous only where configured', async (t) => {
  const closed = await startTestGateway();
  t.after(() => closed.close());
  const c = await RawClient.open(closed.url);
  t.after(() => c.close());
  c.send([{ id: 1, connect: {} }]);
  assert.equal((await c.waitClosed()).code, 3501);

  const openGw = await startTestGateway({ client: { allow_anonymous_connect_without_token: true } });
  t.after(() => openGw.close());
  const a = await RawClient.open(openGw.url);
  t.after(() => a.close());
  a.send([{ id: 1, connect: {} }]);
  assert.ok((await a.reply(1)).connect?.client);
});

test('an expired connection token answers 109; the SDK gets a new one through getToken and connects', async (t) => {
  const g = await startTestGateway();
  t.after(() => g.close());
  let calls = 0;
  const client = new Centrifuge(g.url, {
    websocket: WebSocket,
    token: await token({ sub: 'alice', exp: now() - 5 }),
    getToken: async () => {
      calls++;
      return token({ sub: 'alice' });
    },
    minReconnectDelay: 50,
    maxReconnectDelay: 200,
  });
  t.after(() => client.disconnect());
  const connected = deferred();
  client.on('connected', () => connected.resolve());
  client.connect();
  await connected.promise;
  assert.equal(calls, 1);
});

test('an expiring connection is told its ttl and refreshes before it expires', async (t) => {
  // The ttl is in whole seconds (rounded up, as the exp claim is), so the grace must cover a second.
  const g = await startTestGateway({ client: { expired_close_delay: '3s' } });
  t.after(() => g.close());
  let refreshes = 0;
  const client = new Centrifuge(g.url, {
    websocket: WebSocket,
    token: await token({ sub: 'alice', exp: now() + 2 }),
    getToken: async () => {
      refreshes++;
      return token({ sub: 'alice', exp: now() + 600 });
    },
  });
  t.after(() => client.disconnect());
  const connected = deferred();
  client.on('connected', () => connected.resolve());
  client.connect();
  await connected.promise;
  const disconnects: number[] = [];
  client.on('disconnected', (ctx) => disconnects.push(ctx.code));
  client.on('connecting', (ctx) => disconnects.push(ctx.code));
  const raw = await RawClient.open(g.url);
  t.after(() => raw.close());
  const r = await raw.connect(await token({ sub: 'bob', exp: now() + 30 }));
  assert.equal(r.connect?.expires, true);
  assert.ok((r.connect?.ttl ?? 0) > 25 && (r.connect?.ttl ?? 0) <= 30);
  // The SDK refreshes at its ttl (2 s): the connection survives past exp + grace.
  await waitFor(() => refreshes >= 1, { timeoutMs: 8000, what: 'the SDK to refresh its token' });
  await waitFor(() => g.gateway.metrics.commands[9]![0]! >= 1, { timeoutMs: 5000, what: 'a successful refresh command' });
  assert.deepEqual(disconnects, []);
});

test('a connection that does not refresh is closed with 3005 after expiry plus the grace delay', async (t) => {
  const g = await startTestGateway({ client: { expired_close_delay: '200ms' } });
  t.after(() => g.close());
  const c = await RawClient.open(g.url);
  t.after(() => c.close());
  // exp is whole seconds: +2 leaves at least a second for the connect on a loaded machine.
  const r = await c.connect(await token({ sub: 'alice', exp: now() + 2 }));
  assert.equal(r.connect?.expires, true);
  const closed = await c.waitClosed(8000);
  assert.deepEqual(closed, { code: 3005, reason: 'connection expired' });
});

test('refresh with an expired token closes with 3005, with another user with 3500', async (t) => {
  const g = await startTestGateway();
  t.after(() => g.close());
  const a = await RawClient.open(g.url);
  t.after(() => a.close());
  await a.connect(await token({ sub: 'alice', exp: now() + 60 }));
  a.send([{ id: 2, refresh: { token: await token({ sub: 'alice', exp: now() + 120 }) } }]);
  const ok = await a.reply(2);
  assert.equal(ok.refresh?.expires, true);
  assert.ok((ok.refresh?.ttl ?? 0) > 100);
  a.send([{ id: 3, refresh: { token: await token({ sub: 'alice', exp: now() - 1 }) } }]);
  assert.equal((await a.waitClosed()).code, 3005);

  const b = await RawClient.open(g.url);
  t.after(() => b.close());
  await b.connect(await token({ sub: 'alice', exp: now() + 60 }));
  b.send([{ id: 2, refresh: { token: await token({ sub: 'mallory', exp: now() + 120 }) } }]);
  assert.equal((await b.waitClosed()).code, 3500);
});

test('subscription tokens with exp: the SDK refreshes them with sub_refresh', async (t) => {
  const g = await startTestGateway({ client: { expired_sub_close_delay: '3s' }, channel: { namespaces: [{ name: 'secret' }] } });
  t.after(() => g.close());
  const client = new Centrifuge(g.url, { websocket: WebSocket, token: await token({ sub: 'alice' }) });
  t.after(() => client.disconnect());
  client.connect();
  let calls = 0;
  const sub = client.newSubscription('$secret:a', {
    getToken: async () => {
      calls++;
      return token({ sub: 'alice', channel: '$secret:a', exp: now() + (calls === 1 ? 2 : 600) });
    },
  });
  const states: number[] = [];
  sub.on('subscribing', (ctx) => states.push(ctx.code));
  sub.subscribe();
  await sub.ready(5000);
  // The first token lives 2 s: the SDK asks for a second one and sends sub_refresh.
  await waitFor(() => g.gateway.metrics.commands[10]![0]! >= 1, { timeoutMs: 8000, what: 'a successful sub_refresh' });
  assert.equal(calls, 2);
  assert.deepEqual(states.slice(1), [], 'no resubscribe');
});

test('a subscription that is not refreshed gets Unsubscribe 2501 after expiry plus the grace delay', async (t) => {
  const g = await startTestGateway({ client: { expired_sub_close_delay: '200ms' }, channel: { namespaces: [{ name: 'secret' }] } });
  t.after(() => g.close());
  const c = await RawClient.open(g.url);
  t.after(() => c.close());
  await c.connect(await token({ sub: 'alice' }));
  c.send([{ id: 2, subscribe: { channel: '$secret:a', token: await token({ sub: 'alice', channel: '$secret:a', exp: now() + 1 }) } }]);
  const r = (await c.reply(2)).subscribe!;
  assert.equal(r.expires, true);
  const push = await c.replies.waitForMatch((x) => x.push?.unsubscribe !== undefined, 'an Unsubscribe push', 6000);
  assert.deepEqual({ channel: push.push?.channel, code: push.push?.unsubscribe?.code }, { channel: '$secret:a', code: 2501 });
  assert.equal(c.closeCode, 0, 'the connection stays');
  // sub_refresh for a channel that is not subscribed answers 103.
  c.send([{ id: 3, subRefresh: { channel: '$secret:a', token: await token({ sub: 'alice', channel: '$secret:a' }) } }]);
  assert.equal((await c.reply(3)).error?.code, 103);
});

test('the personal channel is a server-side subscription of every authenticated user', async (t) => {
  const g = await startTestGateway({ client: { subscribe_to_user_personal_channel: { enabled: true } } });
  t.after(() => g.close());
  const c = await RawClient.open(g.url);
  t.after(() => c.close());
  const r = await c.connect(await token({ sub: 'alice' }));
  assert.deepEqual(Object.keys(r.connect?.subs ?? {}), ['#alice']);
  await g.publish('#alice', { hi: 1 });
  const pub = await c.replies.waitForMatch((x) => x.push?.pub !== undefined, 'a publication');
  assert.equal(pub.push?.channel, '#alice');
});

test('?cf_protocol=protobuf selects protobuf without a subprotocol', async (t) => {
  const g = await startTestGateway();
  t.after(() => g.close());
  const c = await RawClient.open(`${g.url}?cf_protocol=protobuf`, { format: 'protobuf', protocols: [] });
  t.after(() => c.close());
  const r = await c.connect(await token({ sub: 'alice' }));
  assert.ok(r.connect?.client);
  assert.equal(g.gateway.metrics.connections[1], 1);
});

test('single_connection: a new connection of a user ends the older ones with 3504, other users stay', async (t) => {
  const g = await startTestGateway({
    client: { subscribe_to_user_personal_channel: { enabled: true, single_connection: true } },
    channel: { without_namespace: { presence: true } },
  });
  t.after(() => g.close());
  const first = await RawClient.open(g.url);
  t.after(() => first.close());
  await first.connect(await token({ sub: 'alice' }));
  const bob = await RawClient.open(g.url);
  t.after(() => bob.close());
  await bob.connect(await token({ sub: 'bob' }));

  const second = await RawClient.open(g.url);
  t.after(() => second.close());
  await second.connect(await token({ sub: 'alice' }));
  assert.equal((await first.waitClosed()).code, 3504);

  await g.publish('#alice', { to: 'alice' });
  await g.publish('#bob', { to: 'bob' });
  assert.equal((await second.replies.waitForMatch((x) => x.push?.pub !== undefined, 'alice publication')).push?.channel, '#alice');
  assert.equal((await bob.replies.waitForMatch((x) => x.push?.pub !== undefined, 'bob publication')).push?.channel, '#bob');
});
