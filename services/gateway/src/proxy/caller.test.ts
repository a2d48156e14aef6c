// HttpProxy against a real node:http server: response size limit, status and shape checks; the
// response parser and the payload readers on malformed input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ProxyConfig } from '@rotor/core';
import { HttpProxy, ProxyFailure, parseReply } from './caller.ts';
import type { ProxyCallResult } from './caller.ts';
import { payloadField, rawAt, secondsField } from './wire.ts';

const cfg = (endpoint: string): ProxyConfig => ({
  endpoint,
  timeoutMs: 2000,
  httpHeaders: [],
  grpcMetadata: [],
  binaryEncoding: false,
  includeConnectionMeta: false,
  http: { staticHeaders: {}, statusToCodeTransforms: [] },
});

test('a response over the size limit is refused without reading it all; a redirect is not followed', async (t) => {
  const big = 'x'.repeat(64 * 1024);
  const server = createServer((req, res) => {
    if (req.url === '/redirect') {
      res.writeHead(302, { location: '/big' }).end();
      return;
    }
    // Chunked (no content-length): the limit is enforced while reading.
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"result":{"data":"');
    for (let i = 0; i < 16; i++) res.write(big);
    res.end('"}}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const seen: ProxyCallResult[] = [];
  const observer = { proxyCall: (_type: string, result: ProxyCallResult) => void seen.push(result) };
  const small = new HttpProxy('default', cfg(`${base}/big`), observer, 100 * 1024);
  await assert.rejects(small.call('rpc', '{}', null), (err) => err instanceof ProxyFailure && err.result === 'bad_response');
  const roomy = new HttpProxy('default', cfg(`${base}/big`), observer, 2 * 1024 * 1024);
  const ok = await roomy.call('rpc', '{}', null);
  assert.equal(ok.kind, 'result');
  const redirected = new HttpProxy('default', cfg(`${base}/redirect`), observer);
  await assert.rejects(redirected.call('rpc', '{}', null), (err) => err instanceof ProxyFailure);
  assert.deepEqual(seen, ['bad_response', 'ok', 'bad_status']);
});

test('parseReply: disconnect wins over error over result; malformed shapes are bad responses', () => {
  assert.deepEqual(parseReply('{"disconnect":{"code":4000,"reason":"r"},"error":{"code":1}}', 'p'), {
    kind: 'disconnect',
    disconnect: { code: 4000, reason: 'r' },
  });
  assert.deepEqual(parseReply('{"error":{"code":4001}}', 'p'), { kind: 'error', error: { code: 4001, message: '', temporary: false } });
  assert.deepEqual(parseReply('{}', 'p'), { kind: 'result', result: null, source: '{}' });
  assert.deepEqual(parseReply('{"result":{"user":"u"}}', 'p'), { kind: 'result', result: { user: 'u' }, source: '{"result":{"user":"u"}}' });
  for (const bad of ['', 'null', '[]', '{"result":[]}', '{"error":{"code":-1}}', '{"error":"x"}', '{"disconnect":{"code":1.5}}']) {
    assert.throws(() => parseReply(bad, 'p'), (err) => err instanceof ProxyFailure && err.result === 'bad_response', bad);
  }
});

test('payload and timestamp readers reject what Centrifugo would not decode', () => {
  assert.deepEqual(payloadField({ b64data: 'AQI=' }, 'data', 'b64data'), new Uint8Array([1, 2]));
  assert.deepEqual(payloadField({ data: { a: 1 }, b64data: '' }, 'data', 'b64data'), new TextEncoder().encode('{"a":1}'));
  assert.equal(payloadField({}, 'data', 'b64data'), undefined);
  assert.throws(() => payloadField({ b64data: 'not base64!' }, 'data', 'b64data'), ProxyFailure);
  assert.throws(() => payloadField({ b64data: 7 }, 'data', 'b64data'), ProxyFailure);
  assert.equal(secondsField({ expire_at: 1700000000 }, 'expire_at'), 1700000000);
  assert.equal(secondsField({ expire_at: '1700000000' }, 'expire_at'), 1700000000);
  assert.equal(secondsField({}, 'expire_at'), 0);
  for (const bad of [-1, 1.5, 'soon', true]) assert.throws(() => secondsField({ expire_at: bad }, 'expire_at'), ProxyFailure);
});

test('rawAt finds the exact source text of a value: 64-bit integers, escapes, nesting, repeated keys', () => {
  const text = ` { "result" : { "s": "a}\\"{[,", "data" : {"id": 12345678901234567890, "b": [1, {"x": "]"}], "2": 0} ,
    "subs": {"ch:\\u0041": {"info": [ true ,null ], "data": -1.5e+3}}, "n": 1, "n": 22 }, "tail": [] }`;
  assert.equal(rawAt(text, ['result', 'data']), '{"id": 12345678901234567890, "b": [1, {"x": "]"}], "2": 0}');
  assert.equal(rawAt(text, ['result', 'subs', 'ch:A', 'info']), '[ true ,null ]');
  assert.equal(rawAt(text, ['result', 'subs', 'ch:A', 'data']), '-1.5e+3');
  assert.equal(rawAt(text, ['result', 's']), '"a}\\"{[,"');
  assert.equal(rawAt(text, ['result', 'n']), '22');
  assert.equal(rawAt(text, ['tail']), '[]');
  assert.equal(rawAt(text, ['result', 'missing']), undefined);
  assert.equal(rawAt(text, ['result', 'data', 'b', 'x']), undefined);
  // Every value found parses to what JSON.parse sees at that path.
  const parsed = JSON.parse(text) as { result: { subs: Record<string, { info: unknown }> } };
  assert.deepEqual(JSON.parse(rawAt(text, ['result', 'subs'])!), parsed.result.subs);
  // payloadField passes the source on byte for byte.
  const r = (JSON.parse(text) as { result: Record<string, unknown> }).result;
  assert.equal(new TextDecoder().decode(payloadField(r, 'data', 'b64data', { text, path: ['result'] })), rawAt(text, ['result', 'data']));
});

test('an endpoint with credentials in the URL calls the backend with Basic authorization, as Go does', async (t) => {
  const seen: Array<string | undefined> = [];
  const server = createServer((req, res) => {
    seen.push(req.headers.authorization);
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"result":{}}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  const port = (server.address() as AddressInfo).port;
  const observer = { proxyCall: () => undefined };
  const withUser = new HttpProxy('default', cfg(`http://app%40x:s%3Acret@127.0.0.1:${port}/p`), observer);
  assert.equal((await withUser.call('rpc', '{}', null)).kind, 'result');
  assert.equal(seen[0], `Basic ${Buffer.from('app@x:s:cret').toString('base64')}`);
  // An explicit Authorization header (static or forwarded) wins over the URL's credentials.
  const explicit = new HttpProxy('default', { ...cfg(`http://u:p@127.0.0.1:${port}/p`), http: { staticHeaders: { Authorization: 'Bearer k' }, statusToCodeTransforms: [] } }, observer);
  assert.equal((await explicit.call('rpc', '{}', null)).kind, 'result');
  assert.equal(seen[1], 'Bearer k');
  assert.ok(!withUser.endpoint.includes('cret'), 'the stored endpoint carries no credentials');
  // A '%' that starts no escape is kept, not a start-up crash.
  const stray = new HttpProxy('default', cfg(`http://u%zz:p@127.0.0.1:${port}/p`), observer);
  assert.equal((await stray.call('rpc', '{}', null)).kind, 'result');
  assert.equal(seen[2], `Basic ${Buffer.from('u%zz:p').toString('base64')}`);
});

test('many calls in flight on one connection share its close signal without a listener-leak warning', async (t) => {
  const { ProxyState } = await import('./wire.ts');
  const held: Array<() => void> = [];
  const calls = 20;
  const server = createServer((req, res) => {
    req.resume();
    held.push(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{"result":{}}'));
    if (held.length === calls) for (const answer of held) answer();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  const warnings: string[] = [];
  const onWarning = (w: Error): void => void warnings.push(w.name);
  process.on('warning', onWarning);
  t.after(() => process.off('warning', onWarning));
  const state = new ProxyState(null);
  const p = new HttpProxy('default', cfg(`http://127.0.0.1:${(server.address() as AddressInfo).port}/p`), { proxyCall: () => undefined });
  const replies = await Promise.all(Array.from({ length: calls }, () => p.call('sub_refresh', '{}', null, state.closed)));
  assert.ok(replies.every((r) => r.kind === 'result'));
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(warnings.filter((w) => w === 'MaxListenersExceededWarning'), []);
});
