// Semantics of ApiService called directly (no transport): validation codes, publications through
// the Publisher, history and presence through the stores, control commands, info, channels, rpc,
// batch ordering and parallelism, metrics.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Errors, RotorError } from '@rotor/core';
import type { Publisher, PublishRequest } from '@rotor/core';
import { deferred, waitFor } from '@rotor/testkit';
import type { RpcHandler } from '../src/index.ts';
import { startTestApi, text, utf8 } from './harness.ts';
import type { TestApi } from './harness.ts';

async function withApi(fn: (t: TestApi) => Promise<void>, options: Parameters<typeof startTestApi>[0] = {}): Promise<void> {
  const t = await startTestApi({ grpc: false, ...options });
  try {
    await fn(t);
  } finally {
    await t.close();
  }
}

async function rejectsWith(p: Promise<unknown>, code: number): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof RotorError, `expected RotorError, got ${String(err)}`);
    assert.equal(err.code, code);
    return true;
  });
}

test('publish into a namespace with history returns offset and epoch and reaches the broker in order', () =>
  withApi(async (t) => {
    await t.watch('news');
    const r1 = await t.service.publish({ channel: 'news', data: utf8('{"n":1}') });
    const r2 = await t.service.publish({ channel: 'news', data: utf8('{"n":2}'), tags: { k: 'v' } });
    assert.equal(r1.offset, 1);
    assert.equal(r2.offset, 2);
    assert.ok(r1.epoch && r1.epoch === r2.epoch);
    const got = await t.delivered.waitFor(2);
    assert.deepEqual(
      got.map((d) => [d.channel, d.pub.offset, text(d.pub.data), d.epoch]),
      [
        ['news', 1, '{"n":1}', r1.epoch],
        ['news', 2, '{"n":2}', r1.epoch],
      ],
    );
    assert.deepEqual({ ...got[1]!.pub.tags }, { k: 'v' });
    const h = await t.history.read({ channel: 'news', limit: -1, reverse: false, metaTtlMs: 60_000 });
    assert.equal(h.publications.length, 2);
  }));

test('publish without history (namespace off, or skip_history) delivers with offset 0 and stores nothing', () =>
  withApi(async (t) => {
    await t.watch('nohist:a');
    await t.watch('plain');
    assert.deepEqual(await t.service.publish({ channel: 'nohist:a', data: utf8('1') }), { offset: 0, epoch: '' });
    assert.deepEqual(await t.service.publish({ channel: 'plain', data: utf8('2'), skipHistory: true }), { offset: 0, epoch: '' });
    const got = await t.delivered.waitFor(2);
    assert.deepEqual(got.map((d) => [d.channel, d.pub.offset]), [['nohist:a', 0], ['plain', 0]]);
    const h = await t.history.read({ channel: 'plain', limit: -1, reverse: false, metaTtlMs: 60_000 });
    assert.equal(h.publications.length, 0);
  }));

test('publish validation: channel, namespace, data and publication_data_format', () =>
  withApi(async (t) => {
    const s = t.service;
    await rejectsWith(s.publish({ data: utf8('1') }), 107);
    await rejectsWith(s.publish({ channel: 'nope:x', data: utf8('1') }), 102);
    await rejectsWith(s.publish({ channel: 'ünïcode', data: utf8('1') }), 107);
    await rejectsWith(s.publish({ channel: 'x'.repeat(256), data: utf8('1') }), 107);
    await rejectsWith(s.publish({ channel: 'news' }), 107);
    await rejectsWith(s.publish({ channel: 'news', b64data: 'not base64!' }), 107);
    // json namespace: bytes that are not JSON (only possible over gRPC or b64data) are refused.
    await rejectsWith(s.publish({ channel: 'json:a', b64data: Buffer.from('{oops').toString('base64') }), 107);
    assert.equal((await s.publish({ channel: 'json:a', data: utf8('[1,2]') })).offset, 1);
    await rejectsWith(s.publish({ channel: 'obj:a', data: utf8('[1,2]') }), 107);
    assert.deepEqual(await s.publish({ channel: 'obj:a', data: utf8('{"a":1}') }), { offset: 0, epoch: '' });
    // binary namespace: anything, even empty.
    assert.equal((await s.publish({ channel: 'bin:a', b64data: Buffer.from([0, 255]).toString('base64') })).offset, 1);
    assert.equal((await s.publish({ channel: 'bin:a' })).offset, 2);
    const h = await t.history.read({ channel: 'bin:a', limit: -1, reverse: false, metaTtlMs: 60_000 });
    assert.deepEqual([...h.publications[0]!.data], [0, 255]);
  }));

test('idempotency_key: a repeated key returns the first result and publishes once, per channel', () =>
  withApi(async (t) => {
    await t.watch('news');
    await t.watch('nohist:x');
    const s = t.service;
    const a = await s.publish({ channel: 'news', data: utf8('1'), idempotencyKey: 'k1' });
    const b = await s.publish({ channel: 'news', data: utf8('2'), idempotencyKey: 'k1' });
    assert.deepEqual(b, a);
    const c = await s.publish({ channel: 'news', data: utf8('3'), idempotencyKey: 'k2' });
    assert.equal(c.offset, (a.offset ?? 0) + 1);
    // Same key on a channel without history: deduplicated by the publisher too.
    await s.publish({ channel: 'nohist:x', data: utf8('4'), idempotencyKey: 'k1' });
    await s.publish({ channel: 'nohist:x', data: utf8('5'), idempotencyKey: 'k1' });
    // A marker publication: once it arrives, everything published before it has been delivered.
    await s.publish({ channel: 'nohist:x', data: utf8('"end"') });
    await waitFor(() => t.delivered.items.some((d) => text(d.pub.data) === '"end"'), { what: 'the marker publication' });
    assert.deepEqual(t.delivered.items.map((d) => text(d.pub.data)), ['1', '3', '4', '"end"']);
  }));

test('broadcast answers one response per channel, in order, with per-channel errors', () =>
  withApi(async (t) => {
    const r = await t.service.broadcast({ channels: ['news', 'nope:x', '', 'nohist:a', 'obj:a'], data: utf8('{"b":1}'), idempotencyKey: 'bk' });
    const rs = r.responses!;
    assert.equal(rs.length, 5);
    assert.equal(rs[0]!.result?.offset, 1);
    assert.equal(rs[1]!.error?.code, 102);
    assert.equal(rs[2]!.error?.code, 107);
    assert.deepEqual(rs[3]!.result, { offset: 0, epoch: '' });
    assert.deepEqual(rs[4]!.result, { offset: 0, epoch: '' });
    // Idempotency key applies per channel: repeating the broadcast republishes nothing.
    const again = await t.service.broadcast({ channels: ['news'], data: utf8('{"b":2}'), idempotencyKey: 'bk' });
    assert.deepEqual(again.responses![0]!.result, rs[0]!.result);
    await rejectsWith(t.service.broadcast({ channels: [], data: utf8('1') }), 107);
    // Data is checked per channel (its namespace's format): empty data fails each channel with 107.
    const noData = await t.service.broadcast({ channels: ['news', 'bin:a'] });
    assert.equal(noData.responses![0]!.error?.code, 107);
    assert.equal(noData.responses![1]!.result?.offset, 1);
  }));

test('history: limit, since, reverse, position, epoch mismatch (112), disabled (108), not clamped', () =>
  withApi(
    async (t) => {
      const s = t.service;
      let epoch = '';
      for (let i = 1; i <= 6; i++) epoch = (await s.publish({ channel: 'news', data: utf8(String(i)), tags: { i: String(i) } })).epoch!;
      const top = await s.history({ channel: 'news' });
      assert.deepEqual(top, { publications: [], epoch, offset: 6 });
      const all = await s.history({ channel: 'news', limit: -1 });
      assert.deepEqual(all.publications!.map((p) => [p.offset, text(p.data), p.tags?.['i']]), [1, 2, 3, 4, 5, 6].map((i) => [i, String(i), String(i)]));
      // client.history_max_publication_limit is 2 here; the API is not clamped by it.
      assert.equal((await s.history({ channel: 'news', limit: 5 })).publications!.length, 5);
      const since = await s.history({ channel: 'news', limit: 2, since: { offset: 2, epoch } });
      assert.deepEqual(since.publications!.map((p) => p.offset), [3, 4]);
      const rev = await s.history({ channel: 'news', limit: 2, reverse: true });
      assert.deepEqual(rev.publications!.map((p) => p.offset), [6, 5]);
      await rejectsWith(s.history({ channel: 'news', limit: 1, since: { offset: 2, epoch: 'other-epoch' } }), 112);
      await rejectsWith(s.history({ channel: 'nohist:a' }), 108);
      await rejectsWith(s.history({ channel: 'obj:a' }), 108);
      await rejectsWith(s.history({ channel: '' }), 107);
      await rejectsWith(s.history({ channel: 'nope:a' }), 102);
    },
    { config: { client: { history_max_publication_limit: 2 } } },
  ));

test('history_remove drops publications and keeps the position; 108 without history', () =>
  withApi(async (t) => {
    const s = t.service;
    const p = await s.publish({ channel: 'news', data: utf8('1') });
    assert.deepEqual(await s.historyRemove({ channel: 'news' }), {});
    const after = await s.history({ channel: 'news', limit: -1 });
    assert.deepEqual(after, { publications: [], epoch: p.epoch, offset: 1 });
    await rejectsWith(s.historyRemove({ channel: 'nohist:a' }), 108);
    await rejectsWith(s.historyRemove({ channel: '' }), 107);
  }));

test('presence and presence_stats read the presence store; 108 where presence is off', () =>
  withApi(async (t) => {
    await t.addPresence('news', { user: 'u1', client: 'c1', connInfo: utf8('{"name":"A"}') });
    await t.addPresence('news', { user: 'u1', client: 'c2' });
    await t.addPresence('news', { user: 'u2', client: '__proto__', chanInfo: utf8('"x"') });
    const p = await t.service.presence({ channel: 'news' });
    assert.deepEqual(Object.keys(p.presence!).sort(), ['__proto__', 'c1', 'c2']);
    assert.equal(p.presence!['c1']!.user, 'u1');
    assert.equal(text(p.presence!['c1']!.connInfo), '{"name":"A"}');
    assert.equal(text(p.presence!['__proto__']!.chanInfo), '"x"');
    assert.deepEqual(await t.service.presenceStats({ channel: 'news' }), { numClients: 3, numUsers: 2 });
    assert.deepEqual(Object.keys((await t.service.presence({ channel: 'empty' })).presence!), []);
    await rejectsWith(t.service.presence({ channel: 'nohist:a' }), 108);
    await rejectsWith(t.service.presenceStats({ channel: 'nohist:a' }), 108);
    await rejectsWith(t.service.presence({ channel: '' }), 107);
    await rejectsWith(t.service.presenceStats({ channel: 'nope:a' }), 102);
  }));

test('subscribe / unsubscribe / disconnect / refresh go out as control commands', () =>
  withApi(async (t) => {
    const s = t.service;
    await s.subscribe({
      channel: 'news',
      user: 'u1',
      client: 'c1',
      expireAt: 1_900_000_000,
      b64info: Buffer.from('{"i":1}').toString('base64'),
      data: utf8('{"d":1}'),
      recoverSince: { offset: 5, epoch: 'e' },
      override: { presence: { value: false }, joinLeave: { value: true } },
    });
    await s.unsubscribe({ channel: 'news', user: 'u1', session: 's1' });
    await s.disconnect({ user: 'u2', whitelist: ['c9'] });
    await s.disconnect({ user: 'u3', client: 'c3', disconnect: { code: 4001, reason: 'bye' } });
    await s.refresh({ user: 'u4', expired: true });
    await s.refresh({ user: 'u5', expireAt: 2_000_000_000, info: utf8('{"r":1}') });
    const cmds = await t.control.commands.waitFor(6);
    const sub = cmds[0]!;
    assert.equal(sub.kind, 'subscribe');
    if (sub.kind === 'subscribe') {
      assert.equal(sub.user, 'u1');
      assert.equal(sub.client, 'c1');
      assert.equal(sub.channel, 'news');
      assert.equal(sub.expireAt, 1_900_000_000);
      assert.equal(text(sub.info), '{"i":1}');
      assert.equal(text(sub.data), '{"d":1}');
      assert.deepEqual(sub.recoverSince, { offset: 5, epoch: 'e' });
      assert.deepEqual(sub.override, { presence: false, joinLeave: true });
    }
    assert.deepEqual(cmds[1], { kind: 'unsubscribe', user: 'u1', channel: 'news', session: 's1' });
    assert.deepEqual(cmds[2], { kind: 'disconnect', user: 'u2', disconnect: Disconnects3503(), whitelist: ['c9'] });
    assert.deepEqual(cmds[3], { kind: 'disconnect', user: 'u3', client: 'c3', disconnect: { code: 4001, reason: 'bye' } });
    assert.deepEqual(cmds[4], { kind: 'refresh', user: 'u4', expired: true });
    const r = cmds[5]!;
    assert.ok(r.kind === 'refresh' && r.expireAt === 2_000_000_000 && text(r.info) === '{"r":1}' && !r.expired);

    await rejectsWith(s.subscribe({ user: 'u' }), 107);
    await rejectsWith(s.subscribe({ channel: 'nope:x', user: 'u' }), 102);
    await rejectsWith(s.unsubscribe({ channel: 'nope:x', user: 'u' }), 102);
    await rejectsWith(s.disconnect({ user: 'u', disconnect: { code: 1000, reason: '' } }), 107);
    await rejectsWith(s.disconnect({ user: 'u', disconnect: { code: 4000, reason: 'r'.repeat(124) } }), 107);
    await rejectsWith(s.subscribe({ channel: 'news', user: 'u', b64data: '%%%' }), 107);
    assert.equal(t.control.commands.length, 6, 'rejected calls send nothing');
  }));

function Disconnects3503(): { code: number; reason: string } {
  return { code: 3503, reason: 'force disconnect' };
}

test('info lists the nodes of the control bus; channels filters by glob', () =>
  withApi(async (t) => {
    const info = await t.service.info({});
    assert.deepEqual(info.nodes, [
      { uid: 'node-uid-1', name: 'test-node', version: '0.1.0', numClients: 3, numUsers: 2, numChannels: 4, numSubs: 5, uptime: 42 },
    ]);
    t.control.channelCounts = new Map([
      ['chat:1', 2],
      ['chat:2', 1],
      ['news', 7],
      ['__proto__', 1],
    ]);
    const all = await t.service.channels({});
    assert.deepEqual(Object.keys(all.channels!).sort(), ['__proto__', 'chat:1', 'chat:2', 'news']);
    assert.deepEqual(all.channels!['news'], { numClients: 7 });
    const chat = await t.service.channels({ pattern: 'chat:*' });
    assert.deepEqual(Object.keys(chat.channels!).sort(), ['chat:1', 'chat:2']);
    const alt = await t.service.channels({ pattern: '{news,chat:[2-9]}' });
    assert.deepEqual(Object.keys(alt.channels!).sort(), ['chat:2', 'news']);
    await rejectsWith(t.service.channels({ pattern: 'chat:[' }), 107);
  }));

test('rpc: 108 without extensions, 104 for an unknown method, results and errors of handlers', async () => {
  await withApi(async (t) => {
    await rejectsWith(t.service.rpc({ method: 'x' }), 108);
    await rejectsWith(t.service.rpc({}), 107);
  });
  const rpc = new Map<string, RpcHandler>([
    ['echo', (p: Uint8Array) => p],
    ['fail', () => Promise.reject(new RotorError(Errors.limitExceeded))],
    ['boom', () => Promise.reject(new Error('secret internals'))],
  ]);
  await withApi(
    async (t) => {
      assert.equal(text((await t.service.rpc({ method: 'echo', params: utf8('{"a":1}') })).data), '{"a":1}');
      await rejectsWith(t.service.rpc({ method: 'nope' }), 104);
      await rejectsWith(t.service.rpc({ method: 'fail' }), 106);
      await assert.rejects(t.service.rpc({ method: 'boom' }), (e: unknown) => e instanceof RotorError && e.code === 100 && !e.message.includes('secret'));
    },
    { deps: { rpc } },
  );
});

test('batch runs commands in order with per-command errors; unknown commands answer 104', () =>
  withApi(async (t) => {
    const r = await t.service.batch({
      commands: [
        { publish: { channel: 'news', data: utf8('1') } },
        { publish: { channel: 'nope:x', data: utf8('1') } },
        {},
        { history: { channel: 'news', limit: -1 } },
        { presenceStats: { channel: 'news' } },
        { info: {} },
      ],
    });
    const rs = r.replies!;
    assert.equal(rs.length, 6);
    assert.equal(rs[0]!.publish?.offset, 1);
    assert.equal(rs[1]!.error?.code, 102);
    assert.equal(rs[2]!.error?.code, 104);
    assert.equal(rs[3]!.history?.publications?.length, 1, 'sequential: the history read sees the earlier publish');
    assert.deepEqual(rs[4]!.presenceStats, { numClients: 0, numUsers: 0 });
    assert.equal(rs[5]!.info?.nodes?.length, 1);
  }));

/** A Publisher that holds every publish until released, recording the order of events. */
function gatedPublisher(inner: Publisher): { publisher: Publisher; events: string[]; started: () => number; release: () => void } {
  const events: string[] = [];
  const gate = deferred();
  let started = 0;
  return {
    events,
    started: () => started,
    release: () => gate.resolve(),
    publisher: {
      async publish(req: PublishRequest) {
        started++;
        events.push(`start ${req.channel}`);
        await gate.promise;
        const r = await inner.publish(req);
        events.push(`end ${req.channel}`);
        return r;
      },
    },
  };
}

test('batch with parallel: true runs commands concurrently; without it one after another', async () => {
  const t = await startTestApi({ grpc: false });
  try {
    const { createApiService } = await import('../src/index.ts');
    // Parallel: both publishes must be in flight before either is released.
    const par = gatedPublisher(t.publisher);
    const parService = createApiService({ config: t.config, publisher: par.publisher, history: t.history, presence: t.presence, controlBus: t.controlBus });
    const parDone = parService.batch({ parallel: true, commands: [{ publish: { channel: 'a', data: utf8('1') } }, { publish: { channel: 'b', data: utf8('2') } }] });
    await waitFor(() => par.started() === 2, { what: 'both parallel publishes to start' });
    par.release();
    const pr = await parDone;
    assert.deepEqual(pr.replies!.map((x) => x.publish?.offset), [1, 1]);

    // Sequential: the second starts only after the first ended.
    const seq = gatedPublisher(t.publisher);
    const seqService = createApiService({ config: t.config, publisher: seq.publisher, history: t.history, presence: t.presence, controlBus: t.controlBus });
    const seqDone = seqService.batch({ commands: [{ publish: { channel: 'c', data: utf8('1') } }, { publish: { channel: 'd', data: utf8('2') } }] });
    await waitFor(() => seq.started() === 1, { what: 'the first sequential publish to start' });
    seq.release();
    await seqDone;
    assert.deepEqual(seq.events, ['start c', 'end c', 'start d', 'end d']);
  } finally {
    await t.close();
  }
});

test('batch and broadcast sizes are limited', () =>
  withApi(
    async (t) => {
      const cmd = { info: {} };
      await rejectsWith(t.service.batch({ commands: [cmd, cmd, cmd, cmd] }), 107);
      assert.equal((await t.service.batch({ commands: [cmd, cmd, cmd] })).replies!.length, 3);
      await rejectsWith(t.service.broadcast({ channels: ['a', 'b', 'c', 'd'], data: utf8('1') }), 107);
    },
    { deps: { maxBatchSize: 3 } },
  ));

test('a failing adapter becomes 100 internal, not a crash', () =>
  withApi(
    async (t) => {
      await rejectsWith(t.service.publish({ channel: 'news', data: utf8('1') }), 100);
      const b = await t.service.broadcast({ channels: ['news', 'x'], data: utf8('1') });
      assert.deepEqual(b.responses!.map((r) => r.error?.code), [100, 100]);
    },
    { deps: { publisher: { publish: () => Promise.reject(new Error('store down')) } } },
  ));

test('metrics count calls per protocol, method and result', () =>
  withApi(async (t) => {
    await t.service.publish({ channel: 'news', data: utf8('1') });
    await t.service.publish({ channel: 'news', data: utf8('2') });
    await assert.rejects(t.service.publish({ channel: '', data: utf8('1') }));
    await t.service.batch({ commands: [{ info: {} }] });
    const text = await t.registry.metrics();
    assert.match(text, /rotor_api_requests_total\{protocol="internal",method="publish",result="ok"\} 2/);
    assert.match(text, /rotor_api_requests_total\{protocol="internal",method="publish",result="107"\} 1/);
    assert.match(text, /rotor_api_requests_total\{protocol="internal",method="batch",result="ok"\} 1/);
    assert.match(text, /rotor_api_requests_total\{protocol="internal",method="info",result="ok"\} 1/);
    assert.match(text, /rotor_api_request_duration_seconds_count\{protocol="internal",method="publish"\} 3/);
  }));
