// The emulated transports over raw HTTP: status codes, headers, CORS, stream framing, disconnects
// as a push followed by the end of the stream, aborted streams releasing their subscriptions, and
// a slow reader closed with 3008 while another stream keeps receiving.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect as tcpConnect } from 'node:net';
import type { Socket } from 'node:net';
import { Disconnects } from '@rotor/core';
import { Collector, waitFor } from '@rotor/testkit';
import { encodeCommands } from '@rotor/proto';
import { startTestGateway, token } from './harness.ts';
import { ProxyBackend } from './proxy-backend.ts';
import type { TestGateway } from './harness.ts';

const namespaces = [
  { name: 'chat', allow_subscribe_for_client: true, presence: true, join_leave: true, force_push_join_leave: true },
];
const base = {
  http_stream: { enabled: true, max_request_body_size: 1000 },
  sse: { enabled: true },
  emulation: { max_request_body_size: 2000 },
  client: { allowed_origins: ['https://app.example.com'] },
  channel: { namespaces },
};

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** One HTTP-streaming (or SSE) connection read through fetch, its replies collected. */
class Stream {
  readonly replies = new Collector<Json>('replies');
  ended = false;
  readonly done: Promise<void>;
  private readonly abort = new AbortController();

  private constructor(
    readonly response: Response,
    sse: boolean,
    abort: AbortController,
  ) {
    this.abort = abort;
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    this.done = (async () => {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          text += decoder.decode(value, { stream: true });
          if (sse) {
            let i: number;
            while ((i = text.indexOf('\n\n')) >= 0) {
              const event = text.slice(0, i).replace(/^\r\n/, '');
              text = text.slice(i + 2);
              assert.ok(event.startsWith('data: '), `an SSE event: ${JSON.stringify(event)}`);
              this.replies.push(JSON.parse(event.slice(6)) as Json);
            }
          } else {
            let i: number;
            while ((i = text.indexOf('\n')) >= 0) {
              this.replies.push(JSON.parse(text.slice(0, i)) as Json);
              text = text.slice(i + 1);
            }
          }
        }
      } catch (err) {
        if (!this.abort.signal.aborted) throw err;
      } finally {
        this.ended = true;
      }
    })();
  }

  static async open(g: TestGateway, kind: 'http_stream' | 'sse', connect: Json): Promise<Stream> {
    const abort = new AbortController();
    const body = JSON.stringify({ id: 1, connect });
    const res =
      kind === 'sse'
        ? await fetch(`${g.httpUrl}/connection/sse?cf_connect=${encodeURIComponent(body)}`, { signal: abort.signal })
        : await fetch(`${g.httpUrl}/connection/http_stream`, { method: 'POST', body, headers: { 'content-type': 'application/json' }, signal: abort.signal });
    assert.equal(res.status, 200);
    return new Stream(res, kind === 'sse', abort);
  }

  async connected(): Promise<{ client: string; session: string; node: string }> {
    const r = await this.replies.waitForMatch((x) => x['id'] === 1, 'connect reply');
    assert.ok(r['connect'] !== undefined, JSON.stringify(r));
    return r['connect'] as { client: string; session: string; node: string };
  }

  close(): void {
    this.abort.abort();
  }
}

async function emulation(g: TestGateway, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${g.httpUrl}/emulation`, {
    method: 'POST',
    body: typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...headers },
  });
}

async function command(g: TestGateway, c: { session: string; node: string }, cmd: Json): Promise<void> {
  const res = await emulation(g, { session: c.session, node: c.node, data: JSON.stringify(cmd) });
  assert.equal(res.status, 204);
}

test('http_stream: headers, connect result with session and node, commands through /emulation', async (t) => {
  const g = await startTestGateway(base);
  t.after(() => g.close());
  const s = await Stream.open(g, 'http_stream', { token: await token({ sub: 'u1' }) });
  t.after(() => s.close());
  const h = s.response.headers;
  assert.equal(h.get('content-type'), 'application/json');
  assert.equal(h.get('cache-control'), 'private, no-cache, no-store, must-revalidate, max-age=0');
  assert.equal(h.get('pragma'), 'no-cache');
  assert.equal(h.get('expire'), '0');
  assert.equal(h.get('x-accel-buffering'), 'no');
  const c = await s.connected();
  assert.match(c.session, /^[0-9a-f-]{36}$/);
  assert.equal(c.node, g.gateway.nodeId);
  // Two commands in one request, joined by '\n' as the SDK does.
  const res = await emulation(g, {
    session: c.session,
    node: c.node,
    data: [JSON.stringify({ id: 2, subscribe: { channel: 'chat:a' } }), JSON.stringify({ id: 3, subscribe: { channel: 'chat:b' } })].join('\n'),
  });
  assert.equal(res.status, 204);
  assert.deepEqual((await s.replies.waitForMatch((r) => r['id'] === 3, 'reply 3'))['subscribe'], {});
  await g.publish('chat:a', { x: 1 });
  const pub = await s.replies.waitForMatch((r) => r['push']?.['pub'] !== undefined, 'publication');
  assert.deepEqual(pub, { push: { channel: 'chat:a', pub: { data: { x: 1 } } } });
});

test('a disconnect is a disconnect push, then the end of the stream', async (t) => {
  const g = await startTestGateway(base);
  t.after(() => g.close());
  for (const kind of ['http_stream', 'sse'] as const) {
    const s = await Stream.open(g, kind, { token: await token({ sub: `u-${kind}` }) });
    await s.connected();
    g.controlBus.send({ kind: 'disconnect', user: `u-${kind}`, disconnect: Disconnects.forceNoReconnect });
    await s.done;
    assert.deepEqual(s.replies.items.at(-1), { push: { disconnect: { code: 3503, reason: 'force disconnect' } } });
  }
  assert.equal(g.gateway.metrics.connections[0], 0);
});

test('sse: GET cf_connect and POST, first write \\r\\n, one event per reply, pings', async (t) => {
  const g = await startTestGateway({ ...base, client: { ...base.client, ping_interval: '1s', pong_timeout: '500ms' } });
  t.after(() => g.close());
  const res = await fetch(`${g.httpUrl}/connection/sse?cf_connect=${encodeURIComponent(JSON.stringify({ id: 1, connect: { token: await token({ sub: 'u' }) } }))}`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  assert.equal(res.headers.get('cache-control'), 'private, no-cache, no-store, must-revalidate, max-age=0');
  const reader = res.body!.getReader();
  let text = '';
  while (!text.includes('\n\n')) text += new TextDecoder().decode((await reader.read()).value);
  assert.ok(text.startsWith('\r\ndata: {"id":1,"connect":{'), JSON.stringify(text));
  // The ping arrives as its own event; the client answers it through /emulation.
  const connect = JSON.parse(text.slice(8, text.indexOf('\n\n'))).connect;
  text = text.slice(text.indexOf('\n\n') + 2);
  while (!text.includes('\n\n')) text += new TextDecoder().decode((await reader.read()).value);
  assert.equal(text, 'data: {}\n\n');
  await command(g, connect, {});
  await reader.cancel();

  const posted = await fetch(`${g.httpUrl}/connection/sse`, { method: 'POST', body: JSON.stringify({ id: 1, connect: { token: await token({ sub: 'u' }) } }) });
  assert.equal(posted.status, 200);
  const r2 = posted.body!.getReader();
  let t2 = '';
  while (!t2.includes('\n\n')) t2 += new TextDecoder().decode((await r2.read()).value);
  assert.ok(t2.startsWith('\r\ndata: {"id":1,"connect":{'));
  await r2.cancel();
});

test('status codes and CORS of /connection/http_stream, /connection/sse and /emulation', async (t) => {
  const g = await startTestGateway(base);
  t.after(() => g.close());
  const origin = 'https://app.example.com';

  const pre = await fetch(`${g.httpUrl}/connection/http_stream`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
  });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get('access-control-max-age'), '300');
  assert.equal(pre.headers.get('access-control-allow-methods'), 'POST, OPTIONS');
  assert.equal(pre.headers.get('access-control-allow-origin'), origin);
  assert.equal(pre.headers.get('access-control-allow-credentials'), 'true');
  assert.equal(pre.headers.get('access-control-allow-headers'), 'content-type');
  const preEmu = await fetch(`${g.httpUrl}/emulation`, { method: 'OPTIONS', headers: { origin } });
  assert.equal(preEmu.status, 204);
  assert.equal(preEmu.headers.get('access-control-allow-methods'), 'POST, OPTIONS');
  assert.equal((await fetch(`${g.httpUrl}/connection/sse`, { method: 'OPTIONS', headers: { origin: 'https://evil.example' } })).status, 403);

  const body = JSON.stringify({ id: 1, connect: { token: await token({ sub: 'u' }) } });
  const cors = await fetch(`${g.httpUrl}/connection/http_stream`, { method: 'POST', body, headers: { origin } });
  assert.equal(cors.status, 200);
  assert.equal(cors.headers.get('access-control-allow-origin'), origin);
  await cors.body!.cancel();
  assert.equal((await fetch(`${g.httpUrl}/connection/http_stream`, { method: 'POST', body, headers: { origin: 'https://evil.example' } })).status, 403);
  assert.equal((await fetch(`${g.httpUrl}/emulation`, { method: 'POST', body: '{}', headers: { origin: 'https://evil.example' } })).status, 403);

  const get = await fetch(`${g.httpUrl}/connection/http_stream`);
  assert.equal(get.status, 405);
  assert.equal((await fetch(`${g.httpUrl}/emulation`)).status, 405);
  assert.equal((await fetch(`${g.httpUrl}/connection/sse`, { method: 'PUT' })).status, 405);
  assert.equal((await fetch(`${g.httpUrl}/connection/http_stream`, { method: 'POST', body: 'x'.repeat(1001) })).status, 413);
  assert.equal((await fetch(`${g.httpUrl}/connection/http_stream`, { method: 'POST' })).status, 400);
  assert.equal((await fetch(`${g.httpUrl}/connection/sse`)).status, 400, 'no cf_connect');

  const emu = emulation.bind(null, g);
  assert.equal((await emu('not json')).status, 400);
  assert.equal((await emu('[1]')).status, 400);
  assert.equal((await emu({ session: 's', node: 'n', data: 5 })).status, 400);
  assert.equal((await emu({ node: 'n', data: '' })).status, 400);
  assert.equal((await emu(new Uint8Array([0xff, 0xff, 0xff]), { 'content-type': 'application/octet-stream' })).status, 400);
  assert.equal((await emu({ session: 's', node: 'n', data: 'x'.repeat(2000) })).status, 413);
  assert.equal((await emu({ session: 's', node: 'no-such-node', data: '{}' })).status, 404);
  assert.equal((await emu({ session: 'gone', node: g.gateway.nodeId, data: '{}' })).status, 204, 'a session gone from a live node');

  // Undecodable commands for a live session: the session ends with 3501; the request itself is fine.
  const s = await Stream.open(g, 'http_stream', { token: await token({ sub: 'u' }) });
  const c = await s.connected();
  assert.equal((await emu({ session: c.session, node: c.node, data: '{{{' })).status, 204);
  await s.done;
  assert.equal(s.replies.items.at(-1)?.['push']?.['disconnect']?.['code'], 3501);
  assert.equal(g.gateway.metrics.connections[0], 0);
});

test('transports are off by default: no stream routes', async (t) => {
  const g = await startTestGateway({});
  t.after(() => g.close());
  for (const path of ['/connection/http_stream', '/emulation']) {
    const res = await fetch(`${g.httpUrl}${path}`, { method: 'POST', body: '{}' }).catch(() => null);
    assert.ok(res === null || res.status === 404, `${path}: ${res?.status}`);
  }
});

test('protobuf http_stream: varint-delimited replies, protobuf EmulationRequest', async (t) => {
  const g = await startTestGateway(base);
  t.after(() => g.close());
  const { client: proto, decodeReplies, encodeMessage } = await import('@rotor/proto');
  const res = await fetch(`${g.httpUrl}/connection/http_stream`, {
    method: 'POST',
    body: encodeCommands([{ id: 1, connect: { token: await token({ sub: 'p' }) } }], 'protobuf'),
    headers: { 'content-type': 'application/octet-stream' },
  });
  assert.equal(res.headers.get('content-type'), 'application/octet-stream');
  const reader = res.body!.getReader();
  let buf = new Uint8Array(0);
  const next = async (): Promise<Json> => {
    for (;;) {
      const r = decodeReplies(buf, 'protobuf');
      // A complete delimited message decodes; wait for more bytes otherwise.
      if (r.ok && r.replies.length > 0) {
        const first = r.replies[0]!;
        // Consume exactly one message: its varint length prefix plus its body.
        let len = 0;
        let shift = 0;
        let i = 0;
        for (;;) {
          const b = buf[i++]!;
          len |= (b & 0x7f) << shift;
          if (b < 0x80) break;
          shift += 7;
        }
        buf = buf.subarray(i + len);
        return first as Json;
      }
      const { value, done } = await reader.read();
      assert.ok(!done, 'the stream ended');
      const merged = new Uint8Array(buf.length + value.length);
      merged.set(buf);
      merged.set(value, buf.length);
      buf = merged;
    }
  };
  const connect = (await next())['connect'] as { session: string; node: string };
  assert.equal(connect.node, g.gateway.nodeId);
  const body = encodeMessage(proto.EmulationRequest, { session: connect.session, node: connect.node, data: encodeCommands([{ id: 2, subscribe: { channel: 'chat:p' } }], 'protobuf') }, 'protobuf');
  const emu = await fetch(`${g.httpUrl}/emulation`, { method: 'POST', body, headers: { 'content-type': 'application/octet-stream' } });
  assert.equal(emu.status, 204);
  assert.equal((await next())['id'], 2);
  await reader.cancel();
});

test('an aborted stream releases its subscriptions and presence like a WebSocket close', async (t) => {
  const g = await startTestGateway(base);
  t.after(() => g.close());
  const watcher = await Stream.open(g, 'sse', { token: await token({ sub: 'watcher' }) });
  t.after(() => watcher.close());
  await command(g, await watcher.connected(), { id: 2, subscribe: { channel: 'chat:room' } });
  await watcher.replies.waitForMatch((r) => r['id'] === 2, 'watcher subscribed');

  const s = await Stream.open(g, 'http_stream', { token: await token({ sub: 'leaver' }) });
  await command(g, await s.connected(), { id: 2, subscribe: { channel: 'chat:room' } });
  await s.replies.waitForMatch((r) => r['id'] === 2, 'subscribed');
  await watcher.replies.waitForMatch((r) => r['push']?.['join']?.['info']?.['user'] === 'leaver', 'join');
  assert.equal((await g.presence.get('chat:room')).size, 2);
  s.close();
  await watcher.replies.waitForMatch((r) => r['push']?.['leave']?.['info']?.['user'] === 'leaver', 'leave after the abort');
  await waitFor(async () => (await g.presence.get('chat:room')).size === 1, { what: 'presence without the aborted stream' });
  assert.equal(g.gateway.metrics.connections[0], 1);
  watcher.close();
  await waitFor(() => g.gateway.metrics.channels === 0 && [...g.broker.channels].length === 0, { what: 'the channel dropped' });
});

/** A raw TCP HTTP-streaming client that can stop reading. */
function rawStream(port: number, body: string): { socket: Socket; received: () => string } {
  const socket = tcpConnect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  socket.on('data', (d: Buffer) => chunks.push(d));
  socket.write(`POST /connection/http_stream HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  return { socket, received: () => Buffer.concat(chunks).toString('latin1') };
}

test('a stalled stream reader is disconnected with 3008 while another stream keeps receiving', async (t) => {
  const g = await startTestGateway({ ...base, client: { ...base.client, queue_max_size: 65536 } }, { slowSweepMs: 1_000_000 });
  t.after(() => g.close());
  const fast = await Stream.open(g, 'http_stream', { token: await token({ sub: 'fast' }) });
  t.after(() => fast.close());
  await command(g, await fast.connected(), { id: 2, subscribe: { channel: 'chat:feed' } });
  await fast.replies.waitForMatch((r) => r['id'] === 2, 'fast subscribed');

  const raw = rawStream(g.gateway.port, JSON.stringify({ id: 1, connect: { token: await token({ sub: 'slow' }) } }));
  t.after(() => raw.socket.destroy());
  await waitFor(() => raw.received().includes('"session"'), { what: 'the slow stream connected' });
  const text = raw.received();
  const session = /"session":"([^"]+)"/.exec(text)![1]!;
  await command(g, { session, node: g.gateway.nodeId }, { id: 2, subscribe: { channel: 'chat:feed' } });
  await waitFor(() => raw.received().includes('"id":2'), { what: 'the slow stream subscribed' });
  raw.socket.pause();

  const payload = { pad: 'x'.repeat(32 * 1024) };
  let sent = 0;
  // Bounded: 40 MB at most; the kernel buffers a few MB before uWS has to hold anything.
  while (g.gateway.metrics.slowDisconnects === 0 && sent < 1200) {
    await g.publish('chat:feed', { ...payload, n: ++sent });
    if (sent % 50 === 0) await new Promise((r) => setImmediate(r));
  }
  assert.equal(g.gateway.metrics.slowDisconnects, 1, 'the stalled stream was closed as slow');
  await g.publish('chat:feed', { last: true });
  await fast.replies.waitForMatch((r) => r['push']?.['pub']?.['data']?.['last'] === true, 'the fast stream keeps receiving');
  assert.equal(fast.replies.items.filter((r) => r['push']?.['pub'] !== undefined).length, sent + 1, 'every publication, once');

  raw.socket.resume();
  await waitFor(() => raw.received().includes('"disconnect":{"code":3008'), { what: 'the 3008 push at the end of the slow stream', timeoutMs: 15_000 });
});

test('connect proxy: emulated sessions report their transport and forward the stream request headers', async (t) => {
  const backend = await ProxyBackend.start();
  t.after(() => backend.close());
  backend.on('/connect', () => ({ json: { result: { user: 'proxied' } } }));
  const g = await startTestGateway({
    ...base,
    client: { ...base.client, proxy: { connect: { enabled: true, endpoint: backend.endpoint('/connect'), http_headers: ['x-trace'] } } },
  });
  t.after(() => g.close());
  for (const kind of ['http_stream', 'sse'] as const) {
    const body = JSON.stringify({ id: 1, connect: {} });
    const res =
      kind === 'sse'
        ? await fetch(`${g.httpUrl}/connection/sse?cf_connect=${encodeURIComponent(body)}`, { headers: { 'x-trace': `t-${kind}` } })
        : await fetch(`${g.httpUrl}/connection/http_stream`, { method: 'POST', body, headers: { 'x-trace': `t-${kind}` } });
    assert.equal(res.status, 200);
    const req = await backend.requests.waitForMatch((r) => r.headers['x-trace'] === `t-${kind}`, `the ${kind} connect request`);
    assert.equal(req.body['transport'], kind);
    await res.body!.cancel();
  }
});
