// The gRPC binding over real sockets with a grpc-js client: every method, auth, malformed
// protobuf, the transport error mode, size limits; plus a check of our service definition against
// proto/api.proto loaded by @grpc/proto-loader.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { api } from '@rotor/proto';
import { METHODS } from '../src/index.ts';
import { GRPC_KEY, startTestApi, text, utf8 } from './harness.ts';
import type { GrpcTestClient, TestApi } from './harness.ts';

const PROTO = fileURLToPath(new URL('../../../proto/api.proto', import.meta.url));

function grpcCode(err: unknown): number {
  return (err as grpc.ServiceError).code;
}

test('the served definition matches proto/api.proto (paths and message types)', () => {
  const pkg = protoLoader.loadSync(PROTO, { keepCase: true });
  const service = pkg['centrifugal.centrifugo.api.CentrifugoApi'] as unknown as Record<string, { path: string; requestType: { type: { name: string } }; responseType: { type: { name: string } } }>;
  const protoMethods = Object.keys(service).sort();
  assert.deepEqual(METHODS.map((m) => m.grpcName).sort(), protoMethods);
  for (const m of METHODS) {
    const d = service[m.grpcName]!;
    assert.equal(d.path, `/centrifugal.centrifugo.api.CentrifugoApi/${m.grpcName}`);
    assert.equal(d.path, api.CentrifugoApiMethods[m.grpcName].path);
    assert.equal(`centrifugal.centrifugo.api.${d.requestType.type.name}`, m.requestType.typeName);
    assert.equal(`centrifugal.centrifugo.api.${d.responseType.type.name}`, m.responseType.typeName);
  }
});

describe('gRPC API methods', () => {
  let t: TestApi;
  let c: GrpcTestClient;
  before(async () => {
    t = await startTestApi({ deps: { rpc: new Map([['echo', (p: Uint8Array) => p]]) } });
    c = t.grpcClient();
  });
  after(() => t.close());

  test('Publish: offset and epoch; any bytes in a default namespace; errors in the body', async () => {
    await t.watch('news');
    const r = await c.call<api.PublishResponse>('Publish', { channel: 'news', data: new Uint8Array([0, 1, 2]) });
    assert.equal(r.error, undefined);
    assert.equal(r.result?.offset, 1);
    assert.ok(r.result?.epoch);
    const [d] = await t.delivered.waitFor(1);
    assert.deepEqual([...d!.pub.data], [0, 1, 2]);
    assert.deepEqual(await c.call('Publish', { channel: 'nope:x', data: utf8('{}') }), { error: { code: 102, message: 'unknown channel' } });
    assert.equal((await c.call<api.PublishResponse>('Publish', { channel: 'json:x', data: utf8('{not json') })).error?.code, 107);
    assert.equal((await c.call<api.PublishResponse>('Publish', { channel: 'news' })).error?.code, 107);
  });

  test('Publish with idempotency_key answers the first result again', async () => {
    const a = await c.call<api.PublishResponse>('Publish', { channel: 'gidem', data: utf8('1'), idempotencyKey: 'k' });
    const b = await c.call<api.PublishResponse>('Publish', { channel: 'gidem', data: utf8('2'), idempotencyKey: 'k' });
    assert.deepEqual(b, a);
  });

  test('Broadcast', async () => {
    const r = await c.call<api.BroadcastResponse>('Broadcast', { channels: ['gb1', 'gb2', 'nope:x'], data: utf8('{}') });
    assert.deepEqual(r.result?.responses?.map((x) => x.result?.offset ?? x.error?.code), [1, 1, 102]);
  });

  test('Subscribe, Unsubscribe, Disconnect, Refresh reach the control bus', async () => {
    const n = t.control.commands.length;
    assert.deepEqual(await c.call('Subscribe', { channel: 'news', user: 'u', data: utf8('{}') }), { result: {} });
    assert.deepEqual(await c.call('Unsubscribe', { channel: 'news', user: 'u' }), { result: {} });
    assert.deepEqual(await c.call('Disconnect', { user: 'u' }), { result: {} });
    assert.deepEqual(await c.call('Refresh', { user: 'u', expired: true }), { result: {} });
    const cmds = (await t.control.commands.waitFor(n + 4)).slice(n);
    assert.deepEqual(cmds.map((x) => x.kind), ['subscribe', 'unsubscribe', 'disconnect', 'refresh']);
    assert.equal((await c.call<api.SubscribeResponse>('Subscribe', { channel: 'nope:x', user: 'u' })).error?.code, 102);
  });

  test('Presence, PresenceStats', async () => {
    await t.addPresence('gp', { user: 'u1', client: 'c1', connInfo: new Uint8Array([9]) });
    const p = await c.call<api.PresenceResponse>('Presence', { channel: 'gp' });
    assert.equal(p.result?.presence?.['c1']?.user, 'u1');
    assert.deepEqual([...(p.result?.presence?.['c1']?.connInfo ?? [])], [9]);
    assert.deepEqual(await c.call('PresenceStats', { channel: 'gp' }), { result: { numClients: 1, numUsers: 1 } });
    assert.equal((await c.call<api.PresenceResponse>('Presence', { channel: 'nohist:a' })).error?.code, 108);
  });

  test('History and HistoryRemove', async () => {
    await c.call('Publish', { channel: 'gh', data: utf8('{"a":1}') });
    await c.call('Publish', { channel: 'gh', data: new Uint8Array([0xff]) });
    const h = await c.call<api.HistoryResponse>('History', { channel: 'gh', limit: -1 });
    assert.deepEqual(h.result?.publications?.map((p) => [p.offset, [...(p.data ?? [])]]), [
      [1, [...utf8('{"a":1}')]],
      [2, [0xff]],
    ]);
    assert.equal(text(h.result?.publications?.[0]?.data), '{"a":1}');
    assert.deepEqual(await c.call('HistoryRemove', { channel: 'gh' }), { result: {} });
    const after = await c.call<api.HistoryResponse>('History', { channel: 'gh', limit: -1 });
    assert.equal(after.result?.publications, undefined);
    assert.equal(after.result?.offset, 2);
    assert.equal((await c.call<api.HistoryResponse>('History', { channel: 'gh', since: { offset: 1, epoch: 'x' }, limit: 1 })).error?.code, 112);
  });

  test('Info, Channels, RPC', async () => {
    const info = await c.call<api.InfoResponse>('Info', {});
    assert.equal(info.result?.nodes?.[0]?.uid, 'node-uid-1');
    assert.equal(info.result?.nodes?.[0]?.uptime, 42);
    t.control.channelCounts = new Map([
      ['x:1', 1],
      ['y:1', 2],
    ]);
    const ch = await c.call<api.ChannelsResponse>('Channels', { pattern: 'x:*' });
    assert.deepEqual({ ...ch.result?.channels }, { 'x:1': { numClients: 1 } });
    assert.equal((await c.call<api.ChannelsResponse>('Channels', { pattern: '[' })).error?.code, 107);
    assert.deepEqual([...((await c.call<api.RPCResponse>('RPC', { method: 'echo', params: new Uint8Array([1, 2]) })).result?.data ?? [])], [1, 2]);
    assert.equal((await c.call<api.RPCResponse>('RPC', { method: 'missing' })).error?.code, 104);
  });

  test('Batch, sequential and parallel', async () => {
    const r = await c.call<api.BatchResponse>('Batch', {
      commands: [{ publish: { channel: 'gbatch', data: utf8('1') } }, { history: { channel: 'gbatch', limit: -1 } }, { presence: { channel: 'nohist:a' } }],
    });
    assert.equal(r.replies?.[0]?.publish?.offset, 1);
    assert.equal(r.replies?.[1]?.history?.publications?.length, 1);
    assert.equal(r.replies?.[2]?.error?.code, 108);
    const p = await c.call<api.BatchResponse>('Batch', { parallel: true, commands: [{ info: {} }, { publish: { channel: 'gbatch', data: utf8('2') } }] });
    assert.equal(p.replies?.length, 2);
    assert.equal(p.replies?.[1]?.publish?.offset, 2);
  });
});

describe('gRPC API protection', () => {
  let t: TestApi;
  let c: GrpcTestClient;
  before(async () => {
    t = await startTestApi({ config: { grpc_api: { max_receive_message_size: 64 * 1024 } } });
    c = t.grpcClient();
  });
  after(() => t.close());

  test('a missing or wrong key is UNAUTHENTICATED; the scheme is exact', async () => {
    for (const md of [{} as Record<string, string>, { authorization: 'apikey wrong' }, { authorization: `Bearer ${GRPC_KEY}` }, { authorization: `ApiKey ${GRPC_KEY}` }, { authorization: GRPC_KEY }, { authorization: `apikey ${GRPC_KEY} ` }]) {
      await assert.rejects(c.call('Info', {}, md), (e: unknown) => grpcCode(e) === grpc.status.UNAUTHENTICATED, JSON.stringify(md));
    }
    // The HTTP key is not the gRPC key.
    await assert.rejects(c.call('Info', {}, { authorization: 'apikey test-api-key-0123456789' }), (e: unknown) => grpcCode(e) === grpc.status.UNAUTHENTICATED);
    assert.ok((await c.call<api.InfoResponse>('Info', {})).result);
    assert.match(await t.registry.metrics(), /rotor_api_rejected_total\{protocol="grpc",reason="unauthorized"\} 7/);
  });

  test('malformed protobuf is INVALID_ARGUMENT and the server keeps serving', async () => {
    const bad = [
      Buffer.from([0x0a, 0xff]), // length prefix cut short
      Buffer.from([0x0a, 0x05, 0x61]), // string longer than the message
      Buffer.from([0x0f]), // field 1 with the invalid wire type 7
      Buffer.from([0x12, 0x02, 0x08]), // data field overruns
    ];
    for (const bytes of bad) {
      await assert.rejects(c.raw('/centrifugal.centrifugo.api.CentrifugoApi/Publish', bytes), (e: unknown) => grpcCode(e) === grpc.status.INVALID_ARGUMENT, bytes.toString('hex'));
    }
    // Deeply nested label filters hit the decoder's depth limit, not the stack.
    const deep = encodeNestedFilter(1000);
    await assert.rejects(c.raw('/centrifugal.centrifugo.api.CentrifugoApi/Unsubscribe', deep), (e: unknown) => grpcCode(e) === grpc.status.INVALID_ARGUMENT);
    assert.equal((await c.call<api.PublishResponse>('Publish', { channel: 'after', data: utf8('1') })).result?.offset, 1);
  });

  test('a request over max_receive_message_size is refused', async () => {
    await assert.rejects(c.call('Publish', { channel: 'big', data: new Uint8Array(70 * 1024) }), (e: unknown) => grpcCode(e) === grpc.status.RESOURCE_EXHAUSTED);
    assert.equal((await c.call<api.PublishResponse>('Publish', { channel: 'big', data: new Uint8Array(60 * 1024) })).result?.offset, 1);
  });

  test('methods the server does not implement are UNIMPLEMENTED', async () => {
    await assert.rejects(c.raw('/centrifugal.centrifugo.api.CentrifugoApi/MapPublish', Buffer.alloc(0)), (e: unknown) => grpcCode(e) === grpc.status.UNIMPLEMENTED);
  });

  test('transport error mode by metadata maps codes to gRPC statuses', async () => {
    const md = { authorization: `apikey ${GRPC_KEY}`, 'x-centrifugo-error-mode': 'transport' };
    const cases: Array<[string, unknown, grpc.status]> = [
      ['Publish', { channel: 'nope:x', data: utf8('1') }, grpc.status.NOT_FOUND],
      ['Publish', { channel: '', data: utf8('1') }, grpc.status.INVALID_ARGUMENT],
      ['Presence', { channel: 'nohist:a' }, grpc.status.INVALID_ARGUMENT],
      ['RPC', { method: 'x' }, grpc.status.INVALID_ARGUMENT],
      ['History', { channel: 'news', since: { offset: 1, epoch: 'x' } }, grpc.status.OUT_OF_RANGE],
    ];
    for (const [method, req, code] of cases) {
      await assert.rejects(c.call(method, req, md), (e: unknown) => {
        assert.equal(grpcCode(e), code, method);
        assert.ok((e as grpc.ServiceError).details.length > 0);
        return true;
      });
    }
    assert.ok((await c.call<api.PublishResponse>('Publish', { channel: 'ok', data: utf8('1') }, md)).result);
  });
});

/** Unsubscribe request whose label_filter nests `depth` FilterNodes (field 6 `nodes`). */
function encodeNestedFilter(depth: number): Buffer {
  let node = Buffer.from([0x0a, 0x01, 0x61]); // op = "a"
  for (let i = 0; i < depth; i++) node = Buffer.concat([Buffer.from([0x32]), varint(node.length), node]);
  return Buffer.concat([Buffer.from([0x2a]), varint(node.length), node]);
}

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return Buffer.from(out);
}

test('grpc_api.error_mode transport by config; no key configured means no auth', async () => {
  const t = await startTestApi({ config: { grpc_api: { key: '', error_mode: 'transport' } } });
  try {
    const c = t.grpcClient();
    await assert.rejects(c.call('Publish', { channel: 'nope:x', data: utf8('1') }, {}), (e: unknown) => grpcCode(e) === grpc.status.NOT_FOUND);
    assert.ok((await c.call<api.InfoResponse>('Info', {}, {})).result);
  } finally {
    await t.close();
  }
});

test('a port already in use fails startGrpcApi with a clear error', async () => {
  const t = await startTestApi();
  try {
    const { startGrpcApi } = await import('../src/index.ts');
    const taken = { ...t.config, grpcApi: { ...t.config.grpcApi, port: t.grpcPort } };
    await assert.rejects(startGrpcApi(t.service, taken), /gRPC API could not listen on 127\.0\.0\.1:\d+/);
  } finally {
    await t.close();
  }
});

test('startGrpcApi warns when no key is configured and never logs the key', async () => {
  const { createLogger } = await import('@rotor/core');
  const { startGrpcApi } = await import('../src/index.ts');
  const t = await startTestApi({ grpc: false });
  try {
    for (const key of ['', GRPC_KEY]) {
      const lines: string[] = [];
      const log = createLogger({ level: 'debug', write: (l) => void lines.push(l) });
      const config = { ...t.config, grpcApi: { ...t.config.grpcApi, key } };
      const g = await startGrpcApi(t.service, config, { log });
      await g.close();
      const out = lines.join('');
      assert.equal(/gRPC API has no key/.test(out), key === '', out);
      assert.ok(!out.includes(GRPC_KEY));
    }
  } finally {
    await t.close();
  }
});
