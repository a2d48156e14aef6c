// An independent HTTP client: cent.js (npm `cent.js` 6.1.0, the Node client for the Centrifugo
// HTTP API listed by the Centrifugo docs; there is no package under the @centrifugal scope). It
// authenticates with X-API-Key, posts to /api/<method>, and its pipeline() speaks the legacy
// newline-delimited POST /api.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import centjs from 'cent.js';
import { KEY, startTestApi, text } from './harness.ts';
import type { TestApi } from './harness.ts';

const { CentClient, CentException } = centjs;

describe('cent.js against the HTTP API', () => {
  let t: TestApi;
  let cent: InstanceType<typeof CentClient>;
  before(async () => {
    t = await startTestApi({ grpc: false });
    cent = new CentClient({ url: `${t.httpUrl}/api`, apiKey: KEY });
  });
  after(() => t.close());

  test('publish and history', async () => {
    await t.watch('cent');
    const pub = await cent.publish({ channel: 'cent', data: { text: 'hello' }, tags: { from: 'cent.js' } });
    assert.equal(pub.offset, 1);
    assert.ok(pub.epoch);
    const [d] = await t.delivered.waitFor(1);
    assert.deepEqual(JSON.parse(text(d!.pub.data)), { text: 'hello' });
    const h = await cent.getHistory({ channel: 'cent', limit: 10 });
    assert.equal(h.offset, 1);
    assert.equal(h.epoch, pub.epoch);
    assert.deepEqual(
      // cent.js's Publication type lacks `tags`; the wire has it.
      (h.publications as unknown as Array<{ offset: number; data: unknown; tags?: Record<string, string> }>).map((p) => [p.offset, p.data, p.tags]),
      [[1, { text: 'hello' }, { from: 'cent.js' }]],
    );
    await cent.removeHistory({ channel: 'cent' });
    assert.equal((await cent.getHistory({ channel: 'cent', limit: -1 })).publications.length, 0);
  });

  test('broadcast', async () => {
    // cent.js types the broadcast result loosely; the wire is {responses: PublishResponse[]}.
    const r = (await cent.broadcast({ channels: ['a', 'nope:x'], data: { n: 1 } })) as unknown as { responses: unknown[] };
    assert.equal(r.responses.length, 2);
    assert.equal((r.responses[0] as { result?: { offset?: number } }).result?.offset, 1);
    assert.equal((r.responses[1] as { error?: { code: number } }).error?.code, 102);
  });

  test('presence and presence_stats', async () => {
    await t.addPresence('room', { user: 'alice', client: 'c-1', connInfo: new TextEncoder().encode('{"name":"Alice"}') });
    const p = await cent.getPresence({ channel: 'room' });
    assert.deepEqual(p.presence['c-1'], { user: 'alice', client: 'c-1', conn_info: { name: 'Alice' } });
    const s = await cent.getPresenceStats({ channel: 'room' });
    assert.deepEqual(s, { num_clients: 1, num_users: 1 });
  });

  test('info, channels, and control methods', async () => {
    const info = await cent.getInfo();
    assert.equal(info.nodes[0]?.uid, 'node-uid-1');
    t.control.channelCounts = new Map([['room', 1]]);
    const ch = await cent.getChannels({ pattern: 'r*' });
    assert.deepEqual(ch.channels, { room: { num_clients: 1 } });
    const n = t.control.commands.length;
    await cent.disconnect({ user: 'alice' });
    await cent.unsubscribe({ user: 'alice', channel: 'room' });
    const cmds = (await t.control.commands.waitFor(n + 2)).slice(n);
    assert.deepEqual(cmds.map((c) => c.kind), ['disconnect', 'unsubscribe']);
  });

  test('API errors surface as CentException', async () => {
    await assert.rejects(cent.publish({ channel: 'nope:x', data: {} }), (e: unknown) => e instanceof CentException);
    await assert.rejects(cent.getPresence({ channel: 'nohist:a' }), (e: unknown) => e instanceof CentException);
  });

  test('pipeline() over the legacy endpoint', async () => {
    const results = await cent.pipeline([
      { method: 'publish', params: { channel: 'pipe', data: { i: 1 } } },
      { method: 'publish', params: { channel: 'pipe', data: { i: 2 } } },
      { method: 'history', params: { channel: 'pipe', limit: -1 } },
    ] as never);
    assert.equal(results.length, 3);
    assert.equal((results[1] as { offset: number }).offset, 2);
    assert.deepEqual((results[2] as { publications: Array<{ data: unknown }> }).publications.map((p) => p.data), [{ i: 1 }, { i: 2 }]);
  });

  test('a wrong key is refused (cent.js cannot parse the empty 401 body)', async () => {
    const wrong = new CentClient({ url: `${t.httpUrl}/api`, apiKey: 'wrong' });
    await assert.rejects(wrong.getInfo());
  });
});
