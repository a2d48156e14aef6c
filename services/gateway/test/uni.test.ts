// The unidirectional transports (PROTOCOL.md §6.3) with raw clients over real sockets: uni_websocket
// (the `ws` package), uni_http_stream (fetch POST) and uni_sse (fetch GET). Bare pushes: the
// connect push first, publications in order, `{}` pings with no pong expected, disconnects as a
// push (and a close frame), connect errors mapped to disconnects, server-side recovery through
// ConnectRequest.subs, and the routes off by default.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Disconnects } from '@rotor/core';
import { Collector, waitFor } from '@rotor/testkit';
import WebSocket from 'ws';
import { UniTopics, UniWsSocket, joinPushes, sseEvents, unwrapFrame, uniConnectDisconnect } from '../src/emulation/uni.ts';
import type { UniSession, UniWsData } from '../src/emulation/uni.ts';
import type { WebSocket as UwsSocket } from '../src/uws.ts';
import { connectCommand } from '../src/emulation/uni-routes.ts';
import { startTestGateway, token, RawClient } from './harness.ts';
import { ProxyBackend } from './proxy-backend.ts';
import type { TestGateway } from './harness.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type Kind = 'uni_websocket' | 'uni_http_stream' | 'uni_sse';
const KINDS: Kind[] = ['uni_websocket', 'uni_http_stream', 'uni_sse'];

const namespaces = [{ name: 'news', history_size: 10, history_ttl: '300s', force_recovery: true, allow_subscribe_for_client: true }];
const base = {
  uni_websocket: { enabled: true },
  uni_http_stream: { enabled: true, max_request_body_size: 2000 },
  uni_sse: { enabled: true },
  client: { allowed_origins: ['https://app.example.com'] },
  channel: { namespaces },
};

const dec = new TextDecoder();
const enc = new TextEncoder();

/** One unidirectional connection, its pushes collected (and the raw text for framing checks). */
class Uni {
  readonly pushes = new Collector<Json>('pushes');
  /** WebSocket close code (0 while open; HTTP streams: 0). */
  closeCode = 0;
  ended = false;
  raw = '';
  readonly done: Promise<void>;
  private stop: () => void = () => {};

  private constructor(readonly kind: Kind, run: (u: Uni) => Promise<void>) {
    this.done = run(this).finally(() => {
      this.ended = true;
    });
  }

  static open(
    g: TestGateway,
    kind: Kind,
    request: Json,
    how: 'query' | 'body' = kind === 'uni_http_stream' ? 'body' : 'query',
    headers: Record<string, string> = {},
  ): Promise<Uni> {
    const text = JSON.stringify(request);
    return new Promise((resolve, reject) => {
      if (kind === 'uni_websocket') {
        const base = `ws://127.0.0.1:${g.gateway.port}/connection/uni_websocket`;
        const ws = new WebSocket(how === 'query' ? `${base}?cf_connect=${encodeURIComponent(text)}` : base, { headers });
        const u = new Uni(
          kind,
          (u) =>
            new Promise<void>((done) => {
              ws.on('message', (data: Buffer) => {
                const s = data.toString('utf8');
                u.raw += `${s}\u0000`;
                for (const line of s.split('\n')) u.pushes.push(JSON.parse(line) as Json);
              });
              ws.on('close', (code) => {
                u.closeCode = code;
                done();
              });
              ws.on('error', reject);
            }),
        );
        u.stop = () => ws.terminate();
        ws.on('open', () => {
          if (how === 'body') ws.send(text);
          resolve(u);
        });
        return;
      }
      const abort = new AbortController();
      const url = `http://127.0.0.1:${g.gateway.port}/connection/${kind}`;
      const req =
        how === 'query'
          ? fetch(`${url}?cf_connect=${encodeURIComponent(text)}`, { headers, signal: abort.signal })
          : fetch(url, { method: 'POST', body: text, headers: { 'content-type': 'application/json', ...headers }, signal: abort.signal });
      req.then((res) => {
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('content-type'), kind === 'uni_sse' ? 'text/event-stream; charset=utf-8' : 'application/json');
        const u = new Uni(kind, async (u) => {
          const reader = res.body!.getReader();
          let text = '';
          try {
            for (;;) {
              const { done, value } = await reader.read();
              if (done) break;
              const chunk = dec.decode(value, { stream: true });
              u.raw += chunk;
              text += chunk;
              const sep = kind === 'uni_sse' ? '\n\n' : '\n';
              if (kind === 'uni_sse' && u.raw.startsWith('\r\n') && text.startsWith('\r\n')) text = text.slice(2);
              let i: number;
              while ((i = text.indexOf(sep)) >= 0) {
                let m = text.slice(0, i);
                text = text.slice(i + sep.length);
                if (kind === 'uni_sse') {
                  assert.ok(m.startsWith('data: '), `an SSE event: ${JSON.stringify(m)}`);
                  m = m.slice(6);
                }
                u.pushes.push(JSON.parse(m) as Json);
              }
            }
          } catch (err) {
            if (!abort.signal.aborted) throw err;
          }
        });
        u.stop = () => abort.abort();
        resolve(u);
      }, reject);
    });
  }

  async connected(): Promise<Json> {
    const first = await this.pushes.waitFor(1);
    assert.ok(first[0]!['connect'] !== undefined, `${this.kind}: first push is connect: ${JSON.stringify(first[0])}`);
    return first[0]!['connect'] as Json;
  }

  /** The disconnect the connection ended with (push; on uni_websocket also the close code). */
  async disconnected(): Promise<{ code: number; reason: string }> {
    await this.done;
    const last = this.pushes.items.at(-1);
    assert.ok(last?.['disconnect'] !== undefined, `${this.kind}: last push is a disconnect: ${JSON.stringify(this.pushes.items)}`);
    const d = last['disconnect'] as { code: number; reason: string };
    if (this.kind === 'uni_websocket') assert.equal(this.closeCode, d.code);
    return d;
  }

  close(): void {
    this.stop();
  }
}

async function openAll(t: { after(fn: () => unknown): void }, g: TestGateway, request: (kind: Kind) => Promise<Json> | Json): Promise<Uni[]> {
  const all = await Promise.all(KINDS.map(async (k) => Uni.open(g, k, await request(k))));
  for (const u of all) t.after(() => u.close());
  return all;
}

test('unwrapFrame: push lines lose their Reply wrapper, pings stay, replies are dropped', () => {
  const frame = enc.encode(['{"push":{"channel":"a","pub":{"data":{"x":"\\n"}}}}', '{}', '{"id":1,"error":{"code":100}}', '{"push":{"message":{}}}'].join('\n'));
  const msgs = unwrapFrame(frame).map((m) => dec.decode(m));
  assert.deepEqual(msgs, ['{"channel":"a","pub":{"data":{"x":"\\n"}}}', '{}', '{"message":{}}']);
  assert.deepEqual(unwrapFrame(enc.encode('{"id":2,"subscribe":{}}')), []);
  const parts = [enc.encode('{"a":1}'), enc.encode('{}')];
  assert.equal(dec.decode(joinPushes(parts, true)), '{"a":1}\n{}\n');
  assert.equal(dec.decode(joinPushes(parts, false)), '{"a":1}\n{}');
  assert.equal(dec.decode(sseEvents(parts)), 'data: {"a":1}\n\ndata: {}\n\n');
  // A CR in a raw payload's whitespace would end the SSE line (and cut the event): it is dropped.
  assert.equal(dec.decode(sseEvents([enc.encode('{"pub":{"data":{"a":\r1}}}'), enc.encode('{}')])), 'data: {"pub":{"data":{"a":1}}}\n\ndata: {}\n\n');
  assert.deepEqual(
    [109, 110, 111, 103, 100, 112, 107].map((c) => uniConnectDisconnect(c).code),
    [3005, 3005, 3013, 3507, 3004, 3004, 3004],
  );
  assert.equal(dec.decode(connectCommand(enc.encode('{"token":"t"}'))!), '{"id":1,"connect":{"token":"t"}}');
  for (const bad of ['', '[]', 'null', '{"a":1},{"b":2}', '{', '"x"', '\u00ff']) assert.equal(connectCommand(enc.encode(bad)), null, bad);
  assert.equal(connectCommand(new Uint8Array([0x7b, 0xff, 0x7d])), null, 'invalid UTF-8');
});

test('uni_websocket framing: one message per push, or one joined message with join_push_messages', () => {
  const frame = enc.encode('{"push":{"channel":"a","pub":{"data":1}}}\n{"push":{"channel":"a","pub":{"data":2}}}');
  for (const join of [false, true]) {
    const sent: string[] = [];
    const ws = { send: (m: Uint8Array) => (sent.push(dec.decode(m)), 1), cork: (cb: () => void) => cb(), getBufferedAmount: () => 0 };
    const sock = new UniWsSocket(ws as unknown as UwsSocket<UniWsData>, {} as UniSession, new UniTopics(1 << 20), join);
    assert.equal(sock.send(frame, false, false), 1);
    assert.deepEqual(sent, join ? ['{"channel":"a","pub":{"data":1}}\n{"channel":"a","pub":{"data":2}}'] : ['{"channel":"a","pub":{"data":1}}', '{"channel":"a","pub":{"data":2}}']);
  }
});

test('connect push, ordered publications, {} pings without pongs, server API disconnect: all three transports', async (t) => {
  const g = await startTestGateway({ ...base, client: { ...base.client, ping_interval: '1s', pong_timeout: '300ms' } });
  t.after(() => g.close());
  const conns = await openAll(t, g, async (k) => ({ token: await token({ sub: `u-${k}`, channels: ['news:a'] }) }));
  for (const u of conns) {
    const c = await u.connected();
    assert.match(c['client'], /^[0-9a-f-]{36}$/);
    assert.match(c['session'], /^[0-9a-f-]{36}$/);
    assert.equal(typeof c['version'], 'string');
    assert.equal(c['ping'], 1);
    assert.equal(c['pong'], undefined, 'no pong on unidirectional transports');
    assert.equal(c['node'], undefined);
    assert.equal(c['expires'], true);
    assert.ok(c['ttl'] > 3000);
    assert.deepEqual(Object.keys(c['subs']), ['news:a']);
    assert.equal(c['subs']['news:a']['recoverable'], true);
  }
  assert.equal(g.gateway.metrics.connections[0], 3);
  for (let i = 1; i <= 3; i++) await g.publish('news:a', { n: i });
  for (const u of conns) {
    const pubsOf = (): Json[] => u.pushes.items.filter((x) => x['pub'] !== undefined);
    await waitFor(() => pubsOf().length >= 3, { what: `${u.kind}: 3 publications` });
    const pubs = pubsOf();
    assert.deepEqual(
      pubs.map((p) => [p['channel'], p['pub']['data']['n'], p['pub']['offset']]),
      [
        ['news:a', 1, 1],
        ['news:a', 2, 2],
        ['news:a', 3, 3],
      ],
      u.kind,
    );
  }
  // Two pings each: the pong timeout after the first passed without a 3012.
  for (const u of conns) {
    await waitFor(() => u.pushes.items.filter((x) => Object.keys(x).length === 0).length >= 2, { what: `${u.kind}: two pings`, timeoutMs: 5000 });
    assert.equal(u.ended, false);
  }
  assert.ok(conns[1]!.raw.includes('\n{}\n'), 'uni_http_stream: a ping is its own line');
  assert.ok(conns[2]!.raw.startsWith('\r\ndata: {"connect":{'), 'uni_sse: \\r\\n first, then one event per push');
  assert.ok(conns[2]!.raw.includes('\n\ndata: {}\n\n'), 'uni_sse: a ping is its own event');
  assert.ok(conns[0]!.raw.includes('\u0000{}\u0000'), 'uni_websocket: a ping is its own message');

  for (const u of conns) g.controlBus.send({ kind: 'disconnect', user: `u-${u.kind}`, disconnect: Disconnects.forceNoReconnect });
  for (const u of conns) assert.deepEqual(await u.disconnected(), { code: 3503, reason: 'force disconnect' });
  await waitFor(() => g.gateway.metrics.connections[0] === 0, { what: 'sessions released' });
});

test('connect errors end with the mapped disconnect: invalid token 3500, expired token 3005, malformed request', async (t) => {
  const g = await startTestGateway(base);
  t.after(() => g.close());
  const bad = await openAll(t, g, () => ({ token: 'not-a-jwt' }));
  for (const u of bad) assert.deepEqual(await u.disconnected(), { code: 3500, reason: 'invalid token' }, u.kind);
  const expired = await openAll(t, g, async (k) => ({ token: await token({ sub: k, exp: Math.floor(Date.now() / 1000) - 10 }) }));
  for (const u of expired) {
    assert.deepEqual(await u.disconnected(), { code: 3005, reason: 'connection expired' }, u.kind);
    assert.equal(u.pushes.length, 1, `${u.kind}: nothing but the disconnect`);
  }
  // No credentials at all (anonymous connect not allowed): 3501.
  const anon = await openAll(t, g, () => ({}));
  for (const u of anon) assert.equal((await u.disconnected()).code, 3501, u.kind);

  // Malformed connect requests: 400 on HTTP, 3501 on the WebSocket; too big: 413 / 1009.
  const http = `http://127.0.0.1:${g.gateway.port}`;
  assert.equal((await fetch(`${http}/connection/uni_http_stream`, { method: 'POST', body: '{{' })).status, 400);
  assert.equal((await fetch(`${http}/connection/uni_http_stream`, { method: 'POST', body: '[1]' })).status, 400);
  assert.equal((await fetch(`${http}/connection/uni_http_stream`, { method: 'POST', body: 'x'.repeat(2001) })).status, 413);
  assert.equal((await fetch(`${http}/connection/uni_sse?cf_connect=${encodeURIComponent('nope')}`)).status, 400);
  assert.equal((await fetch(`${http}/connection/uni_http_stream`)).status, 405);
  assert.equal((await fetch(`${http}/connection/uni_sse`, { method: 'PUT' })).status, 405);
  assert.equal((await fetch(`${http}/connection/uni_http_stream`, { method: 'POST', body: '{}', headers: { origin: 'https://evil.example' } })).status, 403);
  const pre = await fetch(`${http}/connection/uni_http_stream`, { method: 'OPTIONS', headers: { origin: 'https://app.example.com' } });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get('access-control-allow-methods'), 'POST, OPTIONS');
  const ws = new WebSocket(`ws://127.0.0.1:${g.gateway.port}/connection/uni_websocket`);
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  ws.on('open', () => ws.send('{{'));
  assert.equal(await closed, 3501);
  const big = new WebSocket(`ws://127.0.0.1:${g.gateway.port}/connection/uni_websocket`);
  const bigClosed = new Promise<number>((resolve) => big.on('close', (code) => resolve(code)));
  big.on('open', () => big.send(JSON.stringify({ token: 'x'.repeat(70_000) })));
  assert.equal(await bigClosed, 1009);
  await waitFor(() => g.gateway.metrics.connections[0] === 0, { what: 'sessions released' });
});

test('recovery of server-side subscriptions through ConnectRequest.subs (recover, offset, epoch)', async (t) => {
  const g = await startTestGateway(base);
  t.after(() => g.close());
  let epoch = '';
  for (let i = 1; i <= 5; i++) epoch = (await g.publish('news:r', { n: i })).epoch;
  const tk = await token({ sub: 'r', channels: ['news:r'] });
  const conns = await openAll(t, g, () => ({ token: tk, subs: { 'news:r': { recover: true, offset: 2, epoch } } }));
  for (const u of conns) {
    const sub = (await u.connected())['subs']['news:r'];
    assert.equal(sub['recovered'], true, u.kind);
    assert.equal(sub['epoch'], epoch);
    assert.deepEqual(
      (sub['publications'] as Json[]).map((p) => [p['data']['n'], p['offset']]),
      [
        [3, 3],
        [4, 4],
        [5, 5],
      ],
      u.kind,
    );
  }
  // A wrong epoch is not recovered (the subscription still comes, positioned at the top).
  const wrong = await Uni.open(g, 'uni_http_stream', { token: tk, subs: { 'news:r': { recover: true, offset: 2, epoch: 'other' } } });
  t.after(() => wrong.close());
  const sub = (await wrong.connected())['subs']['news:r'];
  assert.equal(sub['recovered'] ?? false, false);
  assert.equal(sub['offset'], 5);
});

test('server API subscribe, unsubscribe and refresh arrive as pushes; first-message and POST connect requests', async (t) => {
  const g = await startTestGateway({ ...base, uni_websocket: { enabled: true, join_push_messages: true } });
  t.after(() => g.close());
  const tk = await token({ sub: 'api' });
  const ws = await Uni.open(g, 'uni_websocket', { token: tk }, 'body');
  const sse = await Uni.open(g, 'uni_sse', { token: tk }, 'body');
  t.after(() => ws.close());
  t.after(() => sse.close());
  await ws.connected();
  await sse.connected();
  g.controlBus.send({ kind: 'subscribe', user: 'api', channel: 'news:s' });
  for (const u of [ws, sse]) {
    const s = await u.pushes.waitForMatch((p) => p['subscribe'] !== undefined, `${u.kind}: subscribe push`);
    assert.equal(s['channel'], 'news:s');
    assert.equal(s['subscribe']['recoverable'], true);
  }
  await g.publish('news:s', { v: 1 });
  for (const u of [ws, sse]) assert.deepEqual(await u.pushes.waitForMatch((p) => p['pub'] !== undefined, 'pub'), { channel: 'news:s', pub: { data: { v: 1 }, offset: 1 } });
  g.controlBus.send({ kind: 'unsubscribe', user: 'api', channel: 'news:s' });
  for (const u of [ws, sse]) {
    const s = await u.pushes.waitForMatch((p) => p['unsubscribe'] !== undefined, `${u.kind}: unsubscribe push`);
    assert.deepEqual(s, { channel: 'news:s', unsubscribe: { code: 2000, reason: 'server unsubscribe' } });
  }
  // Unsubscribed: a later publication does not arrive, while a WebSocket client of the channel gets it.
  const raw = await RawClient.open(g.url);
  t.after(() => raw.close());
  await raw.connect(tk);
  raw.send([{ id: 2, subscribe: { channel: 'news:s' } }]);
  await raw.reply(2);
  await g.publish('news:s', { v: 2 });
  await raw.replies.waitForMatch((r) => r.push?.pub !== undefined, 'websocket pub');
  assert.equal(ws.pushes.items.filter((p) => p['pub'] !== undefined).length, 1);
  assert.equal(sse.pushes.items.filter((p) => p['pub'] !== undefined).length, 1);
  // Server API refresh: a refresh push with the new expiry.
  g.controlBus.send({ kind: 'refresh', user: 'api', expired: false, expireAt: Math.floor(Date.now() / 1000) + 7200 });
  for (const u of [ws, sse]) {
    const r = (await u.pushes.waitForMatch((p) => p['refresh'] !== undefined, `${u.kind}: refresh push`))['refresh'];
    assert.equal(r['expires'], true);
    assert.ok(r['ttl'] > 7000 && r['ttl'] <= 7200, String(r['ttl']));
  }
  assert.equal(ws.ended, false);
});

test('a stalled uni_http_stream reader is closed with 3008 while another keeps receiving', async (t) => {
  const g = await startTestGateway({ ...base, client: { ...base.client, queue_max_size: 65_536 } });
  t.after(() => g.close());
  const tk = await token({ sub: 'slow', channels: ['news:big'] });
  // The stalled reader: a raw fetch whose body is never read.
  const abort = new AbortController();
  t.after(() => abort.abort());
  const stalled = await fetch(`http://127.0.0.1:${g.gateway.port}/connection/uni_http_stream`, { method: 'POST', body: JSON.stringify({ token: tk }), signal: abort.signal });
  assert.equal(stalled.status, 200);
  const live = await Uni.open(g, 'uni_sse', { token: tk });
  t.after(() => live.close());
  await live.connected();
  await waitFor(() => g.gateway.metrics.connections[0] === 2, { what: 'both connected' });
  const payload = { s: 'x'.repeat(16_000) };
  let sent = 0;
  // Bounded: the stalled stream crosses 64 KiB of backlog long before 20 MB.
  while (g.gateway.metrics.slowDisconnects === 0 && sent < 1200) {
    await g.publish('news:big', payload);
    sent++;
    if (sent % 20 === 0) await waitFor(() => live.pushes.items.filter((p) => p['pub'] !== undefined).length >= sent, { what: 'live reader keeps up' });
  }
  assert.equal(g.gateway.metrics.slowDisconnects, 1);
  await waitFor(() => g.gateway.metrics.connections[0] === 1, { what: 'the slow one released' });
  await waitFor(() => live.pushes.items.filter((p) => p['pub'] !== undefined).length >= sent, { what: 'all publications on the live one' });
  assert.equal(live.ended, false);
});

test('an aborted uni stream and a closed uni_websocket release their sessions and subscriptions', async (t) => {
  const g = await startTestGateway(base);
  t.after(() => g.close());
  const conns = await openAll(t, g, async (k) => ({ token: await token({ sub: k, channels: ['news:gone'] }) }));
  for (const u of conns) await u.connected();
  assert.equal(g.gateway.metrics.connections[0], 3);
  for (const u of conns) u.close();
  await waitFor(() => g.gateway.metrics.connections[0] === 0, { what: 'sessions released' });
  // The channel is left everywhere: a publication now reaches nobody and breaks nothing.
  await g.publish('news:gone', { late: true });
});

test('connect proxy: uni sessions report their transport, get forwarded headers, and map proxy errors to disconnects', async (t) => {
  const backend = await ProxyBackend.start();
  t.after(() => backend.close());
  backend.on('/connect', (req) => {
    const trace = String(req.headers['x-trace'] ?? '');
    if (trace.startsWith('deny-')) return { json: { error: { code: 103, message: 'permission denied' } } };
    if (trace.startsWith('app-')) return { json: { error: { code: 1000, message: 'custom' } } };
    return { json: { result: { user: 'proxied', data: { hello: trace } } } };
  });
  const g = await startTestGateway({
    ...base,
    client: { ...base.client, proxy: { connect: { enabled: true, endpoint: backend.endpoint('/connect'), http_headers: ['x-trace'] } } },
  });
  t.after(() => g.close());
  for (const kind of KINDS) {
    const u = await Uni.open(g, kind, {}, undefined, { 'x-trace': `ok-${kind}` });
    t.after(() => u.close());
    const c = await u.connected();
    assert.deepEqual(c['data'], { hello: `ok-${kind}` });
    const req = await backend.requests.waitForMatch((r) => r.headers['x-trace'] === `ok-${kind}`, `the ${kind} connect request`);
    assert.equal(req.body['transport'], kind);
    assert.equal(req.body['protocol'], 'json');
    const denied = await Uni.open(g, kind, {}, undefined, { 'x-trace': `deny-${kind}` });
    assert.deepEqual(await denied.disconnected(), { code: 3507, reason: 'permission denied' }, kind);
    const custom = await Uni.open(g, kind, {}, undefined, { 'x-trace': `app-${kind}` });
    assert.equal((await custom.disconnected()).code, 3004, kind);
  }
});

test('unidirectional transports are off by default: 404', async (t) => {
  const g = await startTestGateway({});
  t.after(() => g.close());
  for (const path of ['/connection/uni_websocket', '/connection/uni_http_stream', '/connection/uni_sse']) {
    for (const method of ['GET', 'POST']) {
      const res = await fetch(`http://127.0.0.1:${g.gateway.port}${path}`, { method, body: method === 'POST' ? '{}' : undefined }).catch(() => null);
      assert.ok(res === null || res.status === 404, `${method} ${path}: ${res?.status}`);
    }
  }
  const ws = new WebSocket(`ws://127.0.0.1:${g.gateway.port}/connection/uni_websocket`);
  const refused = await new Promise<boolean>((resolve) => {
    ws.on('open', () => resolve(false));
    ws.on('error', () => resolve(true));
  });
  ws.terminate();
  assert.ok(refused, 'no uni_websocket upgrade');
});

test('a pretty-printed or newline-terminated connect request is accepted (JSON whitespace), a BOM is refused as malformed', async (t) => {
  const g = await startTestGateway(base);
  t.after(() => g.close());
  const text = `${JSON.stringify({ token: await token({ sub: 'pretty' }) }, null, 2)}\r\n`;
  const http = `http://127.0.0.1:${g.gateway.port}`;
  const abort = new AbortController();
  t.after(() => abort.abort());
  const res = await fetch(`${http}/connection/uni_http_stream`, { method: 'POST', body: text, signal: abort.signal });
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  let got = '';
  while (!got.includes('\n')) {
    const { done, value } = await reader.read();
    if (done) break;
    got += dec.decode(value, { stream: true });
  }
  const first = JSON.parse(got.slice(0, got.indexOf('\n'))) as Json;
  assert.ok(first['connect'] !== undefined, `connect push: ${got}`);
  const ws = new WebSocket(`ws://127.0.0.1:${g.gateway.port}/connection/uni_websocket`);
  t.after(() => ws.terminate());
  const firstMessage = new Promise<string>((resolve, reject) => {
    ws.on('message', (d: Buffer) => resolve(d.toString('utf8')));
    ws.on('close', (code) => reject(new Error(`closed ${code}`)));
  });
  ws.on('open', () => ws.send(text));
  assert.ok((JSON.parse(await firstMessage) as Json)['connect'] !== undefined);
  assert.equal((await fetch(`${http}/connection/uni_http_stream`, { method: 'POST', body: `\uFEFF${text}` })).status, 400);
  assert.equal(connectCommand(enc.encode('{"name":\n"x"}'))?.includes(0x0a), false);
});

test('uni_websocket: WebSocket-level pings keep an answering client and close a silent peer (no pong is asked of uni clients otherwise)', async (t) => {
  const g = await startTestGateway({ ...base, client: { ...base.client, ping_interval: '2s', pong_timeout: '1s' } });
  t.after(() => g.close());
  const request = encodeURIComponent(JSON.stringify({ token: await token({ sub: 'pinged' }) }));
  const url = `ws://127.0.0.1:${g.gateway.port}/connection/uni_websocket?cf_connect=${request}`;
  // A live client: its library answers ping frames; a second ping proves the first pong kept it open.
  const live = new WebSocket(url);
  t.after(() => live.terminate());
  let closed = 0;
  live.on('close', (code) => (closed = code));
  let pings = 0;
  live.on('ping', () => pings++);
  await waitFor(() => pings >= 2 || closed !== 0, { what: 'two WebSocket pings', timeoutMs: 40_000 });
  assert.equal(closed, 0);
  // A peer that stopped reading never answers: the server closes it and releases its session.
  const dead = new WebSocket(url);
  t.after(() => dead.terminate());
  await new Promise<void>((resolve, reject) => {
    dead.once('message', () => resolve());
    dead.once('error', reject);
  });
  (dead as unknown as { _socket: { pause(): void } })._socket.pause();
  await waitFor(() => g.gateway.metrics.connections[0] === 1, { what: 'the silent peer released', timeoutMs: 40_000 });
  assert.equal(closed, 0, 'the live client stays');
});
