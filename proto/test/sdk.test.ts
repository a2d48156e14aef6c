// Compatibility proof against the real SDK: centrifuge-js 5.8.0, JSON build and protobuf build,
// running in Node with `ws` as its WebSocket against a tiny server that speaks only through our
// codecs. Client → server: we decode what the SDK sends and compare with the expected commands
// (and with the saved golden frames). Server → client: the SDK's events and results must show
// exactly what our encoders wrote.
//
// Set ROTOR_UPDATE_GOLDEN=1 to (re)write the golden frames in test/fixtures/sdk/.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { Centrifuge as CentrifugeJson } from 'centrifuge';
import { Centrifuge as CentrifugeProtobuf } from 'centrifuge/build/protobuf';
import { FakeServer, Inbox } from './support/fake-server.ts';
import type { FakeConnection } from './support/fake-server.ts';
import { encodeReply, encodeReplies, joinFrame, pingFrame } from '../src/frames.ts';
import { joinPush, leavePush, messagePush, prepareChannel, publicationPush, unsubscribePush } from '../src/push.ts';
import type { Command, Reply } from '../src/gen/client.ts';
import type { Format } from '../src/wire/message.ts';
import { sdkCommands } from './fixtures/sdk-commands.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();
const goldenDir = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'sdk');

type AnyCentrifuge = CentrifugeJson | CentrifugeProtobuf;
interface Build {
  format: Format;
  create(url: string, options: Record<string, unknown>): AnyCentrifuge;
}
const builds: Build[] = [
  { format: 'json', create: (url, o) => new CentrifugeJson(url, { websocket: WebSocket, ...o }) },
  { format: 'protobuf', create: (url, o) => new CentrifugeProtobuf(url, { websocket: WebSocket, ...o }) },
];

/** Bytes of a JSON value: what our encoders take for `data` in both formats. */
const wire = (v: unknown): Uint8Array => enc.encode(JSON.stringify(v));
/** The value the app sees: the JSON build parses payloads, the protobuf build hands out bytes. */
function fromSdk(v: unknown): unknown {
  if (v instanceof Uint8Array) return JSON.parse(dec.decode(v));
  return v;
}
/** What the app passes to publish/rpc/send in each build. */
function toSdk(format: Format, v: unknown): unknown {
  return format === 'json' ? v : wire(v);
}

function checkGolden(format: Format, name: string, frame: Uint8Array): void {
  const path = join(goldenDir, format, `${name}.${format === 'json' ? 'txt' : 'bin'}`);
  if (process.env['ROTOR_UPDATE_GOLDEN'] === '1') {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, frame);
    return;
  }
  assert.ok(existsSync(path), `golden frame ${path} missing: run with ROTOR_UPDATE_GOLDEN=1`);
  assert.deepEqual(Buffer.from(frame), readFileSync(path), `SDK frame differs from golden ${format}/${name}`);
}

async function expectCommands(conn: FakeConnection, name: string): Promise<Command[]> {
  const { frame, commands } = await conn.nextCommands(name);
  assert.deepEqual(commands, sdkCommands[name], `decoded ${name} commands`);
  checkGolden(conn.format, name, frame);
  return commands;
}

/** Resolves with the next emission of `event` (handlers only record; asserts run outside). */
function nextEvent<T>(emitter: { once(event: string, fn: (ctx: T) => void): unknown }, event: string): Promise<T> {
  const inbox = new Inbox<T>();
  emitter.once(event, (ctx: T) => inbox.push(ctx));
  return inbox.next(`'${event}' event`);
}

function recordEvents(emitter: { on(event: string, fn: (ctx: unknown) => void): unknown }, events: string[]): Inbox<[string, unknown]> {
  const inbox = new Inbox<[string, unknown]>();
  for (const e of events) emitter.on(e, (ctx: unknown) => inbox.push([e, ctx]));
  return inbox;
}

interface Env {
  server: FakeServer;
  client: AnyCentrifuge;
  format: Format;
}

async function withSdk(build: Build, options: Record<string, unknown>, fn: (env: Env) => Promise<void>): Promise<void> {
  const server = await FakeServer.start();
  const client = build.create(server.url, { minReconnectDelay: 60000, ...options });
  try {
    await fn({ server, client, format: build.format });
  } finally {
    client.disconnect();
    await server.close();
  }
}

/** connect() → the SDK's connect command → our connect reply → 'connected'. */
async function handshake(env: Env, result: Reply['connect'] = { client: 'client-1', version: '0.0.0', ping: 25, pong: true }): Promise<FakeConnection> {
  const connected = nextEvent(env.client, 'connected');
  env.client.connect();
  const conn = await env.server.connections.next('a connection');
  const { commands } = await conn.nextCommands('connect');
  assert.equal(commands[0]?.connect !== undefined, true);
  conn.send(encodeReply({ id: commands[0]!.id!, connect: result }, env.format));
  await connected;
  return conn;
}

for (const build of builds) {
  describe(`centrifuge-js 5.8.0 ${build.format} build`, () => {
    test('connect with token, name and version; the SDK accepts our connect result', async () => {
      await withSdk(build, { token: 'tok-1', name: 'rotor-golden', version: '0.0.1' }, async (env) => {
        const connected = nextEvent<{ client: string; transport: string; data?: unknown }>(env.client, 'connected');
        env.client.connect();
        const conn = await env.server.connections.next('a connection');
        assert.equal(conn.format, build.format, 'protobuf build negotiates centrifuge-protobuf');
        await expectCommands(conn, 'connect');
        conn.send(encodeReply({ id: 1, connect: { client: 'client-1', version: '9.9.9', ping: 25, pong: true, data: wire({ hello: 'world' }) } }, env.format));
        const ctx = await connected;
        assert.equal(ctx.client, 'client-1');
        assert.equal(ctx.transport, 'websocket');
        assert.deepEqual(fromSdk(ctx.data), { hello: 'world' });
      });
    });

    test('connect + optimistic subscribes in one frame; recovered publications, batched pushes, unsubscribe pushes', async () => {
      await withSdk(build, {}, async (env) => {
        const news = env.client.newSubscription('news', { since: { offset: 5, epoch: 'ep' }, positioned: true, recoverable: true, joinLeave: true });
        const chat = env.client.newSubscription('chat');
        const newsEvents = recordEvents(news, ['subscribed', 'publication', 'join', 'leave', 'unsubscribed', 'error']);
        const chatEvents = recordEvents(chat, ['subscribed', 'unsubscribed', 'error']);
        news.subscribe();
        chat.subscribe();
        env.client.connect();
        const conn = await env.server.connections.next('a connection');
        await expectCommands(conn, 'connect-subscribe');

        const info = { user: 'u1', client: 'c1', connInfo: wire({ name: 'Ann' }), chanInfo: wire({ role: 'admin' }) };
        conn.send(
          encodeReplies(
            [
              { id: 1, connect: { client: 'client-2', version: '1', ping: 25, pong: true } },
              {
                id: 2,
                subscribe: {
                  recoverable: true,
                  positioned: true,
                  epoch: 'ep',
                  offset: 5,
                  recovered: true,
                  wasRecovering: true,
                  publications: [
                    { data: wire({ n: 6 }), offset: 6 },
                    { data: wire({ n: 7 }), offset: 7, tags: { kind: 'x' }, info },
                  ],
                },
              },
              { id: 3, subscribe: {} },
            ],
            env.format,
          ),
        );
        const [e1, sub] = await newsEvents.next('news subscribed');
        assert.equal(e1, 'subscribed');
        // The protobuf build reports an absent `data` as empty bytes (protobufjs defaults).
        const { data: subData, ...subCtx } = sub as { data?: Uint8Array };
        assert.ok(subData === undefined || subData.length === 0);
        assert.deepEqual(
          subCtx,
          { channel: 'news', recoverable: true, positioned: true, streamPosition: { offset: 5, epoch: 'ep' }, wasRecovering: true, recovered: true, hasRecoveredPublications: true },
        );
        const [e2, p6] = (await newsEvents.next('recovered 6')) as [string, { data: unknown; offset: number; channel: string }];
        assert.equal(e2, 'publication');
        assert.deepEqual([p6.channel, fromSdk(p6.data), p6.offset], ['news', { n: 6 }, 6]);
        const [, p7] = (await newsEvents.next('recovered 7')) as [string, { data: unknown; offset: number; tags: unknown; info: Record<string, unknown> }];
        assert.deepEqual([fromSdk(p7.data), p7.offset, p7.tags], [{ n: 7 }, 7, { kind: 'x' }]);
        assert.deepEqual(
          { user: p7.info['user'], client: p7.info['client'], connInfo: fromSdk(p7.info['connInfo']), chanInfo: fromSdk(p7.info['chanInfo']) },
          { user: 'u1', client: 'c1', connInfo: { name: 'Ann' }, chanInfo: { role: 'admin' } },
        );
        const [c1] = await chatEvents.next('chat subscribed');
        assert.equal(c1, 'subscribed');

        // Live pushes of one channel batched in one frame by our builders.
        const ch = prepareChannel('news');
        conn.send(
          joinFrame(
            [
              publicationPush(ch, { data: wire({ n: 8 }), offset: 8 }, env.format),
              joinPush(ch, { user: 'u2', client: 'c2' }, env.format),
              leavePush(ch, { user: 'u3', client: 'c3' }, env.format),
              publicationPush(ch, { data: wire({ n: 9 }), offset: 9, tags: { t: '1' } }, env.format),
            ],
            env.format,
          ),
        );
        const live = [];
        for (let i = 0; i < 4; i++) live.push(await newsEvents.next(`live event ${i}`));
        assert.deepEqual(
          live.map(([e, ctx]) => {
            const c = ctx as { data?: unknown; offset?: number; tags?: unknown; info?: { user: string; client: string } };
            // The protobuf build reports absent tags as {} (protobufjs defaults).
            const tags = c.tags && Object.keys(c.tags).length > 0 ? c.tags : undefined;
            return e === 'publication' ? [e, fromSdk(c.data), c.offset, tags] : [e, c.info?.user, c.info?.client];
          }),
          [
            ['publication', { n: 8 }, 8, undefined],
            ['join', 'u2', 'c2'],
            ['leave', 'u3', 'c3'],
            ['publication', { n: 9 }, 9, { t: '1' }],
          ],
        );

        // Server unsubscribe below 2500: the SDK stays unsubscribed.
        conn.send(unsubscribePush('chat', { code: 2000, reason: 'server unsubscribe' }, env.format));
        const [c2, unsub] = (await chatEvents.next('chat unsubscribed')) as [string, { code: number; reason: string }];
        assert.deepEqual([c2, unsub.code, unsub.reason], ['unsubscribed', 2000, 'server unsubscribe']);

        // Insufficient state (2500): the SDK resubscribes and asks to recover from offset 9.
        const resubscribing = nextEvent<{ code: number; reason: string }>(news, 'subscribing');
        conn.send(unsubscribePush('news', { code: 2500, reason: 'insufficient state' }, env.format));
        const r = await resubscribing;
        assert.deepEqual([r.code, r.reason], [2500, 'insufficient state']);
        const { commands } = await conn.nextCommands('resubscribe');
        assert.deepEqual(commands, [
          { id: 4, subscribe: { channel: 'news', recover: true, epoch: 'ep', offset: 9, positioned: true, recoverable: true, joinLeave: true, flag: 1 } },
        ]);
      });
    });

    test('pong after a server ping', async () => {
      await withSdk(build, {}, async (env) => {
        const conn = await handshake(env);
        conn.send(pingFrame(env.format));
        await expectCommands(conn, 'pong');
      });
    });

    test('history, presence, presence stats, publish, rpc, send and error replies', async () => {
      await withSdk(build, {}, async (env) => {
        const conn = await handshake(env);
        const c = env.client;

        const history = c.history('news', { limit: 10, since: { offset: 3, epoch: 'e1' }, reverse: true });
        await expectCommands(conn, 'history');
        conn.send(
          encodeReply(
            { id: 2, history: { publications: [{ data: wire({ h: 3 }), offset: 3, info: { user: 'u', client: 'c' } }], epoch: 'e1', offset: 9 } },
            env.format,
          ),
        );
        const h = await history;
        assert.equal(h.epoch, 'e1');
        assert.equal(h.offset, 9);
        assert.equal(h.publications.length, 1);
        assert.deepEqual([fromSdk(h.publications[0]!.data), h.publications[0]!.offset, h.publications[0]!.info?.user], [{ h: 3 }, 3, 'u']);

        const presence = c.presence('news');
        await expectCommands(conn, 'presence');
        conn.send(
          encodeReply(
            { id: 3, presence: { presence: { c1: { user: 'u1', client: 'c1', connInfo: wire({ a: 1 }) }, c2: { user: '', client: 'c2' } } } },
            env.format,
          ),
        );
        const p = await presence;
        assert.deepEqual(Object.keys(p.clients).sort(), ['c1', 'c2']);
        assert.deepEqual([p.clients['c1']!.user, p.clients['c1']!.client, fromSdk(p.clients['c1']!.connInfo)], ['u1', 'c1', { a: 1 }]);
        assert.equal(p.clients['c2']!.user, '');

        const stats = c.presenceStats('news');
        await expectCommands(conn, 'presence-stats');
        conn.send(encodeReply({ id: 4, presenceStats: { numClients: 3, numUsers: 2 } }, env.format));
        assert.deepEqual(await stats, { numClients: 3, numUsers: 2 });

        const published = c.publish('news', toSdk(env.format, { text: 'hello' }));
        await expectCommands(conn, 'publish');
        conn.send(encodeReply({ id: 5, publish: {} }, env.format));
        assert.deepEqual(await published, {});

        const rpc = c.rpc('getUser', toSdk(env.format, { id: 42 }));
        await expectCommands(conn, 'rpc');
        conn.send(encodeReply({ id: 6, rpc: { data: wire({ name: 'Ann' }) } }, env.format));
        assert.deepEqual(fromSdk((await rpc).data), { name: 'Ann' });

        await c.send(toSdk(env.format, { note: 'fire and forget' }));
        await expectCommands(conn, 'send');

        // Error replies reject the call with exactly the code and message we sent.
        const failing = c.rpc('boom', toSdk(env.format, {}));
        const { commands } = await conn.nextCommands('failing rpc');
        conn.send(encodeReply({ id: commands[0]!.id!, error: { code: 1000, message: 'custom failure' } }, env.format));
        await assert.rejects(failing, (err: { code: number; message: string }) => err.code === 1000 && err.message === 'custom failure');

        const temp = c.presenceStats('news');
        const t = await conn.nextCommands('temporary failure');
        conn.send(encodeReply({ id: t.commands[0]!.id!, error: { code: 100, message: 'internal server error', temporary: true } }, env.format));
        await assert.rejects(temp, (err: { code: number; message: string }) => err.code === 100 && err.message === 'internal server error');
      });
    });

    test('connection token refresh', async () => {
      let calls = 0;
      const getToken = async (): Promise<string> => `tok-${++calls + 1}`;
      await withSdk(build, { token: 'tok-1', getToken }, async (env) => {
        const conn = await handshake(env, { client: 'client-3', ping: 25, pong: true, expires: true, ttl: 1 });
        await expectCommands(conn, 'refresh');
        conn.send(encodeReply({ id: 2, refresh: { expires: true, ttl: 3600 } }, env.format));
        // The SDK keeps the connection after a successful refresh: a ping is still answered.
        conn.send(pingFrame(env.format));
        const { commands } = await conn.nextCommands('pong after refresh');
        assert.deepEqual(commands, [{}]);
        assert.equal(calls, 1);
      });
    });

    test('subscription token refresh (sub_refresh)', async () => {
      let calls = 0;
      await withSdk(build, {}, async (env) => {
        const conn = await handshake(env);
        const sub = env.client.newSubscription('secure', { getToken: async () => `sub-tok-${++calls}` });
        const subscribed = nextEvent(sub, 'subscribed');
        sub.subscribe();
        const { commands } = await conn.nextCommands('subscribe with token');
        assert.deepEqual(commands, [{ id: 2, subscribe: { channel: 'secure', token: 'sub-tok-1', flag: 1 } }]);
        conn.send(encodeReply({ id: 2, subscribe: { expires: true, ttl: 1 } }, env.format));
        await subscribed;
        await expectCommands(conn, 'sub-refresh');
        conn.send(encodeReply({ id: 3, subRefresh: { expires: true, ttl: 3600 } }, env.format));
        conn.send(pingFrame(env.format));
        assert.deepEqual((await conn.nextCommands('pong after sub refresh')).commands, [{}]);
        assert.equal(sub.state, 'subscribed');
      });
    });

    test('unsubscribe', async () => {
      await withSdk(build, {}, async (env) => {
        const conn = await handshake(env);
        const sub = env.client.newSubscription('news');
        const subscribed = nextEvent(sub, 'subscribed');
        sub.subscribe();
        const { commands } = await conn.nextCommands('subscribe');
        conn.send(encodeReply({ id: commands[0]!.id!, subscribe: {} }, env.format));
        await subscribed;
        const unsubscribed = nextEvent<{ code: number }>(sub, 'unsubscribed');
        sub.unsubscribe();
        await expectCommands(conn, 'unsubscribe');
        conn.send(encodeReply({ id: 3, unsubscribe: {} }, env.format));
        assert.equal((await unsubscribed).code, 0, 'client-side unsubscribe code');
      });
    });

    test('subscribe errors: temporary → resubscribe; permanent → unsubscribed with the code', async () => {
      await withSdk(build, {}, async (env) => {
        const conn = await handshake(env);
        const sub = env.client.newSubscription('flaky', { minResubscribeDelay: 1, maxResubscribeDelay: 2 });
        const events = recordEvents(sub, ['error', 'subscribed', 'unsubscribed']);
        sub.subscribe();
        const first = await conn.nextCommands('first subscribe');
        conn.send(encodeReply({ id: first.commands[0]!.id!, error: { code: 100, message: 'internal server error', temporary: true } }, env.format));
        const [e1, err] = (await events.next('error event')) as [string, { error: { code: number; message: string } }];
        assert.deepEqual([e1, err.error.code, err.error.message], ['error', 100, 'internal server error']);
        const second = await conn.nextCommands('resubscribe after a temporary error');
        assert.equal(second.commands[0]?.subscribe?.channel, 'flaky');
        conn.send(encodeReply({ id: second.commands[0]!.id!, error: { code: 103, message: 'permission denied' } }, env.format));
        const [e2, un] = (await events.next('unsubscribed event')) as [string, { code: number; reason: string }];
        assert.deepEqual([e2, un.code, un.reason], ['unsubscribed', 103, 'permission denied']);
      });
    });

    test('server-side subscriptions from the connect result; client-level publication and message pushes', async () => {
      await withSdk(build, {}, async (env) => {
        const events = recordEvents(env.client, ['subscribed', 'publication', 'message']);
        await handshake(env, {
          client: 'client-4',
          ping: 25,
          pong: true,
          subs: { '#u1': { recoverable: true, positioned: true, epoch: 'pe', offset: 11 } },
        }).then((conn) => {
          conn.send(joinFrame([publicationPush('#u1', { data: wire({ personal: true }), offset: 12 }, env.format), messagePush({ data: wire({ direct: 1 }) }, env.format)], env.format));
        });
        const [e1, s] = (await events.next('server-side subscribed')) as [string, { channel: string; recoverable: boolean; streamPosition: unknown }];
        assert.deepEqual([e1, s.channel, s.recoverable, s.streamPosition], ['subscribed', '#u1', true, { offset: 11, epoch: 'pe' }]);
        const [e2, p] = (await events.next('server-side publication')) as [string, { channel: string; data: unknown; offset: number }];
        assert.deepEqual([e2, p.channel, fromSdk(p.data), p.offset], ['publication', '#u1', { personal: true }, 12]);
        const [e3, m] = (await events.next('message')) as [string, { data: unknown }];
        assert.deepEqual([e3, fromSdk(m.data)], ['message', { direct: 1 }]);
      });
    });
  });
}
