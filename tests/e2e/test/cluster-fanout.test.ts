// A cluster of real processes — nats-server, 2 history shards, the api, gateways A and B on ports
// of their own — with real centrifuge SDK clients (JSON and protobuf): what a backend publishes
// over HTTP and gRPC reaches clients on both gateways in the same order; join/leave, presence,
// info and channels span the gateways; a disconnect by user reaches every gateway.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Centrifuge } from 'centrifuge';
import type { JoinContext, LeaveContext } from 'centrifuge';
import { shardOf } from '@rotor/nats';
import { Collector, deferred, waitFor, withDeadline } from '@rotor/testkit';
import WebSocket from 'ws';
import { startCluster } from '../src/cluster.ts';
import type { ApiAnswer, TestCluster } from '../src/cluster.ts';
import { SDK_BUILDS, subscriber } from '../src/sdk.ts';
import type { Subscriber } from '../src/sdk.ts';

const TIMEOUT = { timeout: 150_000 };
const [[, JsonSdk], [, ProtobufSdk]] = SDK_BUILDS as [readonly ['json', typeof Centrifuge], readonly ['protobuf', typeof Centrifuge]];

/** Two chat channels on different shards (the hash is fixed, so this is deterministic). */
function channelsOnBothShards(): [string, string] {
  const names = Array.from({ length: 32 }, (_, i) => `chat:order-${i}`);
  const a = names.find((c) => shardOf(c, 2) === 0);
  const b = names.find((c) => shardOf(c, 2) === 1);
  assert.ok(a !== undefined && b !== undefined);
  return [a, b];
}

function ok(a: ApiAnswer, what: string): Record<string, unknown> {
  assert.equal(a.status, 200, `${what}: HTTP ${a.status}`);
  assert.equal(a.error ?? null, null, `${what}: ${JSON.stringify(a.error)}`);
  return a.result ?? {};
}

interface Client {
  client: Centrifuge;
  joins: Collector<string>;
  leaves: Collector<string>;
  disconnected: Collector<number>;
  sub: ReturnType<Centrifuge['newSubscription']>;
}

async function member(t: { after(fn: () => void): void }, url: string, token: string, channel: string): Promise<Client> {
  const client = new Centrifuge(url, { websocket: WebSocket, token, minReconnectDelay: 50, maxReconnectDelay: 500 });
  t.after(() => client.disconnect());
  const c: Client = {
    client,
    joins: new Collector('joins'),
    leaves: new Collector('leaves'),
    disconnected: new Collector('disconnects'),
    sub: client.newSubscription(channel),
  };
  client.on('disconnected', (ctx) => c.disconnected.push(ctx.code));
  c.sub.on('join', (ctx: JoinContext) => c.joins.push(ctx.info.user));
  c.sub.on('leave', (ctx: LeaveContext) => c.leaves.push(ctx.info.user));
  const subscribed = deferred<void>();
  c.sub.on('subscribed', () => subscribed.resolve());
  c.sub.on('error', (ctx) => subscribed.reject(new Error(ctx.error.message)));
  c.sub.subscribe();
  client.connect();
  await withDeadline(subscribed.promise, 15_000, `subscription to ${channel}`);
  return c;
}

test('cluster: HTTP and gRPC publications in the same order on both gateways; presence, join/leave, info, channels and disconnect span the gateways', TIMEOUT, async (t) => {
  const cluster: TestCluster = await startCluster(t, { shards: 2, env: { ROTOR_CHANNEL_WITHOUT_NAMESPACE: '{"allow_subscribe_for_client":true}' } });
  const [gwA, gwB] = await Promise.all([cluster.startGateway(), cluster.startGateway()]);
  assert.notEqual(gwA.httpPort, gwB.httpPort);
  const urlA = cluster.wsUrl(gwA);
  const urlB = cluster.wsUrl(gwB);

  await t.test('publications: same data, offsets and order for JSON and protobuf clients on A and B', async (st) => {
    const [chatOnShard0, chatOnShard1] = channelsOnBothShards();
    const channels = [chatOnShard0, chatOnShard1, 'news'];
    const token = await cluster.token('reader');
    const subs = new Map<string, Subscriber[]>();
    await Promise.all(
      channels.map(async (ch) => {
        subs.set(ch, await Promise.all([subscriber(st, JsonSdk, urlA, ch, token), subscriber(st, ProtobufSdk, urlB, ch, token), subscriber(st, JsonSdk, urlB, ch, token)]));
      }),
    );
    const perChannel = 30;
    const expectedOffsets = new Map<string, number[]>();
    for (let n = 1; n <= perChannel; n++) {
      for (const ch of channels) {
        const viaGrpc = n % 2 === 0;
        const answer = viaGrpc
          ? await cluster.grpc('Publish', { channel: ch, data: Buffer.from(JSON.stringify({ n, via: 'grpc' })) })
          : await cluster.http('publish', { channel: ch, data: { n, via: 'http' } });
        const result = ok(answer, `publish ${n} to ${ch}`);
        const offsets = expectedOffsets.get(ch) ?? [];
        offsets.push(Number(result['offset'] ?? 0));
        expectedOffsets.set(ch, offsets);
      }
    }
    assert.deepEqual(expectedOffsets.get(chatOnShard0), Array.from({ length: perChannel }, (_, i) => i + 1));
    assert.deepEqual(expectedOffsets.get(chatOnShard1), Array.from({ length: perChannel }, (_, i) => i + 1));
    for (const ch of channels) {
      const want = Array.from({ length: perChannel }, (_, i) => ({ data: { n: i + 1, via: (i + 1) % 2 === 0 ? 'grpc' : 'http' }, offset: ch === 'news' ? 0 : i + 1 }));
      for (const [i, s] of (subs.get(ch) ?? []).entries()) {
        const got = await s.publications.waitFor(perChannel, 20_000);
        // The SDK reports no offset for publications without one (channels without history).
        assert.deepEqual(
          got.map((p) => ({ data: p.data, offset: p.offset ?? 0 })),
          want,
          `${ch}, subscriber ${i}`,
        );
      }
    }
  });

  await t.test('join/leave and presence across gateways; info and channels count both gateways', async (st) => {
    const channel = 'chat:room';
    const xavier = await member(st, urlA, await cluster.token('xavier'), channel);
    const yvonne = await member(st, urlB, await cluster.token('yvonne'), channel);
    assert.equal(await xavier.joins.waitForMatch((u) => u === 'yvonne', 'join of yvonne seen on gateway A', 10_000), 'yvonne');

    const presence = ok(await cluster.http('presence', { channel }), 'presence')['presence'] as Record<string, { user: string }>;
    assert.deepEqual(Object.values(presence).map((p) => p.user).sort(), ['xavier', 'yvonne']);
    const fromClient = await xavier.sub.presence();
    assert.deepEqual(Object.values(fromClient.clients).map((c) => c.user).sort(), ['xavier', 'yvonne']);
    const stats = ok(await cluster.grpc('PresenceStats', { channel }), 'presence_stats');
    assert.deepEqual([stats['num_clients'], stats['num_users']], [2, 2]);

    const counts = ok(await cluster.http('channels', { pattern: 'chat:room' }), 'channels')['channels'] as Record<string, { num_clients: number }>;
    assert.equal(counts[channel]?.num_clients, 2, 'one subscriber on each gateway');
    // Node heartbeats carry the client counts (every 5 s): both gateways appear with theirs.
    await waitFor(
      async () => {
        const nodes = ok(await cluster.http('info', {}), 'info')['nodes'] as Array<{ name: string; num_clients?: number }>;
        const names = nodes.map((n) => n.name).sort();
        return names.join() === 'gateway-1,gateway-2' && nodes.every((n) => (n.num_clients ?? 0) >= 1);
      },
      { timeoutMs: 15_000, intervalMs: 250, what: 'info listing both gateways with their clients' },
    );

    yvonne.client.disconnect();
    assert.equal(await xavier.leaves.waitForMatch((u) => u === 'yvonne', 'leave of yvonne seen on gateway A', 10_000), 'yvonne');
    const after = ok(await cluster.http('presence', { channel }), 'presence after leave')['presence'] as Record<string, { user: string }>;
    assert.deepEqual(Object.values(after).map((p) => p.user), ['xavier']);
  });

  await t.test('a disconnect by user reaches the user on both gateways and no one else', async (st) => {
    const channel = 'chat:lounge';
    const [aliceA, aliceB, bob] = await Promise.all([
      member(st, urlA, await cluster.token('alice'), channel),
      member(st, urlB, await cluster.token('alice'), channel),
      member(st, urlA, await cluster.token('bob'), channel),
    ]);
    const bobPubs = new Collector<unknown>('publications to bob');
    bob.sub.on('publication', (ctx) => bobPubs.push(ctx.data));
    ok(await cluster.grpc('Disconnect', { user: 'alice' }), 'disconnect alice');
    assert.deepEqual(await aliceA.disconnected.waitFor(1, 10_000), [3503]);
    assert.deepEqual(await aliceB.disconnected.waitFor(1, 10_000), [3503]);
    ok(await cluster.http('publish', { channel, data: { after: 'disconnect' } }), 'publish after disconnect');
    assert.deepEqual(await bobPubs.waitFor(1, 10_000), [{ after: 'disconnect' }]);
    assert.equal(bob.disconnected.length, 0);
  });
});
